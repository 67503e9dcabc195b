/**
 * An interrupted swap and reading during a build (cases 8 and 10 of the hostile-media review).
 * A build killed between the two renames that swap images/ in leaves no images/, the previous
 * one in its staging folder: every command that takes the lock puts it back at once (also a
 * build that then fails), and the read-only commands name the state and the repairing command.
 * verify refuses to read a medium a build is writing, and notices a swap while it read (a real
 * build, run while verify waits for its bzip2 decompressor).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildOk, composeYaml, fingerprint, mediacompose, writeCompose, writeTwoSmallRoots } from '../support/build.js';
import { type Work, smallMedium } from './hostile.js';
import { compressionStarted, lockHolder, sleep, slowMedium, startBuild } from './running-build.js';
import { makeSocket } from '../support/tree.js';

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
    makeSocket(socket);
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

  it.skipIf(spawnSync('strace', ['-V']).status !== 0)('a real SIGKILL between the two renames (strace delivers it): the next details puts the previous images back', () => {
    // A build of changed roots; strace lists its renames, then kills a second run of it on the
    // rename that would move the staged images/ into place.
    const added = path.join(work.dir, 'roots', 'a', 'etc', 'added');
    fs.writeFileSync(added, 'new\n');
    const log = path.join(work.dir, 'renames.log');
    const strace = (...extra: string[]): ReturnType<typeof spawnSync> =>
      spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=rename,renameat,renameat2', ...extra, process.execPath, BIN, 'build', work.compose, '--quiet', '--no-cache'], { encoding: 'utf8' });
    try {
      expect(strace().status).toBe(0);
      const renames = fs.readFileSync(log, 'utf8').split('\n').filter((l) => / rename(at2?)?\(/.test(l));
      const swap = renames.findIndex((l) => /\.mediacompose-staging-\d+\/images", "[^"]*\/out\/images"/.test(l)) + 1;
      expect(swap).toBeGreaterThan(1);
      // That run put the changed medium in place: back to the unchanged one for the killed run.
      fs.rmSync(added);
      expect(mediacompose('build', work.compose, '--quiet', '--no-cache').status).toBe(0);
      const before = fingerprint(path.join(work.medium, 'images'));
      fs.writeFileSync(added, 'new\n');

      const killed = strace(`--inject=rename,renameat,renameat2:signal=SIGKILL:when=${swap}`);
      expect(killed.signal ?? killed.status).not.toBe(0);
      expect(fs.existsSync(path.join(work.medium, 'images'))).toBe(false);
      const left = fs.readdirSync(work.medium).map((n) => path.join(work.medium, n, 'previous')).filter((p) => fs.existsSync(p));
      expect(left).toHaveLength(1);
      expect(fingerprint(left[0]!)).toEqual(before);
      expect(mediacompose('verify', work.compose).status).toBe(3);

      const r = mediacompose('details', work.medium);
      expect(r.stderr).toContain(`restored ${work.medium}/images: a build was interrupted while swapping it`);
      expect(r.status).toBe(0);
      expect(fingerprint(path.join(work.medium, 'images'))).toEqual(before);
    } finally {
      fs.rmSync(added, { force: true });
    }
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

  it('a build that swaps images/ in while verify reads it: verify says so (exit 3)', async () => {
    // A bzip2 medium: verify reads it through the bzip2 program, which a gate in front of it on
    // PATH holds until told to go. verify has then taken the medium's generation (archives are
    // read after that), and a whole build swaps images/ in before it reads on.
    const dir = path.join(work.dir, 'swap-while-reading');
    writeTwoSmallRoots(dir);
    const compose = writeCompose(dir, composeYaml({ medium: 'out', compression: 'bzip2', level: 9, imagesets: [{ name: 'a', patterns: ['base', 'a'], root: 'roots/a' }, { name: 'b', patterns: ['base', 'b'], root: 'roots/b' }], images: [{ name: 'common', sharedBy: 'all' }] }));
    buildOk(compose);
    const gate = path.join(dir, 'gate');
    fs.mkdirSync(gate);
    const real = execFileSync('sh', ['-c', 'command -v lbzip2 || command -v bzip2'], { encoding: 'utf8' }).trim();
    for (const name of ['lbzip2', 'bzip2']) {
      fs.writeFileSync(path.join(gate, name), `#!/bin/sh
touch "${gate}/waiting"
while [ ! -e "${gate}/go" ]; do sleep 0.05; done
exec "${real}" "$@"
`, { mode: 0o755 });
    }
    const verify = spawn(process.execPath, [BIN, 'verify', compose, '--quiet'], { env: { ...process.env, PATH: `${gate}:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    verify.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const status = new Promise<number | null>((resolve) => verify.on('close', (code) => resolve(code)));
    while (!fs.existsSync(path.join(gate, 'waiting'))) {
      if (verify.exitCode !== null) throw new Error(`verify ended before reading an archive: ${stderr}`);
      await sleep(20);
    }

    const before = fs.statSync(path.join(dir, 'out', 'images')).ino;
    buildOk(compose);
    expect(fs.statSync(path.join(dir, 'out', 'images')).ino).not.toBe(before);
    fs.writeFileSync(path.join(gate, 'go'), '');

    expect(await status).toBe(3);
    expect(stderr).toBe(`error: ${dir}/out: a build is writing this medium: it replaced images/ while verify read it (run verify again when the build has finished)\n`);
    expect(mediacompose('verify', compose, '--quiet').status).toBe(0);
  }, 120_000);
});
