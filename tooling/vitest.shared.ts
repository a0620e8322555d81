import { defineConfig } from 'vitest/config';

// Resolve workspace packages to their TypeScript sources, so tests never need a build first.
const conditions = ['@shortv/source', 'import', 'module', 'node', 'default'];

export function packageTestConfig(options: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@shortv/source'] } },
    test: {
      include: ['test/**/*.test.ts'],
      // A hang guard, not a speed check: turbo runs several packages' suites at once on two cores,
      // where an ONNX test that takes 5 s alone can take 40 s.
      testTimeout: options.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
    },
  });
}
