/**
 * Repacking by hand, as a release engineer does: members dropped with GNU tar, the archive
 * recompressed with another format (xz, LZMA-alone, bzip2, gzip) under the name images.xml lists
 * or under a new name written into images.xml. `details --check` then exits 1 naming what
 * differs, `details` rewrites the file, and its size, files and rpms are exact again (by xz,
 * bzip2, gzip, GNU tar and rpm -qf).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, mediacompose, writeCompose } from '../support/build.js';
import { measureArchive, readDetailsXml, readImagesXml } from '../support/installer.js';
import { describeIf, unmet } from '../support/needs.js';
import {
  type Compression,
  EXTENSION,
  RPM_AVAILABLE,
  asNamed,
  composeYaml,
  expectedRpms,
  listMembers,
  makeRpmRoots,
  queryCopies,
  repack,
} from './rpm-medium.js';

interface Case {
  /** The medium's compression, as built. */
  built: Compression;
  /** The image stem repacked. */
  image: string;
  to: Compression;
  /** Renamed to the new format's extension (images.xml edited), or the listed name kept. */
  rename: boolean;
  /** The package whose files are dropped from the archive. */
  drop?: string;
}

// The installer picks the decompressor by name: a kept name must still fit the new content
// (GNU tar reads xz, bzip2 and gzip under any other name; .xz and .lzma only their own format).
const CASES: Case[] = [
  { built: 'xz', image: 'common-x86_64', to: 'lzma', rename: true, drop: 'mc-ver' },
  { built: 'xz', image: 'c-x86_64', to: 'bzip2', rename: true, drop: 'mc-twin' },
  { built: 'xz', image: 'desktop-x86_64', to: 'gzip', rename: true, drop: 'mc-desktop' },
  { built: 'gzip', image: 'a-x86_64', to: 'xz', rename: false, drop: 'mc-a' },
  { built: 'bzip2', image: 'common-x86_64', to: 'lzma', rename: true, drop: 'mc-base' },
  { built: 'lzma', image: 'b-x86_64', to: 'gzip', rename: true },
];
const BUILT: Compression[] = [...new Set(CASES.map((c) => c.built))];

describeIf(unmet({ root: true, programs: ['rpm', 'rpmbuild'] }) ?? (RPM_AVAILABLE ? undefined : 'needs a working rpm and rpmbuild'), 'details after repacking an archive', () => {
  let work: string;
  let copies: Record<string, string>;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-details-repack-'));
    const roots = makeRpmRoots(work);
    for (const format of BUILT) buildOk(writeCompose(work, composeYaml(format)));
    copies = queryCopies(work, roots);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A private copy of a built medium, so that every case starts from a fresh one. */
  function copyMedium(format: Compression, name: string): string {
    const medium = path.join(work, name);
    fs.cpSync(path.join(work, `out-${format}`), medium, { recursive: true });
    return medium;
  }

  it.each(CASES)('$image: $built -> $to, renamed: $rename, files of $drop dropped', (c) => {
    const medium = copyMedium(c.built, `case-${c.image}-${c.built}-${c.to}`);
    const images = path.join(medium, 'images');
    const oldName = `${c.image}.${EXTENSION[c.built]}`;
    const newName = c.rename ? `${c.image}.${EXTENSION[c.to]}` : oldName;
    const before = readDetailsXml(medium, 'x86_64').find((d) => d.file === oldName)!;

    // Drop every non-directory member the package owns, and one unowned file if there is one.
    const { ownersByPath } = expectedRpms(medium, oldName, c.built, copies);
    const members = listMembers(path.join(images, oldName), c.built);
    const drop = members
      .filter((m) => !m.isDirectory && c.drop !== undefined && ownersByPath.get(m.path)?.has(c.drop))
      .map((m) => m.path);
    const unowned = members.find((m) => !m.isDirectory && !ownersByPath.has(m.path));
    if (unowned) drop.push(unowned.path);
    expect(drop.length).toBeGreaterThan(0);
    repack(path.join(images, oldName), c.built, c.to, drop, path.join(images, newName));
    if (c.rename) {
      const xml = path.join(images, 'images.xml');
      fs.writeFileSync(xml, fs.readFileSync(xml, 'utf8').replaceAll(`>${oldName}<`, `>${newName}<`));
    }
    const detailsFile = path.join(images, 'details-x86_64.xml');
    const stale = fs.readFileSync(detailsFile);

    const check = mediacompose('details', medium, '--check');
    expect(check.status).toBe(1);
    if (c.rename) {
      expect(check.stdout).toContain(`details-x86_64.xml: ${newName}: not listed`);
      expect(check.stdout).toContain(`details-x86_64.xml: ${oldName}: listed, but images.xml does not list it`);
    } else {
      expect(check.stdout).toMatch(new RegExp(`details-x86_64.xml: ${oldName}: files ${before.files} on the medium, ${members.length - drop.length} in the archive\n`));
      if (c.drop) expect(check.stdout).toMatch(new RegExp(`details-x86_64.xml: ${oldName}: rpms .*not in the archive: .*${c.drop}`));
    }
    expect(check.stdout).toMatch(/details-x86_64\.xml: stale \(\d+ differences?\)/);
    expect(fs.readFileSync(detailsFile)).toEqual(stale);

    const rewrite = mediacompose('details', medium);
    expect(rewrite.stderr).not.toMatch(/^error/m);
    expect(rewrite.status).toBe(0);
    expect(rewrite.stdout).toContain('details-x86_64.xml: rewritten');

    // Exactly the files images.xml lists, each with the numbers the system tools measure.
    const details = readDetailsXml(medium, 'x86_64');
    const listed = [...new Set(readImagesXml(medium).flatMap((s) => [...s.images.map((i) => i.file), s.pkgImage]))].sort();
    expect(details.map((d) => d.file)).toEqual(listed);
    expect(listed).toContain(newName);
    for (const image of details) {
      const format = image.file === newName ? c.to : c.built;
      const measured = measureArchive(asNamed(path.join(images, image.file), format, work));
      const expected = { file: image.file, size: String(measured.size), files: String(measured.files), rpms: expectedRpms(medium, image.file, format, copies).rpms };
      expect({ file: image.file, size: image.size, files: image.files, rpms: image.rpms }).toEqual(expected);
    }
    const repacked = details.find((d) => d.file === newName)!;
    expect(Number(repacked.files)).toBe(Number(before.files) - drop.length);
    if (c.drop) {
      expect(before.rpms).toContain(c.drop);
      expect(repacked.rpms).not.toContain(c.drop);
    }

    const recheck = mediacompose('details', medium, '--check');
    expect(recheck.stdout).toContain('details-x86_64.xml: current');
    expect(recheck.status).toBe(0);
  });

  it('finds nothing stale when only the compression changed (to one the installer reads under that name)', () => {
    const medium = copyMedium('gzip', 'recompressed-only');
    const images = path.join(medium, 'images');
    repack(path.join(images, 'c-meta-x86_64.tar.gz'), 'gzip', 'bzip2', []);
    repack(path.join(images, 'common-x86_64.tar.gz'), 'gzip', 'xz', []);
    const r = mediacompose('details', medium, '--check');
    expect(r.stdout).toContain('details-x86_64.xml: current');
    expect(r.status).toBe(0);
  });
});
