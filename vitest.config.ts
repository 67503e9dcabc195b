import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit`, the everyday loop (`npm run test:unit`, under a minute), and `slow`:
 * what builds real roots (debootstrap), rpm roots (rpmbuild, zypper), installs the packed package or
 * compresses many megabytes. `npm test` runs both.
 */
const SLOW = [
  'test/e2e/**/*.test.ts',
  'test/prepare/**/*.test.ts',
  'test/details/rpms.test.ts',
  'test/details/repack.test.ts',
  'test/package/**/*.test.ts',
  'test/archive/xz-encoder.test.ts',
  'test/archive/estimate.test.ts',
  'test/ux/progress.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['test/support/cache-folder.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
