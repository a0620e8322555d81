import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { openLlavaModel, type TransformersJsFile, transformersJsFiles } from '@shortv/models';
import { nodeModelFolder } from '@shortv/models/node';
import { checkPlanForModel, type FreezePlan } from '@shortv/plan';
import { readModelFiles } from '@shortv/runtime-core';
import { ShortvError } from '@shortv/tensor';

/** Folder layouts `exportModel` writes. */
export const EXPORT_FORMATS = ['transformers.js'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRequest {
  /** A Hugging Face LLaVA folder. */
  readonly modelDir: string;
  /** The folder to create: absent, or an empty folder. */
  readonly outDir: string;
  readonly format: string;
  /** With a plan, the exported decoder freezes its layers' visual rows (ShortV form). */
  readonly plan?: FreezePlan | null;
  /** Graphs with more tensor bytes than this keep them in `onnx/<name>.onnx_data` (default 1.5e9). */
  readonly externalDataAbove?: number;
}

export interface ExportResult {
  readonly format: ExportFormat;
  readonly outDir: string;
  readonly form: 'dense' | 'shortv';
  readonly frozenLayers: readonly number[];
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
}

export function checkExportFormat(format: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new ShortvError(
      'E_EXPORT_FORMAT',
      `unknown export format '${format}'; supported: ${EXPORT_FORMATS.join(', ')}`,
    );
  }
  return format as ExportFormat;
}

/** Refuses an `--out` that holds anything: an export never mixes with or overwrites other files. */
export async function checkExportTarget(outDir: string): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(outDir);
    if (!info.isDirectory()) {
      throw new ShortvError(
        'E_EXPORT_OUT_EXISTS',
        `${outDir} exists and is not a folder; choose a new folder for the export`,
      );
    }
    entries = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0) {
    throw new ShortvError(
      'E_EXPORT_OUT_EXISTS',
      `${outDir} is not empty (${entries.length} entries); choose a new or empty folder, or remove it first`,
    );
  }
}

/** The frozen layers of a plan the merged decoder can run: ShortV freezing only, no row drops. */
export function exportableFrozenLayers(plan: FreezePlan): number[] {
  if (plan.prune !== null || plan.withdraw !== null) {
    throw new ShortvError(
      'E_EXPORT_PLAN_UNSUPPORTED',
      'the plan drops visual rows (FastV prune or VTW withdraw), which a transformers.js merged decoder cannot express: its cache must hold every row in every layer; export a plan with only frozen layers',
    );
  }
  return plan.layers
    .filter((l) => l.visual === 'freeze')
    .map((l) => l.index)
    .sort((a, b) => a - b);
}

async function writeFile(path: string, file: TransformersJsFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'wx');
  try {
    for (const chunk of file.chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

/**
 * Writes a model folder in another runtime's layout. Everything is written into a temporary sibling folder
 * first and renamed into place at the end, so a failure (bad plan, full disk) leaves no partial export.
 */
export async function exportModel(request: ExportRequest): Promise<ExportResult> {
  const format = checkExportFormat(request.format);
  const outDir = resolve(request.outDir);
  await checkExportTarget(outDir);
  const folder = nodeModelFolder(request.modelDir);
  const files = await readModelFiles(folder);
  const plan = request.plan ?? null;
  let frozenLayers: number[] = [];
  if (plan) {
    checkPlanForModel(plan, {
      numLayers: files.config.text.numLayers,
      fingerprint: files.fingerprint,
      architecture: 'llava',
      hiddenSize: files.config.text.hiddenSize,
    });
    frozenLayers = exportableFrozenLayers(plan);
  }
  const model = await openLlavaModel(folder);
  const weights = await model.weights.readAll();
  await model.weights.close();
  const output = await transformersJsFiles(
    folder,
    files.config,
    weights,
    { frozenLayers },
    request.externalDataAbove === undefined ? {} : { externalDataAbove: request.externalDataAbove },
  );
  await mkdir(dirname(outDir), { recursive: true });
  const staging = join(dirname(outDir), `.${basename(outDir)}.partial-${randomBytes(6).toString('hex')}`);
  try {
    for (const file of output) await writeFile(join(staging, file.path), file);
    await checkExportTarget(outDir);
    await rmdir(outDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, outDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return {
    format,
    outDir,
    form: frozenLayers.length > 0 ? 'shortv' : 'dense',
    frozenLayers,
    files: output.map((f) => ({ path: f.path, bytes: f.chunks.reduce((n, c) => n + c.byteLength, 0) })),
  };
}
