/**
 * Test support for details: rpm-based pattern roots made with rpm itself, and the oracles that
 * tell what a details file must say about an archive (GNU tar for the members, `rpm -qf` for
 * their owners, xz/bzip2/gzip for the exact uncompressed size).
 *
 * Three roots, a, b and c, get packages from rpmbuild (mtimes clamped to SOURCE_DATE_EPOCH, so
 * that a file installed from the same package is identical in every root and lands in a shared
 * image):
 * - mc-base (all roots): a hardlinked pair of commands, data files, a symlink;
 * - mc-ver: 1.0 in a, 2.0 in b and c, with one file identical in both versions (a shared image
 *   then holds a file owned by two versions);
 * - mc-desktop (b and c), mc-a (a only), mc-dirs (all; owns only a directory);
 * - mc-twin for x86_64 and i686, both in c (one name installed twice).
 * a's copy of one mc-base file is changed afterwards, so that b's and c's identical copies go
 * to the image only they share.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { composeYaml as composeFields } from '../support/build.js';
import { readImagesXml } from '../support/installer.js';

const DB_PATH = '/usr/lib/sysimage/rpm';

function works(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}
export const RPM_AVAILABLE = works('rpm') && works('rpmbuild');

export type Compression = 'xz' | 'lzma' | 'bzip2' | 'gzip';
export const EXTENSION: Record<Compression, string> = { xz: 'tar.xz', lzma: 'tar.lzma', bzip2: 'tar.bzip2', gzip: 'tar.gz' };
const DECOMPRESS: Record<Compression, string[]> = { xz: ['xz', '-dc'], lzma: ['xz', '-dc'], bzip2: ['bzip2', '-dc'], gzip: ['gzip', '-dc'] };
const COMPRESS: Record<Compression, string[]> = {
  xz: ['xz', '-6', '-c'],
  lzma: ['xz', '--format=lzma', '-6', '-c'],
  bzip2: ['bzip2', '-9', '-c'],
  gzip: ['gzip', '-6', '-c'],
};

interface PackageSpec {
  name: string;
  version: string;
  /** Shell lines run in %install, with $B the buildroot. */
  install: string;
  files: string;
  target?: string;
}

const PACKAGES: PackageSpec[] = [
  {
    name: 'mc-base',
    version: '1.0',
    install: `mkdir -p $B/usr/bin $B/usr/share/mc-base/data
printf '#!/bin/sh\\necho base\\n' > $B/usr/bin/mc-base
ln $B/usr/bin/mc-base $B/usr/bin/mc-base-alias
ln -s mc-base $B/usr/bin/mc-link
echo readme > $B/usr/share/mc-base/readme
echo data > "$B/usr/share/mc-base/data/with space.dat"`,
    files: '/usr/bin/mc-base\n/usr/bin/mc-base-alias\n/usr/bin/mc-link\n/usr/share/mc-base',
  },
  ...['1.0', '2.0'].map((version) => ({
    name: 'mc-ver',
    version,
    install: `mkdir -p $B/usr/share/mc-ver
echo same > $B/usr/share/mc-ver/same.txt
echo ${version} > $B/usr/share/mc-ver/version`,
    files: '/usr/share/mc-ver',
  })),
  {
    name: 'mc-desktop',
    version: '2.1',
    install: `mkdir -p $B/usr/share/mc-desktop $B/usr/lib/mc-desktop
echo icon > $B/usr/share/mc-desktop/icon.png
echo lib > $B/usr/lib/mc-desktop/libdesk.so`,
    files: '/usr/share/mc-desktop\n/usr/lib/mc-desktop',
  },
  {
    name: 'mc-a',
    version: '0.1',
    install: `mkdir -p $B/opt/mc-a && echo tool > $B/opt/mc-a/tool`,
    files: '/opt/mc-a',
  },
  {
    name: 'mc-dirs',
    version: '1',
    install: `mkdir -p $B/usr/share/mc-dirs`,
    files: '%dir /usr/share/mc-dirs',
  },
  ...['x86_64', 'i686'].map((target) => ({
    name: 'mc-twin',
    version: '3',
    target,
    install: `mkdir -p $B/usr/lib/mc-twin
echo shared > $B/usr/lib/mc-twin/shared.conf
echo ${target} > $B/usr/lib/mc-twin/only-${target}`,
    files: '/usr/lib/mc-twin',
  })),
];

/** Which packages each root gets: "name-version" or "name.target". */
const ROOT_PACKAGES: Record<string, string[]> = {
  a: ['mc-base-1.0', 'mc-ver-1.0', 'mc-a-0.1', 'mc-dirs-1'],
  b: ['mc-base-1.0', 'mc-ver-2.0', 'mc-desktop-2.1', 'mc-dirs-1'],
  c: ['mc-base-1.0', 'mc-ver-2.0', 'mc-desktop-2.1', 'mc-dirs-1', 'mc-twin.x86_64', 'mc-twin.i686'],
};

const SOURCE_DATE_EPOCH = '1700000000';

function run(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

function specText(p: PackageSpec): string {
  return `Name: ${p.name}
Version: ${p.version}
Release: 1
Summary: details test package
License: MIT
${p.target ? '' : 'BuildArch: noarch\n'}%description
details test package
%install
B=%{buildroot}
${p.install}
%files
${p.files}
`;
}

/** Builds every package once; returns the rpm files by "name-version" and "name.target". */
function buildPackages(work: string): Map<string, string> {
  const top = path.join(work, 'rpmbuild');
  const rpms = new Map<string, string>();
  for (const p of PACKAGES) {
    const spec = path.join(work, `${p.name}-${p.version}-${p.target ?? 'noarch'}.spec`);
    fs.writeFileSync(spec, specText(p));
    const args = ['--define', `_topdir ${top}`, '--define', `_tmppath ${work}/tmp`, '--define', 'clamp_mtime_to_source_date_epoch 1', '--define', '_build_id_links none'];
    run(['rpmbuild', ...args, ...(p.target ? ['--target', p.target] : []), '-bb', spec], { SOURCE_DATE_EPOCH });
    const arch = p.target ?? 'noarch';
    const file = path.join(top, 'RPMS', arch, `${p.name}-${p.version}-1.${arch}.rpm`);
    rpms.set(p.target ? `${p.name}.${p.target}` : `${p.name}-${p.version}`, file);
  }
  return rpms;
}

/** Makes roots a, b and c under `work`/roots; returns their paths. */
export function makeRpmRoots(work: string): Record<string, string> {
  const rpms = buildPackages(work);
  const roots: Record<string, string> = {};
  for (const [name, packages] of Object.entries(ROOT_PACKAGES)) {
    const root = path.join(work, 'roots', name);
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    run(['rpm', '--root', root, '--dbpath', DB_PATH, '--initdb']);
    run(['rpm', '--root', root, '--dbpath', DB_PATH, '-i', '--nodeps', '--noscripts', '--ignorearch', ...packages.map((p) => rpms.get(p)!)]);
    // Unowned files: one identical everywhere, one per root.
    fs.writeFileSync(path.join(root, 'etc/os-release'), 'NAME=details-test\n');
    fs.utimesSync(path.join(root, 'etc/os-release'), 1_600_000_000, 1_600_000_000);
    fs.writeFileSync(path.join(root, 'etc/hostname'), `${name}\n`);
    roots[name] = root;
  }
  fs.writeFileSync(path.join(roots.a!, 'usr/share/mc-base/readme'), 'changed in a\n');
  return roots;
}

export function composeYaml(compression: Compression): string {
  return composeFields({
    medium: `out-${compression}`,
    compression,
    imagesets: [
      { name: 'a', patterns: ['base', 'a'], root: 'roots/a' },
      { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
      { name: 'c', patterns: ['base', 'b', 'c'], root: 'roots/c' },
    ],
    images: [
      { name: 'common', sharedBy: 'all' },
      { name: 'desktop', sharedBy: ['b', 'c'] },
    ],
  });
}

/** The root of each imageset of the medium, by the patterns string images.xml lists. */
const ROOT_OF_PATTERNS: Record<string, string> = { 'base,a': 'a', 'base,b': 'b', 'base,b,c': 'c' };

export interface ListedMember {
  path: string;
  isDirectory: boolean;
}

/** The members of an archive as GNU tar lists them (names with the trailing '/' of directories removed). */
export function listMembers(archive: string, format: Compression): ListedMember[] {
  const out = execFileSync('bash', ['-c', `set -o pipefail; ${DECOMPRESS[format].join(' ')} "$1" | tar --numeric-owner -tvf -`, 'bash', archive], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      // "-rw-r--r-- 0/0 5 2023-11-14 22:13 usr/x", then " -> target" or " link to target".
      const m = /^(\S+) \S+ +\d+ \S+ \S+ (.*)$/.exec(line);
      if (!m) throw new Error(`unexpected tar -tv line: ${line}`);
      const type = m[1]![0];
      let name = m[2]!;
      if (type === 'l') name = name.slice(0, name.indexOf(' -> '));
      if (type === 'h') name = name.slice(0, name.indexOf(' link to '));
      return { path: name.replace(/\/$/, ''), isDirectory: type === 'd' };
    });
}

/**
 * What rpm says owns each path in a root: `rpm -qf` on a copy of the root (rpm touches the
 * sqlite -shm file even for a query). Returns "name|epoch|version|release|arch" lines by path.
 */
function rpmOwners(rootCopy: string, paths: readonly string[]): Map<string, string[]> {
  // One query per path (rpm prints a line per owner, or a "not owned" line), remembered: the
  // roots do not change during a test file.
  return new Map(paths.map((p) => [p, ownersOf(rootCopy, p)]));
}

const ownerCache = new Map<string, string[]>();

function ownersOf(rootCopy: string, p: string): string[] {
  const key = `${rootCopy}\u0000${p}`;
  let owners = ownerCache.get(key);
  if (owners === undefined) {
    const r = spawnSync('rpm', ['--root', rootCopy, '--dbpath', DB_PATH, '-qf', '--qf', 'OWNER|%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}\\n', `/${p}`], {
      encoding: 'utf8',
    });
    // rpm looks the path up in the database; for one nobody owns it says "not owned" when the
    // path exists on the host and "No such file or directory" when it does not.
    if (r.status !== 0 && !/is not owned by any package|No such file or directory/.test(r.stdout + r.stderr)) throw new Error(`rpm -qf /${p} failed: ${r.stderr}`);
    owners = r.stdout.split('\n').filter((l) => l.startsWith('OWNER|')).map((l) => l.slice('OWNER|'.length));
    ownerCache.set(key, owners);
  }
  return owners;
}

/** Copies each root once, for rpm to query without touching the roots themselves. */
export function queryCopies(work: string, roots: Record<string, string>): Record<string, string> {
  const copies: Record<string, string> = {};
  for (const [name, root] of Object.entries(roots)) {
    const copy = path.join(work, 'query', name);
    fs.rmSync(copy, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    run(['cp', '-a', root, copy]);
    copies[name] = copy;
  }
  return copies;
}

/**
 * The `<rpms>` an archive must have, by rpm: for every root whose imageset lists the archive,
 * the installed packages (name, epoch, version, release, arch) rpm says own a non-directory
 * member; each such package once, listed by name, sorted. Also returns the owners by path.
 */
export function expectedRpms(
  medium: string,
  file: string,
  format: Compression,
  copies: Record<string, string>,
): { rpms: string[]; ownersByPath: Map<string, Set<string>> } {
  const users = readImagesXml(medium)
    .filter((s) => s.images.some((i) => i.file === file) || s.pkgImage === file)
    .map((s) => ROOT_OF_PATTERNS[s.patterns]!);
  const nonDirectories = listMembers(path.join(medium, 'images', file), format)
    .filter((m) => !m.isDirectory)
    .map((m) => m.path);
  const packages = new Set<string>();
  const ownersByPath = new Map<string, Set<string>>();
  for (const user of users) {
    for (const [p, owners] of rpmOwners(copies[user]!, nonDirectories)) {
      for (const owner of owners) {
        packages.add(owner);
        if (!ownersByPath.has(p)) ownersByPath.set(p, new Set());
        ownersByPath.get(p)!.add(owner.split('|')[0]!);
      }
    }
  }
  const rpms = [...packages].map((p) => p.split('|')[0]!).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return { rpms, ownersByPath };
}

/**
 * Repacks an archive by hand, as a release engineer would: decompress, drop members with GNU
 * tar --delete, recompress with another format, under the same or a new name.
 */
export function repack(archive: string, from: Compression, to: Compression, drop: readonly string[], target = archive): void {
  const plain = `${archive}.plain.tar`;
  execFileSync('bash', ['-c', `${DECOMPRESS[from].join(' ')} "$1" > "$2"`, 'bash', archive, plain]);
  if (drop.length > 0) execFileSync('tar', ['--delete', '-f', plain, ...drop]);
  const packed = `${target}.new`;
  execFileSync('bash', ['-c', `${COMPRESS[to].join(' ')} "$1" > "$2"`, 'bash', plain, packed]);
  fs.rmSync(plain);
  if (target !== archive) fs.rmSync(archive);
  fs.renameSync(packed, target);
}

/** A name with the extension of the format, for oracles that go by the name (measureArchive). */
export function asNamed(archive: string, format: Compression, dir: string): string {
  const link = path.join(dir, `${path.basename(archive)}.as.${EXTENSION[format]}`);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(archive, link);
  return link;
}
