import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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

/** The nearest folder on the way up from `path` that exists, or a user error if a file is in the way. */
async function nearestFolder(path: string, flag: string): Promise<string> {
  let dir = dirname(resolve(path));
  for (;;) {
    const info = await stat(dir).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) {
        throw new ShortvError(
          'E_INPUT_OUT',
          `--${flag} ${path}: ${dir} is a file, so no folder can be made there; choose another path`,
        );
      }
      await access(dir, constants.W_OK).catch(() => {
        throw new ShortvError('E_INPUT_OUT', `--${flag} ${path}: the folder ${dir} is not writable`);
      });
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

/** Checks before any work that `path` can be written as a file, so a long run does not fail at its end. */
export async function checkOutputFile(path: string, flag = 'out'): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new ShortvError(
      'E_INPUT_OUT',
      `--${flag} ${path} is a folder; give a file path, e.g. ${join(path, 'out.json')}`,
    );
  }
  if (info) {
    await access(path, constants.W_OK).catch(() => {
      throw new ShortvError('E_INPUT_OUT', `--${flag} ${path} exists and is not writable`);
    });
  }
  await nearestFolder(path, flag);
}

/** Checks before any work that `path` is, or can be made, a writable folder. */
export async function checkOutputFolder(path: string, flag = 'out'): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new ShortvError('E_INPUT_OUT', `--${flag} ${path} is a file; give a folder path`);
  }
  if (info) {
    await access(path, constants.W_OK).catch(() => {
      throw new ShortvError('E_INPUT_OUT', `--${flag} ${path} is a folder that is not writable`);
    });
    return;
  }
  await nearestFolder(path, flag);
}
