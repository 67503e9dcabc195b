/**
 * `<rpms>` on a medium built from rpm-based roots made by rpm itself: each image's list is what
 * `rpm --root -qf` says owns its non-directory members, in the roots of the imagesets that use
 * it. And a fresh medium's details regenerate byte-identically from its archives.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, mediacompose, writeCompose } from '../support/build.js';
import { readDetailsXml, readImagesXml } from '../support/installer.js';
import { type Compression, RPM_AVAILABLE, composeYaml, expectedRpms, makeRpmRoots, queryCopies } from './rpm-medium.js';
import { describeIf, unmet } from '../support/needs.js';

const FORMATS: Compression[] = ['xz', 'gzip'];

describeIf(unmet({ root: true, programs: ['rpm', 'rpmbuild'] }) ?? (RPM_AVAILABLE ? undefined : 'needs a working rpm and rpmbuild'), 'details of a medium built from rpm roots', () => {
  let work: string;
  let copies: Record<string, string>;
  const mediumOf = (format: Compression): string => path.join(work, `out-${format}`);

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-details-rpms-'));
    const roots = makeRpmRoots(work);
    for (const format of FORMATS) buildOk(writeCompose(work, composeYaml(format)));
    // Queried only after the builds: the copies are what rpm may touch.
    copies = queryCopies(work, roots);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it.each(FORMATS)('gives each %s image the packages rpm -qf names for its non-directory members', (format) => {
    const medium = mediumOf(format);
    const details = readDetailsXml(medium, 'x86_64');
    const files = [...new Set(readImagesXml(medium).flatMap((s) => s.images.map((i) => i.file)))].sort();
    expect(details.map((d) => d.file)).toEqual(files);
    for (const image of details) {
      expect({ file: image.file, rpms: image.rpms }).toEqual({ file: image.file, rpms: expectedRpms(medium, image.file, format, copies).rpms });
    }
  });

  it('covers the cases the rule is about', () => {
    const byFile = new Map(readDetailsXml(mediumOf('xz'), 'x86_64').map((d) => [d.file, d.rpms]));
    // A file identical in mc-ver 1.0 (root a) and 2.0 (b, c): two installed packages, one name.
    expect(byFile.get('common-x86_64.tar.xz')).toContain('mc-base');
    expect(byFile.get('common-x86_64.tar.xz')!.filter((n) => n === 'mc-ver')).toHaveLength(2);
    // mc-base installed in three roots is listed once.
    expect(byFile.get('common-x86_64.tar.xz')!.filter((n) => n === 'mc-base')).toHaveLength(1);
    // mc-twin for two archs in one root: twice.
    expect(byFile.get('c-x86_64.tar.xz')!.filter((n) => n === 'mc-twin')).toHaveLength(2);
    // The readme changed in a, mc-ver 2.0 is only in b and c: their copies are in the image they share.
    expect(byFile.get('desktop-x86_64.tar.xz')).toEqual(['mc-base', 'mc-desktop', 'mc-ver']);
    expect(byFile.get('a-x86_64.tar.xz')).toEqual(['mc-a', 'mc-base', 'mc-ver']);
    // Metadata images: the database is present, its files are nobody's, directories never count.
    expect(byFile.get('a-meta-x86_64.tar.xz')).toEqual([]);
    for (const rpms of byFile.values()) expect(rpms).not.toContain('mc-dirs');
  });

  it.each(FORMATS)('regenerates the details of a fresh %s medium byte-identically', (format) => {
    const details = path.join(mediumOf(format), 'images', 'details-x86_64.xml');
    const built = fs.readFileSync(details);

    const check = mediacompose('details', mediumOf(format), '--check');
    expect(check.stdout).toContain('details-x86_64.xml: current');
    expect(check.status).toBe(0);

    fs.rmSync(details);
    const regenerate = mediacompose('details', mediumOf(format));
    expect(regenerate.stderr).not.toMatch(/^error/m);
    expect(regenerate.status).toBe(0);
    expect(fs.readFileSync(details)).toEqual(built);
    expect(mediacompose('details', mediumOf(format), '--arch', 'x86_64', '--check').status).toBe(0);
  });
});
