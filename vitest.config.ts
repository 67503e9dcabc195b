import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit`, the everyday loop (`npm run test:unit`, under a minute): the pure and
 * in-process tests of every stage; and `slow`: what runs the command line end to end on built
 * media, builds real roots (debootstrap), rpm roots (rpmbuild, zypper), installs the packed
 * package or compresses many megabytes. `npm test` runs both.
 */
const SLOW = [
  'test/e2e/**/*.test.ts',
  'test/prepare/**/*.test.ts',
  'test/package/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/checksums/**/*.test.ts',
  'test/installer-rules/**/*.test.ts',
  'test/reliability/!(lock|recheck).test.ts',
  'test/details/{cli,rpms,repack}.test.ts',
  'test/verify/verify.test.ts',
  'test/pkgdb/presence.test.ts',
  'test/cache/{cache,shard,unchanged-files}.test.ts',
  'test/archive/{xz-encoder,estimate}.test.ts',
  'test/ux/{progress,init}.test.ts',
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
