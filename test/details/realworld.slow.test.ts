/**
 * Media mediacompose did not write: the installer's and libzypp's own files (test/fixtures/
 * realworld/, see SOURCES there), each beside small real archives made here by GNU tar under the
 * names they list. `details` writes what the installer reads (counts checked with GNU tar
 * itself), leaves images.xml byte-identical, reads the legacy details.xml, warns about an arch no
 * installer reports, and keeps every line of a product's checksum list that is not about images/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediacompose, mediacomposeWith, writeTwoImagesetCompose, writeTwoSmallRoots } from '../support/build.js';
import { readDetailsXml } from '../support/installer.js';
import { describeIf, unmet } from '../support/needs.js';

const REAL = path.resolve(import.meta.dirname, '../fixtures/realworld');
const GM_13_1 = path.join(REAL, 'yast-installation/test/data/images/images.xml');
const DVD_11_1 = path.join(REAL, 'libzypp/images-file/images/images.xml');
const CONTENT_11_1 = path.join(REAL, 'libzypp/images-file/content');
const EXAMPLES = path.join(REAL, 'yast-installation/doc/inst_images');

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-realworld-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The archive names an images.xml lists (files and pkg_images). */
function listedArchives(imagesXml: string): string[] {
  const text = fs.readFileSync(imagesXml, 'utf8');
  return [...new Set([...text.matchAll(/<(?:file|pkg_image)>\s*([^<\s]+)\s*</g)].map((m) => m[1]!))].sort();
}

/** The compressor for an archive name, as a product build would have used it. */
function compressor(name: string): string[] | undefined {
  if (name.endsWith('.xz')) return ['xz', '-c'];
  if (name.endsWith('.lzma')) return ['xz', '--format=lzma', '-c'];
  if (name.endsWith('.bz2') || name.endsWith('.bzip2')) return ['bzip2', '-c'];
  if (name.endsWith('.gz')) return ['gzip', '-n', '-c'];
  return undefined; // a plain tar: the installer's `tar -xf` reads it
}

/**
 * A medium at DIR/images with `imagesXml` and, for every archive it lists, a small tar made by GNU
 * tar (10240-byte records, numeric owners) holding a file or two of its own.
 */
function realMedium(name: string, imagesXml: string): { medium: string; images: string } {
  const medium = path.join(work, name);
  const images = path.join(medium, 'images');
  fs.mkdirSync(images, { recursive: true });
  fs.copyFileSync(imagesXml, path.join(images, 'images.xml'));
  for (const [i, archive] of listedArchives(imagesXml).entries()) {
    const tree = path.join(work, `${name}-trees`, archive);
    fs.mkdirSync(path.join(tree, 'usr', 'share', archive), { recursive: true });
    fs.writeFileSync(path.join(tree, 'usr', 'share', archive, 'README'), `${archive}\n`.repeat(i + 1));
    if (i % 2 === 0) fs.writeFileSync(path.join(tree, 'usr', 'share', archive, 'data'), Buffer.alloc(20_000 * (i + 1), i));
    const tar = execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--record-size=10240', '--mtime=@1700000000', '--sort=name', '-C', tree, '-cf', '-', '.']);
    const how = compressor(archive);
    fs.writeFileSync(path.join(images, archive), how ? execFileSync(how[0]!, how.slice(1), { input: tar }) : tar);
  }
  return { medium, images };
}

/** What GNU tar itself says of an archive: its members and the byte length of its tar stream. */
function tarCounts(images: string, archive: string): { files: string; size: string } {
  const how = compressor(archive);
  const file = path.join(images, archive);
  const tar = how ? execFileSync(how[0]!, [...how.slice(1).filter((a) => a !== '-c'), '-dc', file], { maxBuffer: 1 << 30 }) : fs.readFileSync(file);
  const members = execFileSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8' }).split('\n').filter(Boolean);
  return { files: String(members.length), size: String(tar.length) };
}

/** The archives of one arch's image_sets in images.xml. */
function archivesOfArch(imagesXml: string, arch: string): string[] {
  const sets = fs.readFileSync(imagesXml, 'utf8').split('<image_set>').slice(1);
  return [...new Set(sets.filter((s) => new RegExp(`<archs>[^<]*\\b${arch}\\b`).test(s)).flatMap((s) => [...s.matchAll(/<(?:file|pkg_image)>\s*([^<\s]+)/g)].map((m) => m[1]!)))].sort();
}

describe('openSUSE 13.1 GM images.xml (yast-installation test/data/images)', () => {
  it('details writes details-i386.xml, details-x86_64.xml and details-ppc.xml with GNU tar\'s counts; --check then exits 0', () => {
    const { medium, images } = realMedium('gm131', GM_13_1);
    const r = mediacompose('details', medium);
    expect(r.stderr).not.toMatch(/^(warning|error):/m);
    expect(r.status).toBe(0);
    for (const arch of ['i386', 'x86_64', 'ppc']) {
      expect(r.stdout).toContain(`${images}/details-${arch}.xml: rewritten\n`);
      const entries = readDetailsXml(medium, arch);
      const archives = archivesOfArch(GM_13_1, arch);
      expect(archives.length).toBeGreaterThan(10);
      expect(entries.map((e) => e.file).sort()).toEqual(archives);
      for (const entry of entries) expect({ file: entry.file, files: entry.files, size: entry.size }).toEqual({ file: entry.file, ...tarCounts(images, entry.file) });
    }
    expect(fs.readFileSync(path.join(images, 'images.xml'))).toEqual(fs.readFileSync(GM_13_1));
    const check = mediacompose('details', '--check', medium);
    expect(check.status).toBe(0);
    expect(check.stdout).toBe(['i386', 'x86_64', 'ppc'].map((a) => `${images}/details-${a}.xml: current\n`).join(''));
  });
});

describe('openSUSE 11.1 DVD images.xml (libzypp Fetcher test data), .tar.lzma', () => {
  let medium: string;
  let images: string;
  beforeAll(() => ({ medium, images } = realMedium('dvd111', DVD_11_1)));

  it('details writes a details file per arch with GNU tar\'s counts; images.xml stays byte-identical; --check exits 0', () => {
    const r = mediacompose('details', medium);
    expect(r.status).toBe(0);
    for (const arch of ['i386', 'x86_64', 'ppc']) {
      expect(r.stdout).toContain(`${images}/details-${arch}.xml: rewritten\n`);
      const entries = readDetailsXml(medium, arch);
      expect(entries.map((e) => e.file).sort()).toEqual(archivesOfArch(DVD_11_1, arch));
      for (const entry of entries) expect({ file: entry.file, files: entry.files, size: entry.size }).toEqual({ file: entry.file, ...tarCounts(images, entry.file) });
    }
    expect(fs.readFileSync(path.join(images, 'images.xml'))).toEqual(fs.readFileSync(DVD_11_1));
    expect(mediacompose('details', '--check', medium).status).toBe(0);
  });

  it('only the legacy details.xml: --check --arch i386 is 0 when current, 1 when one size is off; details rewrites details.xml for every arch and says so', () => {
    const own = path.join(images, 'details-i386.xml');
    if (!fs.existsSync(own)) expect(mediacompose('details', medium).status).toBe(0);
    for (const arch of ['x86_64', 'ppc']) fs.rmSync(path.join(images, `details-${arch}.xml`));
    // The legacy file in the installer's own example layout: DOCTYPE, tabs, comments, <files> left out.
    const legacy = fs.readFileSync(own, 'utf8')
      .replace('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0"?>\r\n<!DOCTYPE details>\r\n<!-- written by hand -->\r\n')
      .replace(/\n {4}/g, '\n\t\t')
      .replace(/<files>\d+<\/files>\s*/, '');
    fs.rmSync(own);
    const file = path.join(images, 'details.xml');
    fs.writeFileSync(file, legacy);
    const current = mediacompose('details', '--check', '--arch', 'i386', medium);
    expect(current.stdout).toBe(`${file}: current (the installer reads it on i386, x86_64, ppc; checked for i386)\n`);
    expect(current.status).toBe(0);

    const size = /<size>(\d+)<\/size>/.exec(legacy)![1]!;
    fs.writeFileSync(file, legacy.replace(`<size>${size}</size>`, `<size>${Number(size) + 10240}</size>`));
    const stale = mediacompose('details', '--check', '--arch', 'i386', medium);
    expect(stale.status).toBe(1);
    expect(stale.stdout).toMatch(new RegExp(`^details\\.xml: \\S+: size ${Number(size) + 10240} on the medium, ${size} in the archive\n`));
    expect(stale.stdout).toContain(`${file}: stale (1 difference) (the installer reads it on i386, x86_64, ppc; checked for i386)\n`);

    // Without --arch: the x86_64 and ppc archives are missing from it too.
    expect(mediacompose('details', '--check', medium).stdout).toContain(`${file}: stale`);
    const written = mediacompose('details', medium);
    expect(written.status).toBe(0);
    expect(written.stdout).toContain(`${file}: rewritten (the installer reads it on i386, x86_64, ppc)\n`);
    expect(fs.readdirSync(images).filter((f) => f.startsWith('details'))).toEqual(['details.xml']);
    expect(readDetailsXml(medium, '', 'details.xml').map((e) => e.file).sort()).toEqual(listedArchives(DVD_11_1));
    expect(mediacompose('details', '--check', medium).status).toBe(0);
  });

  it('a details.xml beside a details-<arch>.xml for every arch, disagreeing with them: a warning', () => {
    expect(mediacompose('details', medium).status).toBe(0);
    const legacy = path.join(images, 'details.xml');
    if (!fs.existsSync(legacy)) fs.copyFileSync(path.join(images, 'details-i386.xml'), legacy);
    const own = fs.readFileSync(legacy, 'utf8');
    for (const arch of ['i386', 'x86_64', 'ppc']) fs.writeFileSync(path.join(images, `details-${arch}.xml`), own);
    expect(mediacompose('details', medium).status).toBe(0);
    fs.writeFileSync(legacy, own.replace(/<size>(\d+)<\/size>/, (_m, n: string) => `<size>${Number(n) * 2}</size>`));
    const r = mediacompose('details', '--check', medium);
    expect(r.stdout).toBe(['i386', 'x86_64', 'ppc'].map((a) => `${images}/details-${a}.xml: current\n`).join(''));
    expect(r.stderr).toMatch(new RegExp(`^warning: ${legacy.replaceAll('.', '\\.')}: disagrees with details-i386\\.xml, details-x86_64\\.xml, details-ppc\\.xml on \\S+; no installer of these archs reads it`, 'm'));
    fs.rmSync(legacy);
  });
});

describe("YaST's own examples (yast-installation doc/inst_images)", () => {
  it('examples/images.xml: archs ixxx and iyyy are a warning, not a refusal; its examples/details.xml reads as the legacy file', () => {
    const { medium, images } = realMedium('examples', path.join(EXAMPLES, 'examples/images.xml'));
    fs.copyFileSync(path.join(EXAMPLES, 'examples/details.xml'), path.join(images, 'details.xml'));
    const r = mediacompose('details', '--check', medium);
    expect(r.stderr).toMatch(/^warning: .*images\.xml: arch "ixxx" is no arch the installer reports/m);
    expect(r.stderr).toMatch(/^warning: .*images\.xml: arch "iyyy" is no arch the installer reports/m);
    // The example's sizes are not those of archives made here, and it lists others: stale, read whole.
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('details.xml: common-xorg-root.tar.lzma: listed, but images.xml does not list it\n');
    expect(r.stdout).toContain(`${images}/details.xml: stale`);
    expect(r.stdout).toContain('(the installer reads it on i386, ixxx, iyyy)\n');
    const written = mediacompose('details', medium);
    expect(written.status).toBe(0);
    expect(mediacompose('details', '--check', medium).status).toBe(0);
  });

  it('images.xml.example (names without a suffix, .tar.bz2 metadata images) and details.xml.example', () => {
    const { medium, images } = realMedium('example', path.join(EXAMPLES, 'images.xml.example'));
    fs.copyFileSync(path.join(EXAMPLES, 'details.xml.example'), path.join(images, 'details.xml'));
    const r = mediacompose('details', medium);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${images}/details.xml: rewritten (the installer reads it on i386, ixxx, iyyy)\n`);
    const entries = readDetailsXml(medium, 'i386', 'details.xml');
    expect(entries.map((e) => e.file).sort()).toEqual(listedArchives(path.join(EXAMPLES, 'images.xml.example')));
    for (const entry of entries) expect({ file: entry.file, files: entry.files, size: entry.size }).toEqual({ file: entry.file, ...tarCounts(images, entry.file) });
    expect(mediacompose('details', '--check', medium).status).toBe(0);
  });
});
