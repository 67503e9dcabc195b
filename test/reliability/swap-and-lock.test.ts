/**
 * An interrupted swap and reading during a build (cases 8 and 10 of the hostile-media review).
 * A build killed between the two renames that swap images/ in leaves no images/, the previous
 * one in its staging folder: every command that takes the lock puts it back at once (also a
 * build that then fails), and the read-only commands name the state and the repairing command.
 * verify refuses to read a medium a build is writing, and notices a swap while it read.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, mediacompose } from '../support/build.js';
import { type Work, smallMedium } from './hostile.js';
import { compressionStarted, lockHolder, slowMedium, startBuild } from './running-build.js';

let work: Work;
let previous: Record<string, string>;
beforeAll(() => {
  work = smallMedium('mc-swap-');
  previous = fingerprint(path.join(work.medium, 'images'));
}, 60_000);
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

/**
 * The state SIGKILL leaves between the two renames of the swap: the previous images folder in
 * the killed build's staging folder (a pid that no longer runs), no images/, the stale lock.
 */
function interruptSwap(): string {
  // A pid that no longer runs: spawnSync waits for (and reaps) its child.
  const dead = String(spawnSync('true').pid);
  const staging = path.join(work.medium, `.mediacompose-staging-${dead}`);
  fs.mkdirSync(path.join(staging, 'images'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'images', 'half-written.tar.gz'), 'x');
  fs.renameSync(path.join(work.medium, 'images'), path.join(staging, 'previous'));
  fs.writeFileSync(path.join(work.medium, '.mediacompose.lock'), `${JSON.stringify({ pid: Number(dead), host: os.hostname(), started: '2026-01-01T00:00:00.000Z' })}\n`);
  return path.join(staging, 'previous');
}

describe('case 8: an interrupted swap', () => {
  it('details --check and verify name the state and the command that repairs it (exit 3)', () => {
    const moved = interruptSwap();
    const hint = `(run \`mediacompose build COMPOSE\` or \`mediacompose details ${work.medium}\` to put them back)`;
    const d = mediacompose('details', work.medium, '--check');
    expect(d.status).toBe(3);
    expect(d.stderr).toBe(`error: ${work.medium}: no images/: a build was interrupted while swapping it in, the previous images are in ${moved} ${hint}\n`);
    const v = mediacompose('verify', work.compose);
    expect(v.status).toBe(3);
    expect(v.stderr).toContain(`error: ${work.medium}: no images/: a build was interrupted while swapping it in, the previous images are in ${moved} ${hint}\n`);
    // Read-only: nothing moved.
    expect(fs.existsSync(path.join(work.medium, 'images'))).toBe(false);
    expect(fingerprint(moved)).toEqual(previous);
  });

  it('details (which takes the lock) puts the previous images back, then works', () => {
    // The state the previous test left, or a new one.
    const left = fs.readdirSync(work.medium).map((n) => path.join(work.medium, n, 'previous')).find((p) => fs.existsSync(p));
    const moved = fs.existsSync(path.join(work.medium, 'images')) ? interruptSwap() : left!;
    expect(fs.existsSync(path.join(moved, 'images.xml'))).toBe(true);
    const r = mediacompose('details', work.medium);
    expect(r.stderr).toContain(`restored ${work.medium}/images: a build was interrupted while swapping it`);
    expect(r.status).toBe(0);
    expect(fingerprint(path.join(work.medium, 'images'))).toEqual(previous);
  });

  it('a build that fails after taking the lock (--strict) still puts the previous images back', () => {
    // The lock is stale (its pid no longer runs); a socket in a root is a --strict failure.
    interruptSwap();
    const socket = path.join(work.dir, 'roots', 'a', 'sock');
    execFileSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(socket)})`]);
    try {
      const r = mediacompose('build', work.compose, '--quiet', '--strict');
      expect(r.status).toBe(3);
      expect(r.stderr).toContain('--strict: 1 warning about the roots');
      expect(r.stderr).toContain(`restored ${work.medium}/images: a build was interrupted while swapping it`);
      expect(fingerprint(path.join(work.medium, 'images'))).toEqual(previous);
      expect(fs.readdirSync(work.medium).filter((n) => n !== 'images').every((n) => n.startsWith('.mediacompose-staging-'))).toBe(true);
    } finally {
      fs.rmSync(socket);
    }
    // The next build cleans the debris and writes the same medium.
    expect(mediacompose('build', work.compose, '--quiet').status).toBe(0);
    expect(fs.readdirSync(work.medium)).toEqual(['images']);
    expect(fingerprint(path.join(work.medium, 'images'))).toEqual(previous);
  });
});

describe('case 10: verify while a build writes the medium', () => {
  it('says "a build is writing this medium" (exit 3), and the build goes on', async () => {
    const dir = path.join(work.dir, 'slow');
    fs.mkdirSync(dir);
    const compose = slowMedium(dir);
    const build = startBuild(compose);
    await compressionStarted(build, path.join(dir, 'out'), 'a-x86_64.tar.xz');
    const pid = lockHolder(path.join(dir, 'out'));
    const v = mediacompose('verify', compose);
    expect(v.status).toBe(3);
    expect(v.stderr).toMatch(new RegExp(`^error: ${dir}/out: a build is writing this medium \\(pid ${pid}, started [^)]+\\) \\(wait for it to finish, then run this again\\)\\n$`, 'm'));
    expect((await build.finished).status).toBe(0);
    expect(mediacompose('verify', compose).status).toBe(0);
  }, 120_000);
});
