/**
 * A build killed with SIGKILL and left a zombie: the next build takes the medium over. Runs
 * builds through the command line (the rest of the lock's cases are in lock.test.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/runtime/folder-lock.js';
import { BIN, buildOk, fingerprint, mediacompose } from '../support/build.js';
import { compressionStarted, lockHolder, sleep, slowMedium, stagingFolders } from './running-build.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-zombie-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Field 3 of /proc/PID/stat: R, S, D, T, Z (a zombie: exited, not reaped by its parent yet), ... */
function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

describe('a build killed with SIGKILL whose parent has not reaped it (a zombie)', () => {
  it('the next build takes over its lock, puts the previous images back and succeeds', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'zombie-'));
    const compose = slowMedium(dir);
    const out = path.join(dir, 'out');
    buildOk(compose, '--quiet');
    const before = fingerprint(path.join(out, 'images'));

    // The build's parent is `sleep` (the shell execs it), which never waits for its children.
    const parent = spawn('bash', ['-c', '"$@" >/dev/null 2>&1 & echo $!; exec sleep 600', 'sh', process.execPath, BIN, 'build', compose, '--quiet', '--jobs', '1', '--no-cache'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent);
    let echoed = '';
    parent.stdout!.setEncoding('utf8').on('data', (d: string) => (echoed += d));
    await compressionStarted({ finished: new Promise(() => {}) }, out, 'a-x86_64.tar.xz');
    const pid = lockHolder(out);
    expect(Number(echoed.trim())).toBe(pid);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && processState(pid) !== 'Z'; i++) await sleep(20);
    expect(processState(pid)).toBe('Z');
    expect(stagingFolders(out)).toEqual([`.mediacompose-staging-${pid}`]);
    // What the same kill leaves between the two renames of the swap: images/ moved into its staging folder.
    fs.renameSync(path.join(out, 'images'), path.join(out, `.mediacompose-staging-${pid}`, 'previous'));

    const r = mediacompose('build', compose, '--quiet');
    expect(processState(pid)).toBe('Z'); // still not reaped: the build did not wait for that
    expect(r.stderr).toContain(`took over the lock of pid ${pid} (started `);
    expect(r.stderr).toContain(`), which no longer runs (${path.join(out, LOCK_FILE)})`);
    expect(r.stderr).toContain(`restored ${out}/images: a build was interrupted while swapping it`);
    expect(r.stderr).not.toContain('another build is writing this medium');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out)).toEqual(['images']);
    expect(fingerprint(path.join(out, 'images'))).toEqual(before);
    expect(mediacompose('verify', compose).status).toBe(0);
  }, 120_000);
});
