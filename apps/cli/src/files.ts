import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ShortvError } from '@shortv/tensor';

/** Writes a whole file or nothing: a temp file in the same folder, then rename over the target. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ShortvError('E_INPUT_OUT', `cannot create the folder ${dir}: ${error.message}`);
  });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new ShortvError('E_INPUT_OUT', `cannot write ${path}: ${(error as Error).message}`);
  }
}
