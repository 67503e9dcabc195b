/**
 * Signals during long work (case 13 of the hostile-media review): a build comparing two big
 * files and `details` extracting a big package database stop within 2 s of SIGINT or SIGTERM,
 * with the signal's status, the lock released, the previous medium intact and no temporary
 * package-database folder left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, fingerprint } from '../support/build.js';
import { type Work, smallMedium, tarHeader } from './hostile.js';
import { sleep } from './running-build.js';

const GiB = 1024 ** 3;
/** How long a command may take to die after the signal. */
const BOUND_MS = 2000;

let work: Work;
let previous: Record<string, string>;
beforeAll(() => {
  work = smallMedium('mc-signals-');
  previous = fingerprint(path.join(work.medium, 'images'));
}, 60_000);
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

/** Starts mediacompose under a shell that prints its exit status as $? reports it. */
function start(env: NodeJS.ProcessEnv, ...args: string[]) {
  const child = spawn('bash', ['-c', '"$@" >/dev/null 2>&3 3>&-; echo "$?"', 'sh', process.execPath, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (d: string) => (err += d));
  const finished = new Promise<{ status: number; stderr: string }>((resolve) => child.on('close', () => resolve({ status: Number(out.trim()), stderr: err })));
  return { finished, stderr: () => err };
}

/** The pid of the node process running `mediacompose <command>` under this test. */
function pidOf(command: string): number | undefined {
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0] === process.execPath && argv[1] === BIN && argv[2] === command && argv.includes(work.dir) === false && argv.some((a) => a.startsWith(work.dir))) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('case 13: signals during synchronous work', () => {
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`build comparing two 4 GiB files: ${signal} ends it within ${BOUND_MS} ms, exit ${status}`, async () => {
      // Same path, size and time in both roots: the build digests both to compare them.
      const files = ['a', 'b'].map((name) => path.join(work.dir, 'roots', name, 'big'));
      for (const file of files) {
        const fd = fs.openSync(file, 'w');
        fs.ftruncateSync(fd, 4 * GiB);
        fs.closeSync(fd);
        fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
      }
      try {
        const build = start({}, 'build', work.compose, '--quiet');
        const pid = await waitFor('the build', () => pidOf('build'));
        // The scan of these small roots takes milliseconds; the comparison seconds.
        await waitFor('the lock', () => (fs.existsSync(path.join(work.medium, '.mediacompose.lock')) ? true : undefined));
        await sleep(700);
        const signalled = Date.now();
        process.kill(pid, signal);
        const r = await build.finished;
        expect(Date.now() - signalled).toBeLessThan(BOUND_MS);
        expect(r.status).toBe(status);
        expect(r.stderr).toContain(`error: interrupted by ${signal}: staged files removed, the previous medium is unchanged\n`);
        expect(fs.readdirSync(work.medium)).toEqual(['images']);
        expect(fingerprint(path.join(work.medium, 'images'))).toEqual(previous);
      } finally {
        for (const file of files) fs.rmSync(file, { force: true });
      }
    }, 120_000);
  }

  it(`verify comparing a 1 GiB file: SIGTERM ends it within ${BOUND_MS} ms, exit 143`, async () => {
    const file = path.join(work.dir, 'roots', 'a', 'big');
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, GiB);
    fs.closeSync(fd);
    try {
      const built = spawnSync(process.execPath, [BIN, 'build', work.compose, '--quiet'], { encoding: 'utf8' });
      expect(built.status).toBe(0);
      const verify = start({}, 'verify', work.compose);
      const pid = await waitFor('verify', () => pidOf('verify'));
      // Archives are read first; the comparison with the roots starts after "scanned".
      await waitFor('the comparison', () => (verify.stderr().includes('scanned roots/a') ? true : undefined));
      await sleep(300);
      const signalled = Date.now();
      process.kill(pid, 'SIGTERM');
      const r = await verify.finished;
      expect(Date.now() - signalled).toBeLessThan(BOUND_MS);
      expect(r.status).toBe(143);
      expect(r.stderr).toContain('error: interrupted by SIGTERM');
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 180_000);

  it(`details extracting a big package database: SIGTERM ends it within ${BOUND_MS} ms, no mediacompose-pkgdb-* left`, async () => {
    const meta = path.join(work.medium, 'images', 'a-meta-x86_64.tar.gz');
    const saved = fs.readFileSync(meta);
    const tmp = path.join(work.dir, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    // A 200 MiB status (under the 256 MiB cap), really present: extracting it takes a while.
    const dirs = ['var/', 'var/lib/', 'var/lib/dpkg/'].map((name) => gzipSync(tarHeader({ name, type: '5' })));
    const body = gzipSync(Buffer.alloc(20 << 20, 'Package: x\n'));
    fs.writeFileSync(meta, Buffer.concat([...dirs, gzipSync(tarHeader({ name: 'var/lib/dpkg/status', size: 200 << 20 })), ...Array.from({ length: 10 }, () => body), gzipSync(Buffer.alloc(1024 + 6656))]));
    try {
      const details = start({ TMPDIR: tmp }, 'details', work.medium, '--check');
      const pid = await waitFor('details', () => pidOf('details'));
      await waitFor('the temporary root', () => (fs.readdirSync(tmp).some((n) => n.startsWith('mediacompose-pkgdb-')) ? true : undefined));
      await sleep(50);
      const signalled = Date.now();
      process.kill(pid, 'SIGTERM');
      const r = await details.finished;
      expect(Date.now() - signalled).toBeLessThan(BOUND_MS);
      expect(r.status).toBe(143);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.writeFileSync(meta, saved);
    }
  }, 120_000);

  it('init in a folder under /proc ends at once (exit 4) instead of spinning where no signal gets in', () => {
    // Killed after 20 s if it spins (status null); it ends with its own status in well under that.
    const r = spawnSync(process.execPath, [BIN, 'init', '/proc/nope'], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect(r.signal).toBe(null);
    expect(r.status).toBe(4);
    expect(r.stderr).toBe('error: /proc/nope: cannot make the folder: no such file or directory\n');
  });
});
