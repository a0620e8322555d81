import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ShortvError } from '@shortv/tensor';
import { openFileSource } from '@shortv/tensor/node';
import { fileNotFound, type ModelFolder } from '../weights/folder.ts';

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/** A model folder on local disk. */
export function nodeModelFolder(dir: string): ModelFolder {
  const root = resolve(dir);
  const path = (file: string): string => {
    if (file.split('/').includes('..') || file.startsWith('/')) {
      throw new ShortvError(
        'E_MODEL_FILE_NAME',
        `${file} is not a file name inside the model folder ${root}`,
      );
    }
    return join(root, file);
  };
  return {
    location: root,
    async readText(file) {
      try {
        return await readFile(path(file), 'utf8');
      } catch (error) {
        if (isNotFound(error)) throw fileNotFound(root, file);
        throw error;
      }
    },
    async open(file) {
      try {
        return await openFileSource(path(file));
      } catch (error) {
        if (error instanceof ShortvError && error.code === 'E_FILE_NOT_FOUND') throw fileNotFound(root, file);
        throw error;
      }
    },
    async exists(file) {
      try {
        return (await stat(path(file))).isFile();
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    async list() {
      try {
        const entries = await readdir(root, { withFileTypes: true });
        return entries
          .filter((e) => e.isFile())
          .map((e) => e.name)
          .sort();
      } catch (error) {
        if (isNotFound(error)) {
          throw new ShortvError('E_MODEL_FOLDER_NOT_FOUND', `model folder ${root} does not exist`);
        }
        throw error;
      }
    },
  };
}
