/** One golden question of the bundled model, as the site's `samples/index.json` lists it. */
export interface PlaygroundSample {
  id: string;
  /** File name under `samples/`. */
  image: string;
  family: string;
  question: string;
  expectedAnswer: string;
  /** Prompt tokens besides the image's: what a typical question costs the decoder. */
  textTokens: number;
}
