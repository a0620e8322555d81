/** The benchmark file layouts `shortv eval` reads. */
export type BenchmarkFormat = 'shapes' | 'pope' | 'vqa' | 'gqa' | 'mme';

export const BENCHMARK_FORMATS: readonly BenchmarkFormat[] = ['shapes', 'pope', 'vqa', 'gqa', 'mme'];

/** Where an item or a problem comes from: a file and its 1-based line. */
export interface SourceLine {
  file: string;
  line: number;
}

/** One question of a benchmark, in a layout-free form. */
export interface BenchmarkItem {
  id: string;
  format: BenchmarkFormat;
  /** Family / category / answer type the item is scored under. */
  category: string;
  question: string;
  /** Reference answers: one for most layouts, the annotators' ten for VQA. */
  answers: string[];
  /**
   * The image as the file names it: a path (relative to the file's folder, or absolute) or, for layouts that
   * name images by id, the id (matched against image file names).
   */
  image: string;
  /** Items sharing a group are one image's questions (MME's acc+). */
  group?: string;
  source: SourceLine;
}

/** A line that could not be used: malformed, or naming an image that is not there. */
export interface BenchmarkIssue extends SourceLine {
  kind: 'malformed' | 'missing-image';
  message: string;
}

export interface ParsedBenchmark {
  items: BenchmarkItem[];
  issues: BenchmarkIssue[];
}
