/**
 * The demo roots: three small installed systems (base, x11 = base + X, kde = x11 + KDE), each
 * with an rpm database as openSUSE keeps it (usr/lib/sysimage/rpm/rpmdb.sqlite, var/lib/rpm a
 * symlink to it) that rpm itself reads and verifies the root against, fixed contents, modes and
 * mtimes. The same bytes on every machine, as
 * any user: `mediacompose init --template demo` writes them beside its compose.yaml, and the
 * repository's own compose.yaml builds from the ones `npm ci` writes (scripts/demo-roots.js).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeRpmDatabase } from '../pkgdb/rpmdb-writer.js';

/** Every mtime in the demo roots (2023-11-14). */
const MTIME = 1_700_000_000;

/** A small deterministic generator (xorshift32), so that contents are fixed. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS = ['install', 'medium', 'image', 'pattern', 'root', 'layer', 'package', 'deploy', 'archive', 'kernel', 'desktop', 'xorg'];

/** Text that compresses like real files: words from a fixed vocabulary in seeded order. */
function text(seed: number, bytes: number): string {
  const next = generator(seed);
  let out = '';
  while (out.length < bytes) out += WORDS[next() % WORDS.length]! + (next() % 9 === 0 ? '\n' : ' ');
  return out.slice(0, bytes);
}

/** Bytes that compress like binaries: mostly seeded noise with some structure. */
function binary(seed: number, bytes: number): Buffer {
  const next = generator(seed);
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) buf.writeUInt32LE(i % 64 < 40 ? next() : 0, i - (i + 4 > bytes ? i + 4 - bytes : 0));
  return buf;
}

type Files = Record<string, readonly [mode: number, content: string | Buffer]>;

/** Each layer's packages, each package's files. */
const PACKAGES: Record<string, Record<string, Files>> = {
  base: {
    'base-files': { 'etc/os-release': [0o644, 'NAME="Demo Linux"\nVERSION="1"\nID=demo\n'], 'etc/issue': [0o644, 'Demo Linux 1\n'] },
    coreutils: Object.fromEntries(['ls', 'cp', 'mv', 'cat', 'sort'].map((n, i) => [`usr/bin/${n}`, [0o755, binary(10 + i, 40_000 + i * 3_000)] as const])),
    libc: { 'usr/lib/libc.so.6': [0o755, binary(20, 300_000)], 'usr/share/doc/libc/README': [0o644, text(21, 20_000)] },
    shadow: { 'usr/bin/passwd': [0o4755, binary(30, 30_000)], 'etc/shadow': [0o640, 'root:*:19000:0:99999:7:::\n'] },
  },
  x11: {
    'xorg-server': { 'usr/bin/Xorg': [0o755, binary(40, 400_000)], 'usr/lib/xorg/modules/libglx.so': [0o644, binary(41, 150_000)] },
    'xorg-fonts': { 'usr/share/fonts/misc/fonts.dir': [0o644, text(42, 60_000)] },
  },
  kde: {
    plasma: { 'usr/bin/plasmashell': [0o755, binary(50, 250_000)], 'usr/share/plasma/README': [0o644, text(51, 30_000)] },
  },
};

/** The demo imagesets and the layers installed into each root. */
const DEMO_SYSTEMS: Readonly<Record<string, readonly string[]>> = { base: ['base'], x11: ['base', 'x11'], kde: ['base', 'x11', 'kde'] };

/** Writes the demo roots into `dir` (made if missing), replacing any root of the same name. */
export async function writeDemoRoots(dir: string): Promise<void> {
  for (const [name, layers] of Object.entries(DEMO_SYSTEMS)) await writeRoot(path.join(dir, name), name, layers);
}

async function writeRoot(root: string, name: string, layers: readonly string[]): Promise<void> {
  fs.rmSync(root, { recursive: true, force: true });
  const packages: Record<string, Files> = Object.assign({}, ...layers.map((l) => PACKAGES[l]));
  const put = (rel: string, mode: number, content: string | Buffer): void => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    fs.chmodSync(file, mode);
  };
  for (const files of Object.values(packages)) for (const [rel, [mode, content]] of Object.entries(files)) put(rel, mode, content);
  put('etc/hostname', 0o644, `${name}\n`);
  fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.symlinkSync('usr/bin', path.join(root, 'bin'));
  fs.linkSync(path.join(root, 'usr/bin/ls'), path.join(root, 'usr/bin/dir'));

  // The package database, recording the files as they now are (mtimes fixed first).
  setTimes(root);
  const names = Object.keys(packages).sort();
  await writeRpmDatabase(root, RPMDB, names.map((p) => ({ name: p, version: '1.0', release: '1', arch: 'x86_64', files: Object.keys(packages[p]!) })));
  fs.chmodSync(path.join(root, RPMDB, 'rpmdb.sqlite'), 0o644);
  fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
  fs.symlinkSync('../../usr/lib/sysimage/rpm', path.join(root, 'var/lib/rpm'));
  setTimes(root);
}

/** Where openSUSE keeps the rpm database. */
const RPMDB = 'usr/lib/sysimage/rpm';

/** Every mtime fixed, deepest first so that directories keep theirs. */
function setTimes(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.lstatSync(p).isDirectory()) setTimes(p);
    fs.lutimesSync(p, MTIME, MTIME);
  }
  fs.utimesSync(dir, MTIME, MTIME);
}
