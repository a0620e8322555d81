import { appendFile, readFile, rm } from 'node:fs/promises';
import type { LcSampleResult } from '@shortv/lc';
import { ShortvError } from '@shortv/tensor';
import { writeFileAtomic } from './files.ts';

const FORMAT = 'shortv.lc-partial';

/** What must match for earlier sample results to belong to this run. */
export interface LcRunIdentity {
  fingerprint: string;
  dataset: string;
  samples: number;
  seed: number;
  direction: string;
  aggregation: string;
}

/**
 * Per-sample LC results of a calibration in progress, next to its output (`lc.json.partial`): a header
 * line naming the run, then one JSON line per finished sample. Removed once lc.json is written.
 */
export class LcPartialFile {
  constructor(
    readonly path: string,
    private readonly identity: LcRunIdentity,
  ) {}

  /** Starts the file over with just its header. */
  async start(): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify({ format: FORMAT, version: 1, ...this.identity })}\n`);
  }

  async append(result: LcSampleResult): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(result)}\n`);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  /**
   * The samples an earlier run of the same calibration finished, or [] when there is no file. A last
   * line cut short by a hard kill is dropped; a file of another run is refused, naming what differs.
   */
  async read(): Promise<LcSampleResult[]> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new ShortvError('E_INPUT_RESUME', `cannot read ${this.path}: ${error.message}`);
    });
    if (text === undefined) return [];
    // Every whole line ends in a newline: the last piece is empty, or a line a hard kill cut short.
    const [headerLine, ...rest] = text.split('\n').slice(0, -1);
    const header = headerLine === undefined ? undefined : tryParse(headerLine);
    if (!isObject(header) || header.format !== FORMAT || header.version !== 1) {
      throw new ShortvError(
        'E_INPUT_RESUME',
        `${this.path} is not a partial calibration file; delete it or run without --resume`,
      );
    }
    for (const [key, value] of Object.entries(this.identity)) {
      if (header[key] !== value) {
        throw new ShortvError(
          'E_INPUT_RESUME',
          `${this.path} is of another calibration (${key} ${JSON.stringify(header[key])}, now ${JSON.stringify(value)}): run with the same options, or without --resume to start over`,
        );
      }
    }
    return rest.map((line, i) => {
      const value = tryParse(line);
      if (!isObject(value)) {
        throw new ShortvError(
          'E_INPUT_RESUME',
          `${this.path}:${i + 2} is not a sample result; delete the file to start over`,
        );
      }
      return value as unknown as LcSampleResult;
    });
  }
}

function tryParse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
