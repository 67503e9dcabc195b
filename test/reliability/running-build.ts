/**
 * Builds that take long enough to be interfered with: a root with incompressible data that xz
 * level 6 needs seconds for, a build started in the background, and waiting for the moment its
 * compression began.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BIN, addPackageDatabase, composeYaml, writeCompose } from '../support/build.js';

/** Incompressible bytes in the big file: xz -6 takes about three seconds for them on one core. */
const BIG_FILE_BYTES = 4 << 20;
export const LOG_FILE_BYTES = 1 << 20;

/**
 * Two roots in `dir`: roots/a with a big random file (its own image, written first with --jobs
 * 1, for seconds) and roots/b with a log file of 1 MiB (in b's own image, written after a's);
 * returns the compose file. The medium is `dir/out`.
 */
export function slowMedium(dir: string): string {
  for (const name of ['a', 'b']) {
    fs.mkdirSync(path.join(dir, 'roots', name, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'roots', name, 'etc', 'hostname'), `${name}\n`);
    fs.writeFileSync(path.join(dir, 'roots', name, 'etc', 'os-release'), 'NAME=demo\n');
    addPackageDatabase(path.join(dir, 'roots', name));
  }
  fs.writeFileSync(path.join(dir, 'roots', 'a', 'big'), randomBytes(BIG_FILE_BYTES));
  fs.mkdirSync(path.join(dir, 'roots', 'b', 'var', 'log'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'roots', 'b', 'var', 'log', 'messages'), Buffer.alloc(LOG_FILE_BYTES, 'log line\n'));
  return writeCompose(
    dir,
    composeYaml({
      medium: 'out',
      compression: 'xz',
      level: 6,
      imagesets: [
        { name: 'a', patterns: ['base', 'a'], root: 'roots/a' },
        { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
      ],
      images: [{ name: 'common', sharedBy: 'all' }],
    }),
  );
}

interface Finished {
  /** The exit status as the shell reports it ($?): 128 + n when killed by signal n. */
  status: number;
  stderr: string;
}

export interface RunningBuild {
  readonly finished: Promise<Finished>;
}

/**
 * Starts `mediacompose build COMPOSE --quiet --jobs 1 --no-cache` in the background (it must
 * compress, whatever an earlier build left in the image cache), under a shell that
 * reports its exit status as a script would see it ($?). The build's stderr goes to fd 3, the
 * status to stdout; the shell's own notes ("Terminated") to nowhere.
 */
export function startBuild(compose: string, ...args: string[]): RunningBuild {
  const script = '"$@" >/dev/null 2>&3 3>&-; echo "$?"';
  const argv = ['-c', script, 'sh', process.execPath, BIN, 'build', compose, '--quiet', '--jobs', '1', '--no-cache', ...args];
  const child = spawn('bash', argv, { stdio: ['ignore', 'pipe', 'ignore', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const finished = new Promise<Finished>((resolve, reject) =>
    child.on('close', () => {
      if (!/^\d+\n$/.test(stdout)) reject(new Error(`no exit status; stderr: ${stderr}`));
      else resolve({ status: Number(stdout), stderr });
    }),
  );
  return { finished };
}

/** The pid of the build holding the medium's lock, as its lock file says. */
export function lockHolder(medium: string): number {
  return JSON.parse(fs.readFileSync(path.join(medium, '.mediacompose.lock'), 'utf8')).pid;
}

/** The staging folders in a medium folder. */
export function stagingFolders(medium: string): string[] {
  return fs.existsSync(medium) ? fs.readdirSync(medium).filter((n) => n.startsWith('.mediacompose-staging-')) : [];
}

/**
 * Resolves once the build is compressing `image` (its staged file exists); rejects if the build
 * ends first or nothing happens within a minute.
 */
export async function compressionStarted(build: RunningBuild, medium: string, image: string): Promise<void> {
  let ended = false;
  build.finished.then(() => (ended = true), () => (ended = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const staged = stagingFolders(medium).map((s) => path.join(medium, s, 'images', image));
    if (staged.some((f) => fs.existsSync(f))) return;
    if (ended) throw new Error(`the build ended before compressing ${image}: ${(await build.finished).stderr}`);
    if (Date.now() > deadline) throw new Error(`the build did not start compressing ${image}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
