/**
 * Interrupted and concurrent builds, through the command line: SIGINT and SIGTERM in the middle
 * of compression remove what was staged and release the lock; after SIGKILL the next build
 * cleans up and takes over the stale lock; a second build on the same medium is refused while
 * the first runs. In every case the previous medium keeps its bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, fingerprint, mediacompose } from '../support/build.js';
import { compressionStarted, lockHolder, sleep, slowMedium, stagingFolders, startBuild } from './running-build.js';

let work: string;
let compose: string;
let medium: string;
/** The medium as the first build wrote it; every later build of the unchanged roots matches it. */
let original: Record<string, string>;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-interrupted-'));
  compose = slowMedium(work);
  medium = path.join(work, 'out');
  buildOk(compose, '--jobs', '1');
  original = fingerprint(path.join(medium, 'images'));
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const images = (): Record<string, string> => fingerprint(path.join(medium, 'images'));

describe('interrupting a build', () => {
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} in the middle of compression: exit ${status} at once, one line, staging removed, lock released`, async () => {
      const build = startBuild(compose);
      await compressionStarted(build, medium, 'a-x86_64.tar.xz');
      await sleep(200);
      const signalled = Date.now();
      process.kill(lockHolder(medium), signal);
      const r = await build.finished;
      // At once: not after the compressor finished its block (xz needs seconds for this one).
      expect(Date.now() - signalled).toBeLessThan(1500);
      expect(r.status).toBe(status);
      expect(r.stderr).toBe(`error: interrupted by ${signal}: staged files removed, the previous medium is unchanged\n`);
      expect(fs.readdirSync(medium)).toEqual(['images']);
      expect(images()).toEqual(original);
    }, 120_000);
  }

  it('SIGKILL in the middle of compression: the next build removes the debris and takes over the lock', async () => {
    const build = startBuild(compose);
    await compressionStarted(build, medium, 'a-x86_64.tar.xz');
    await sleep(200);
    const pid = lockHolder(medium);
    process.kill(pid, 'SIGKILL');
    expect((await build.finished).status).toBe(137);
    // What SIGKILL leaves: the staging folder and the lock, beside the untouched images.
    expect(fs.readdirSync(medium).sort()).toEqual([`.mediacompose-staging-${pid}`, '.mediacompose.lock', 'images'].sort());
    expect(images()).toEqual(original);

    const r = mediacompose('build', compose, '--quiet', '--jobs', '1');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^warning: took over the lock of pid ${pid} \\(started [^)]*\\), which no longer runs \\(.*\\.mediacompose\\.lock\\)$`, 'm'));
    expect(fs.readdirSync(medium)).toEqual(['images']);
    expect(images()).toEqual(original);
  }, 120_000);
});

describe('two builds at once', () => {
  it('refuses the second with exit 4 while the first runs; the first succeeds', async () => {
    const first = startBuild(compose);
    await compressionStarted(first, medium, 'a-x86_64.tar.xz');
    const pid = lockHolder(medium);
    const second = mediacompose('build', compose, '--quiet');
    expect(second.status).toBe(4);
    expect(second.stderr).toMatch(
      new RegExp(
        `^error: ${medium}: another build is writing this medium \\(pid ${pid}, started [^)]*\\) ` +
          `\\(wait for it to finish; if it no longer runs, remove ${medium}/\\.mediacompose\\.lock\\)\\n$`,
      ),
    );
    // The refused build touched nothing: the first build's staging is still there, alone.
    expect(stagingFolders(medium)).toEqual([`.mediacompose-staging-${pid}`]);
    expect(images()).toEqual(original);

    const r = await first.finished;
    expect(r.status).toBe(0);
    expect(fs.readdirSync(medium)).toEqual(['images']);
    expect(images()).toEqual(original);
  }, 120_000);
});
