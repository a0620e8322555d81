import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** The e2e suite tests the static site exactly as `pnpm --filter playground build` makes it. */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  await build({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', mode: 'production' });
}
