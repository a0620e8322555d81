import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileSource, openSafetensorsFile } from '../src/node/index.ts';

describe('file sources over a path that is not a file', () => {
  it('names a directory where a file is expected instead of failing on the first read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shortv-tensor-dir-'));
    const path = join(dir, 'model.safetensors');
    await mkdir(path);
    await expect(openFileSource(path)).rejects.toMatchObject({
      code: 'E_FILE_NOT_A_FILE',
      message: expect.stringContaining('is not a file (it is a directory)'),
    });
    await expect(openSafetensorsFile(path)).rejects.toMatchObject({ code: 'E_FILE_NOT_A_FILE' });
  });
});
