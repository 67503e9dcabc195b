/**
 * Roots and compose files for the image cache's tests: small roots of random (so
 * incompressible, and unique to each test run) data, and builds run through the command line
 * with a cache folder of the test's own.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, addPackageDatabase, composeYaml, mediacompose, writeCompose } from '../support/build.js';

/** A root with /etc/hostname, a dpkg database, a shared file and one of its own of `ownBytes` random bytes. */
export function makeRoot(root: string, name: string, shared: Buffer, ownBytes: number): void {
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr', 'share'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'hostname'), `${name}\n`);
  fs.writeFileSync(path.join(root, 'usr', 'share', 'shared.bin'), shared);
  fs.utimesSync(path.join(root, 'usr', 'share', 'shared.bin'), 1_700_000_000, 1_700_000_000);
  fs.writeFileSync(path.join(root, 'usr', 'share', `${name}.bin`), randomBytes(ownBytes));
  addPackageDatabase(root);
  // Directory times of each root's own, so that no two roots' metadata images are identical
  // (identical tar streams share one cache entry).
  const time = 1_700_000_000 + [...name].reduce((n, c) => n * 31 + c.charCodeAt(0), 0) % 100_000;
  for (const dir of ['usr/share', 'usr', 'etc', 'var/lib/dpkg', 'var/lib', 'var']) fs.utimesSync(path.join(root, dir), time, time);
}

/**
 * Roots a and b in `dir`/roots sharing a file of `sharedBytes`; returns a function that writes
 * a compose file for them in a new folder under `dir` (its medium: that folder's `out`).
 */
export function twoRoots(dir: string, sharedBytes: number, ownBytes: number): (name: string, compression?: string, level?: number) => string {
  const shared = randomBytes(sharedBytes);
  for (const name of ['a', 'b']) makeRoot(path.join(dir, 'roots', name), name, shared, ownBytes);
  return (name, compression = 'gzip', level = 1) => {
    const folder = path.join(dir, name);
    fs.mkdirSync(folder, { recursive: true });
    return writeCompose(
      folder,
      composeYaml({
        medium: 'out',
        compression,
        level,
        imagesets: [
          { name: 'a', patterns: ['base', 'a'], root: '../roots/a' },
          { name: 'b', patterns: ['base', 'b'], root: '../roots/b' },
        ],
        images: [{ name: 'common', sharedBy: 'all' }],
      }),
    );
  };
}

interface JsonImage {
  file: string;
  size: number;
  files: number;
  compressedSize: number;
  cached: boolean;
}

interface CacheFigures {
  folder: string;
  hits: number;
  misses: number;
  damaged: number;
  evicted: number;
  bytes: number;
}

export interface BuildJson {
  images: JsonImage[];
  cache: CacheFigures | null;
  threads: { budget: number; peak: number };
  peakMemory: number;
}

/** `build --json` with the given arguments; throws with the output on failure. */
export function buildJson(compose: string, ...args: string[]): BuildJson & { stderr: string } {
  const r = mediacompose('build', compose, '--json', ...args);
  if (r.status !== 0) throw new Error(`build failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return { ...(JSON.parse(r.stdout) as BuildJson), stderr: r.stderr };
}

/** The cache entries (key folders) and anything else in the cache's entry folder. */
export function cacheListing(cache: string): { entries: string[]; other: string[] } {
  const folder = path.join(cache, 'images');
  const names = fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
  return { entries: names.filter((n) => /^[0-9a-f]{64}$/.test(n)), other: names.filter((n) => !/^[0-9a-f]{64}$/.test(n)) };
}

/** Bytes of the archives of the given entries. */
export function entryBytes(cache: string, keys: readonly string[]): number {
  return keys.reduce((n, key) => n + fs.statSync(path.join(cache, 'images', key, 'archive')).size, 0);
}

/** Runs the command line in the background; resolves with exit status (or signal) and output. */
export function runAsync(args: string[]): { pid: number; done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { pid: child.pid!, done };
}
