import { packageTestConfig } from '../../tooling/vitest.shared.ts';

const config = packageTestConfig({ testTimeout: 240_000 });
// Unit tests of the page's logic, and the end-to-end suite in headless Chromium (e2e/).
config.test = {
  ...config.test,
  include: ['test/**/*.test.ts', 'e2e/**/*.e2e.test.ts'],
  hookTimeout: 300_000,
  fileParallelism: false,
};
export default config;
