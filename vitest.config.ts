import { defineConfig } from 'vitest/config';

// One project per package so `vitest` at the root runs everything; turbo runs each package's own config.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
