/**
 * `mediacompose details` as a user meets it, on media built from Debian-style roots (a dpkg
 * database written here): `<rpms>` as dpkg-query names the owners, byte-identical regeneration,
 * exit 3 and untouched details for a truncated, damaged or missing archive, exit 2 for an arch
 * the medium lacks, and a metadata image that cannot make details write outside its temporary
 * folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, composeYaml, mediacompose, mediacomposeWith, writeCompose } from '../support/build.js';
import { readDetailsXml, readImagesXml } from '../support/installer.js';
import { type Compression, EXTENSION, listMembers, repack } from './rpm-medium.js';

const FORMATS: Compression[] = ['xz', 'lzma', 'bzip2', 'gzip'];
const MTIME = 1_650_000_000;
const DPKG_QUERY = spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status === 0;

/** name, arch, files: what each root has installed. */
const PACKAGES: Record<string, Array<{ name: string; arch: string; files: string[] }>> = {
  a: [
    { name: 'libc6', arch: 'amd64', files: ['/usr', '/usr/lib', '/usr/lib/libc.so.6'] },
    { name: 'tool-a', arch: 'amd64', files: ['/usr/bin', '/usr/bin/tool-a'] },
  ],
  b: [
    { name: 'libc6', arch: 'amd64', files: ['/usr', '/usr/lib', '/usr/lib/libc.so.6'] },
    { name: 'libfoo', arch: 'amd64', files: ['/usr/lib/x86_64', '/usr/lib/x86_64/libfoo.so', '/usr/share/doc/libfoo/copyright'] },
    { name: 'libfoo', arch: 'i386', files: ['/usr/lib/i386', '/usr/lib/i386/libfoo.so', '/usr/share/doc/libfoo/copyright'] },
  ],
};

function makeDpkgRoot(root: string, packages: (typeof PACKAGES)[string]): void {
  const put = (rel: string, content: string): void => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    fs.utimesSync(file, MTIME, MTIME);
  };
  const multiArch = new Set(packages.map((p) => p.name).filter((n, i, all) => all.indexOf(n) !== i));
  const status = packages
    .map((p) => `Package: ${p.name}\nStatus: install ok installed\nMaintainer: Test <test@example.org>\nVersion: 1.0-1\nArchitecture: ${p.arch}\n${multiArch.has(p.name) ? 'Multi-Arch: same\n' : ''}Description: test\n`)
    .join('\n');
  put('var/lib/dpkg/status', status);
  // The multiarch layout of info/ (list files named name:arch), and i386 as a foreign arch.
  put('var/lib/dpkg/info/format', '1\n');
  put('var/lib/dpkg/arch', 'amd64\ni386\n');
  for (const p of packages) {
    put(`var/lib/dpkg/info/${multiArch.has(p.name) ? `${p.name}:${p.arch}` : p.name}.list`, `/.\n${p.files.join('\n')}\n`);
    for (const file of p.files) {
      if (!path.extname(file) && !file.includes('copyright') && !file.endsWith('tool-a')) continue; // directories
      put(file.slice(1), `${file} of ${p.name}\n`);
    }
  }
  put('etc/hostname', `${path.basename(root)}\n`);
}

function composeFor(compression: Compression): string {
  return composeYaml({
    medium: `out-${compression}`,
    compression,
    imagesets: [
      { name: 'a', patterns: ['base', 'a'], root: 'roots/a' },
      { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
    ],
    images: [{ name: 'common', sharedBy: 'all' }],
  });
}

/** dpkg-query's owners (name:arch) of each non-directory member, in the roots that use the archive. */
function expectedRpms(medium: string, file: string, format: Compression, roots: Record<string, string>): string[] {
  const users = readImagesXml(medium)
    .filter((s) => s.images.some((i) => i.file === file))
    .map((s) => roots[s.patterns.split(',')[1]!]!);
  const owners = new Set<string>();
  const members = listMembers(path.join(medium, 'images', file), format).filter((m) => !m.isDirectory);
  for (const root of users) {
    for (const m of members) {
      const r = spawnSync('dpkg-query', [`--admindir=${root}/var/lib/dpkg`, '-S', `/${m.path}`], { encoding: 'utf8' });
      // "libfoo:amd64, libfoo:i386: /usr/share/doc/libfoo/copyright"; exit 1 when nobody owns it.
      for (const line of r.stdout.split('\n').filter(Boolean)) {
        for (const pkg of line.slice(0, line.lastIndexOf(': /')).split(', ')) owners.add(pkg.includes(':') ? pkg : `${pkg}:amd64`);
      }
    }
  }
  return [...owners].map((p) => p.split(':')[0]!).sort();
}

let work: string;
const roots: Record<string, string> = {};
const mediumOf = (format: Compression): string => path.join(work, `out-${format}`);
const detailsOf = (medium: string): string => path.join(medium, 'images', 'details-x86_64.xml');

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-details-cli-'));
  for (const [name, packages] of Object.entries(PACKAGES)) {
    roots[name] = path.join(work, 'roots', name);
    makeDpkgRoot(roots[name]!, packages);
  }
  for (const format of FORMATS) buildOk(writeCompose(work, composeFor(format)));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A private copy of a built medium. */
function copyMedium(format: Compression, name: string): string {
  const medium = path.join(work, name);
  fs.cpSync(mediumOf(format), medium, { recursive: true });
  return medium;
}

describe('details of Debian-style roots', () => {
  it.skipIf(!DPKG_QUERY)('lists the packages dpkg-query names as owners, a Multi-Arch package once per arch (needs dpkg-query)', () => {
    const medium = mediumOf('gzip');
    const details = readDetailsXml(medium, 'x86_64');
    for (const image of details) {
      if (image.file.includes('-meta-')) continue;
      expect({ file: image.file, rpms: image.rpms }).toEqual({ file: image.file, rpms: expectedRpms(medium, image.file, 'gzip', roots) });
    }
    const byFile = new Map(details.map((d) => [d.file, d.rpms]));
    expect(byFile.get('common-x86_64.tar.gz')).toEqual(['libc6']);
    expect(byFile.get('b-x86_64.tar.gz')).toEqual(['libfoo', 'libfoo']);
    expect(byFile.get('a-meta-x86_64.tar.gz')).toEqual([]);
  });

  it.each(FORMATS)('regenerates a fresh %s medium byte-identically', (format) => {
    const medium = copyMedium(format, `fresh-${format}`);
    const built = fs.readFileSync(detailsOf(medium));
    fs.rmSync(detailsOf(medium));
    const r = mediacompose('details', medium);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(detailsOf(medium))).toEqual(built);
    // Nothing left beside the details file: no temporary name, no lock.
    expect(fs.readdirSync(path.join(medium, 'images')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(fs.readdirSync(medium)).toEqual(['images']);
  });

  it('omits <rpms> when the roots have no package database', () => {
    const medium = copyMedium('gzip', 'no-database');
    const images = path.join(medium, 'images');
    // The metadata images without their databases: no root has one any more.
    for (const meta of ['a-meta-x86_64.tar.gz', 'b-meta-x86_64.tar.gz']) {
      const dropped = listMembers(path.join(images, meta), 'gzip').filter((m) => !m.isDirectory).map((m) => m.path);
      repack(path.join(images, meta), 'gzip', 'gzip', dropped);
    }
    expect(mediacompose('details', medium).status).toBe(0);
    const details = readDetailsXml(medium, 'x86_64');
    expect(details.length).toBe(5);
    for (const image of details) expect(image.rpms).toBeUndefined();
    expect(fs.readFileSync(detailsOf(medium), 'utf8')).not.toContain('rpms');
  });
});

describe('unusable archives', () => {
  it.each(FORMATS)('a truncated %s archive: exit 3 naming it, details untouched', (format) => {
    const medium = copyMedium(format, `truncated-${format}`);
    const archive = path.join(medium, 'images', `common-x86_64.${EXTENSION[format]}`);
    fs.truncateSync(archive, Math.floor(fs.statSync(archive).size / 2));
    // A stale details file too, so that only the archive's failure keeps it from being rewritten.
    const b = path.join(medium, 'images', `b-x86_64.${EXTENSION[format]}`);
    repack(b, format, format, [listMembers(b, format).find((m) => !m.isDirectory)!.path]);
    const before = fs.readFileSync(detailsOf(medium));
    for (const args of [[], ['--check']]) {
      const r = mediacompose('details', medium, ...args);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`^error: ${archive.replaceAll('.', '\\.')}: .+`, 'm'));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.readFileSync(detailsOf(medium))).toEqual(before);
    }
  });

  it('a truncated metadata image: exit 3, and no temporary database left behind', () => {
    const medium = copyMedium('bzip2', 'truncated-meta');
    const archive = path.join(medium, 'images', 'a-meta-x86_64.tar.bzip2');
    fs.truncateSync(archive, Math.floor(fs.statSync(archive).size / 2));
    const tmp = fs.mkdtempSync(path.join(work, 'tmp-'));
    const r = mediacomposeWith({ TMPDIR: tmp }, 'details', medium);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`error: ${archive}: `);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('a tar stream cut short inside valid compression: exit 3', () => {
    const medium = copyMedium('xz', 'short-tar');
    const archive = path.join(medium, 'images', 'a-x86_64.tar.xz');
    execFileSync('bash', ['-c', 'xz -dc "$1" | head -c 1024 | xz -c > "$1.new" && mv "$1.new" "$1"', 'bash', archive]);
    const before = fs.readFileSync(detailsOf(medium));
    const r = mediacompose('details', medium);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`error: ${archive}: archive is truncated`);
    expect(fs.readFileSync(detailsOf(medium))).toEqual(before);
  });

  it('a file that is no archive, and a missing one: exit 3 naming it', () => {
    const medium = copyMedium('bzip2', 'garbage');
    const archive = path.join(medium, 'images', 'b-meta-x86_64.tar.bzip2');
    // No magic bytes of any format (and a first byte too large for an LZMA-alone header).
    fs.writeFileSync(archive, Buffer.alloc(4096, 0xff));
    const before = fs.readFileSync(detailsOf(medium));
    let r = mediacompose('details', medium);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`error: ${archive}: not a tar archive`);
    fs.rmSync(archive);
    r = mediacompose('details', medium, '--check');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`error: ${archive}: cannot open: no such file or directory`);
    expect(fs.readFileSync(detailsOf(medium))).toEqual(before);
  });

  it('a damaged package database in a metadata image: exit 3 naming the image and the member', () => {
    const medium = copyMedium('gzip', 'damaged-db');
    const images = path.join(medium, 'images');
    const meta = path.join(images, 'a-meta-x86_64.tar.gz');
    const tree = path.join(work, 'damaged-tree');
    fs.mkdirSync(tree);
    execFileSync('tar', ['-xzf', meta, '-C', tree]);
    fs.writeFileSync(path.join(tree, 'var/lib/dpkg/status'), 'Package: broken\nthis line is no field\n');
    execFileSync('bash', ['-c', 'tar --numeric-owner --sort=name -C "$1" -cf - var | gzip -c > "$2"', 'bash', tree, meta]);
    const r = mediacompose('details', medium);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^error: ${meta.replaceAll('.', '\\.')}: var/lib/dpkg/status: damaged dpkg database`, 'm'));
  });
});

describe('usage', () => {
  it('an arch the medium lacks: exit 2', () => {
    const r = mediacompose('details', mediumOf('gzip'), '--arch', 'ppc', '--check');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: .*images\.xml: no image_set for arch ppc \(it has: x86_64\)$/m);
  });

  it('a folder that is no medium: exit 3', () => {
    const r = mediacompose('details', path.join(work, 'roots'));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('not a medium: no images/images.xml');
  });

  it('accepts the arch as people write it (amd64 is x86_64)', () => {
    const r = mediacompose('details', mediumOf('gzip'), '--arch', 'amd64', '--check');
    expect(r.stdout).toContain('details-x86_64.xml: current');
    expect(r.status).toBe(0);
  });
});

describe('a metadata image made by hand', () => {
  it('never writes through a symlink the image carries', () => {
    const medium = copyMedium('gzip', 'symlink-escape');
    const meta = path.join(medium, 'images', 'a-meta-x86_64.tar.gz');
    const outside = path.join(work, 'outside');
    fs.mkdirSync(outside);
    // var/lib/dpkg is a symlink to a folder outside, then a member below it: GNU tar makes such
    // an archive from two folders.
    const one = path.join(work, 'escape-1');
    const two = path.join(work, 'escape-2');
    fs.mkdirSync(path.join(one, 'var/lib'), { recursive: true });
    fs.symlinkSync(outside, path.join(one, 'var/lib/dpkg'));
    fs.mkdirSync(path.join(two, 'var/lib/dpkg'), { recursive: true });
    fs.writeFileSync(path.join(two, 'var/lib/dpkg/status'), 'Package: evil\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n');
    execFileSync('bash', ['-c', 'tar --numeric-owner -C "$1" -cf - var/lib/dpkg -C "$2" var/lib/dpkg/status | gzip -c > "$3"', 'bash', one, two, meta]);
    const r = mediacompose('details', medium);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
