/**
 * Shared pieces of the hostile-input tests: a small medium built from two tiny roots, a
 * snapshot of a whole work folder (to show that nothing outside the medium changed), and a tar
 * writer that writes what a hostile or hand-made archive may hold.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, buildOk, composeYaml, writeCompose } from '../support/build.js';
import { type Tree, diffTrees, listTree } from '../support/tree.js';

export interface Work {
  /** The work folder: roots/a, roots/b, compose.yaml, out/ (the medium). */
  dir: string;
  compose: string;
  medium: string;
}

/** A work folder with two small roots (each with a dpkg database unless `dpkg: false`) and their medium, built once (gzip, fast). */
export function smallMedium(prefix: string, extra: { dpkg?: boolean } = {}): Work {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const name of ['a', 'b']) {
    const root = path.join(dir, 'roots', name);
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'hostname'), `${name}\n`);
    fs.writeFileSync(path.join(root, 'etc', 'os-release'), 'NAME=demo\n');
    if (extra.dpkg ?? true) {
      fs.mkdirSync(path.join(root, 'var', 'lib', 'dpkg', 'info'), { recursive: true });
      fs.writeFileSync(path.join(root, 'var', 'lib', 'dpkg', 'status'), `Package: base-${name}\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n`);
      fs.writeFileSync(path.join(root, 'var', 'lib', 'dpkg', 'info', `base-${name}.list`), '/etc\n/etc/hostname\n');
    }
  }
  const compose = writeCompose(
    dir,
    composeYaml({
      medium: 'out',
      compression: 'gzip',
      imagesets: [
        { name: 'a', patterns: ['base', 'a'], root: 'roots/a' },
        { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
      ],
    }),
  );
  buildOk(compose);
  return { dir, compose, medium: path.join(dir, 'out') };
}

/** The whole tree under `dir` (file contents by digest). */
export function snapshot(dir: string): Tree {
  return listTree(dir);
}

/**
 * Every difference between a snapshot and the tree now; [] when nothing changed. The medium
 * folder's own modification time is left out: taking and releasing the lock changes it.
 */
export function changesSince(before: Tree, dir: string, medium = 'out'): string[] {
  return diffTrees(before, listTree(dir)).filter((line) => !line.startsWith(`${medium}: mtime `));
}

// ---------------------------------------------------------------------------------------------
// A tar writer for hostile archives

export interface TarMember {
  name: string;
  /** '0' file, '5' directory, '2' symlink, '1' hardlink, 'x' pax header, 'L' GNU long name, ... */
  type?: string;
  /** Content; for 'x', 'g' and 'L' the header body. */
  data?: Buffer;
  /** The size the header claims (default: the data's length). */
  size?: number;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** The 8 bytes at 257 (default: POSIX "ustar\0" "00"; GNU tar's own is "ustar  \0"). */
  magic?: string;
  /** The ustar prefix field (bytes 345..499). */
  prefix?: string;
  devmajor?: number;
  devminor?: number;
  /** Raw bytes written over the header at these offsets before the checksum is computed. */
  raw?: Readonly<Record<number, Buffer>>;
}

/** One 512-byte ustar header with a correct checksum. */
export function tarHeader(m: TarMember): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number): void => void h.write(text.slice(0, length), offset, length, 'latin1');
  const octal = (n: number, length: number): string => n.toString(8).padStart(length - 1, '0');
  put(m.name, 0, 100);
  put(octal(m.mode ?? (m.type === '5' ? 0o755 : 0o644), 8), 100, 8);
  put(octal(m.uid ?? 0, 8), 108, 8);
  put(octal(m.gid ?? 0, 8), 116, 8);
  put(octal(m.size ?? m.data?.length ?? 0, 12), 124, 12);
  put(octal(m.mtime ?? 1_700_000_000, 12), 136, 12);
  put(m.type ?? '0', 156, 1);
  put(m.linkname ?? '', 157, 100);
  put(m.magic ?? 'ustar\u000000', 257, 8);
  put('root', 265, 32);
  put('root', 297, 32);
  put(octal(m.devmajor ?? 0, 8), 329, 8);
  put(octal(m.devminor ?? 0, 8), 337, 8);
  put(m.prefix ?? '', 345, 155);
  for (const [offset, bytes] of Object.entries(m.raw ?? {})) bytes.copy(h, Number(offset));
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  return h;
}

/** pax records ("<length> <keyword>=<value>\n" each) for an 'x' or 'g' header's data. */
export function paxData(records: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const body = ` ${key}=${value}\n`;
      let length = body.length + 1;
      while (String(length).length + body.length > length) length++;
      return Buffer.from(`${length}${body}`, 'latin1');
    }),
  );
}

/**
 * A whole tar stream: headers, contents padded to 512 bytes, two zero blocks, padded to whole
 * 10240-byte records as the installer's tar writes them.
 */
export function tarStream(members: readonly TarMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    parts.push(tarHeader(m));
    if (m.data && m.data.length > 0) {
      parts.push(m.data, Buffer.alloc((512 - (m.data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  const bytes = parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc((10240 - (bytes % 10240)) % 10240));
  return Buffer.concat(parts);
}

/**
 * Runs the command line under GNU time (`/usr/bin/time -v`): its exit status, its own stderr,
 * its peak resident set size in MiB and the seconds it ran (killed after two minutes, for a
 * command that hangs).
 */
export function mediacomposeMeasured(env: NodeJS.ProcessEnv, ...args: string[]): { status: number; stdout: string; stderr: string; maxRssMiB: number; seconds: number } {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  const seconds = (performance.now() - started) / 1000;
  const split = r.stderr.indexOf('\tCommand being timed:');
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (split < 0 || !rss) throw new Error(`no measurement from /usr/bin/time (install the package "time"): ${r.stderr}`);
  const own = r.stderr.slice(0, split).replace(/^Command exited with non-zero status \d+\n/m, '');
  return { status: r.status ?? -1, stdout: r.stdout, stderr: own, maxRssMiB: Number(rss[1]) / 1024, seconds };
}
