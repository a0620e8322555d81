import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { ShortvError } from '@shortv/tensor';
import { buildManifest, generateSamplePng } from '../records.ts';
import { checkSampleKey, MAX_COUNT } from '../scene.ts';
import { FAMILIES, type Family, type Split } from '../vocabulary.ts';

export interface WriteShapesOptions {
  outDir: string;
  /** Number of images. */
  count: number;
  seed: number;
  split?: Split;
  /** Image side in pixels (multiple of 3). */
  size?: number;
  /** Allow a non-empty outDir: earlier dataset files there are replaced. */
  force?: boolean;
  /** Called after each image with (images written, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface WriteShapesResult {
  outDir: string;
  split: Split;
  seed: number;
  size: number;
  images: number;
  questions: number;
  families: Record<Family, number>;
}

const TMP = '.tmp';
const OWN_IMAGE = /^(train|calibration|test)-\d+-\d{6}\.png(\.tmp)?$/;
const OWN_FILES = ['manifest.json', 'scenes.jsonl', 'data.jsonl'];

function outDirError(code: string, outDir: string, reason: string, cause?: unknown): ShortvError {
  return new ShortvError(code, `cannot write the dataset to ${outDir}: ${reason}`, { cause });
}

/** Makes outDir exist and be ours to write; with force, removes an earlier dataset's files. */
function prepareOutDir(outDir: string, force: boolean): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) {
      throw outDirError(
        'E_DATA_OUT_NOT_DIR',
        outDir,
        'it exists and is not a directory. Choose another --out.',
      );
    }
    const entries = readdirSync(outDir);
    if (entries.length > 0 && !force) {
      throw outDirError(
        'E_DATA_OUT_NOT_EMPTY',
        outDir,
        `the directory is not empty (${entries.length} entries). Pass --force to replace a dataset there, or choose an empty directory.`,
      );
    }
  } else {
    try {
      mkdirSync(outDir, { recursive: true });
    } catch (error) {
      throw outDirError(
        'E_DATA_OUT_UNWRITABLE',
        outDir,
        `it cannot be created (${(error as Error).message}).`,
        error,
      );
    }
  }
  try {
    accessSync(outDir, constants.W_OK);
  } catch (error) {
    throw outDirError('E_DATA_OUT_UNWRITABLE', outDir, 'the directory is not writable.', error);
  }
  // The manifest goes first: a folder without one reads as unfinished until the new one lands.
  for (const name of OWN_FILES) rmSync(join(outDir, name), { force: true });
  for (const name of OWN_FILES) rmSync(join(outDir, name + TMP), { force: true });
  const images = join(outDir, 'images');
  if (existsSync(images)) {
    if (!statSync(images).isDirectory()) {
      throw outDirError('E_DATA_OUT_NOT_DIR', outDir, `${images} exists and is not a directory.`);
    }
    for (const name of readdirSync(images)) if (OWN_IMAGE.test(name)) unlinkSync(join(images, name));
  }
  mkdirSync(images, { recursive: true });
}

/** Writes whole files only: the final name appears once the content is complete. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  writeFileSync(path + TMP, data);
  renameSync(path + TMP, path);
}

/** Appends text lines to a temporary file in large chunks; commit() renames it into place. */
class LineFile {
  private readonly fd: number;
  private chunks: string[] = [];
  private pending = 0;

  constructor(private readonly path: string) {
    this.fd = openSync(path + TMP, 'w');
  }

  add(line: string): void {
    this.chunks.push(line, '\n');
    this.pending += line.length + 1;
    if (this.pending > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.chunks.length > 0) writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.pending = 0;
  }

  commit(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.path + TMP, this.path);
  }

  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed by commit().
    }
    rmSync(this.path + TMP, { force: true });
  }
}

/**
 * Generates `count` images of one split into outDir: images/*.png, scenes.jsonl (one line per
 * image), data.jsonl (one line per question) and manifest.json, written last. Every file is
 * written under a temporary name and renamed, so an interrupted run leaves no partial file.
 */
export async function writeShapesDataset(options: WriteShapesOptions): Promise<WriteShapesResult> {
  const split = options.split ?? 'train';
  const { seed, size } = checkSampleKey({ split, seed: options.seed, index: 0, size: options.size });
  const count = options.count;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new ShortvError('E_INPUT_COUNT', `count must be an integer from 1 to ${MAX_COUNT}, got ${count}.`);
  }
  const outDir = resolve(options.outDir);
  prepareOutDir(outDir, options.force === true);

  const families = Object.fromEntries(FAMILIES.map((f) => [f, 0])) as Record<Family, number>;
  const scenes = new LineFile(join(outDir, 'scenes.jsonl'));
  const data = new LineFile(join(outDir, 'data.jsonl'));
  let questions = 0;
  try {
    for (let index = 0; index < count; index++) {
      const sample = generateSamplePng({ split, seed, index, size });
      writeAtomic(join(outDir, sample.scene.image), sample.png);
      scenes.add(JSON.stringify(sample.scene));
      for (const q of sample.questions) {
        data.add(JSON.stringify(q));
        families[q.family]++;
      }
      questions += sample.questions.length;
      options.onProgress?.(index + 1, count);
    }
    scenes.commit();
    data.commit();
  } catch (error) {
    scenes.abandon();
    data.abandon();
    throw error;
  }
  const manifest = buildManifest({ split, seed, count, questions, size });
  writeAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { outDir, split, seed, size, images: count, questions, families };
}
