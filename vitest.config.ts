import os from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Two projects, told apart by the file name: `unit` (`*.test.ts`), the everyday loop
 * (`npm run test:unit`, under 30 s): the pure and in-process tests of every stage; and `slow`
 * (`*.slow.test.ts`): what runs the command line end to end on built media, builds real roots
 * (debootstrap), rpm roots (rpmbuild, zypper), installs the packed package or compresses many
 * megabytes. A new test file is a unit test unless its name ends in `.slow.test.ts`.
 * `npm test` runs both. `npm run coverage` runs the unit project with V8 coverage of src/ (into
 * coverage/): only code run in the test processes counts, not the compiled command line that
 * some tests run as a child process.
 */
const SLOW = 'test/**/*.slow.test.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['test/support/cache-folder.ts'],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text'],
      reportsDirectory: 'coverage/unit',
    },
    projects: [
      // Two at a time: the unit files are short, and one worker (the default on two cores) leaves
      // a core idle. The slow files keep the default (they time signals and compress for
      // seconds); projects with other worker counts run one after the other, unit first.
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [SLOW], maxWorkers: Math.max(2, os.availableParallelism()), sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'slow', include: [SLOW], sequence: { groupOrder: 1 } } },
    ],
  },
});
