import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EncodedModel } from './encode.ts';

/**
 * Writes an encoded model as `dir/fileName` plus, when it has one, its external data file beside it (the
 * chunks are streamed one after another, so models larger than any single buffer can be written).
 * Returns the model's path, ready for `InferenceSession.create(path)`.
 */
export async function writeModelFiles(dir: string, fileName: string, encoded: EncodedModel): Promise<string> {
  const modelPath = join(dir, fileName);
  if (encoded.externalData) {
    const handle = await open(join(dir, encoded.externalData.location), 'w');
    try {
      for (const chunk of encoded.externalData.chunks) await handle.write(chunk);
    } finally {
      await handle.close();
    }
  }
  await writeFile(modelPath, encoded.bytes);
  return modelPath;
}
