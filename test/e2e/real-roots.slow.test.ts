/**
 * The keystone: on real installed roots, every imageset deployed as the installer does is
 * exactly its root; details are exact; a second build gives the same bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIf, unmet } from '../support/needs.js';
import { buildOk, fingerprint, mediacompose, writeCompose } from '../support/build.js';
import { deploy, measureArchive, readDetailsXml, readImagesXml } from '../support/installer.js';
import { realRoots } from '../support/real-roots.js';
import { diffTrees, listTree } from '../support/tree.js';

const composeFor = (roots: string): string => `version: 1
medium: medium
compression: xz
level: 1
arch: x86_64
imagesets:
  - name: minimal
    patterns: [base]
    root: ${roots}/minimal
  - name: standard
    patterns: [base, standard]
    root: ${roots}/standard
  - name: python
    patterns: [base, python]
    root: ${roots}/python
images:
  - name: common-base
    label: base
    shared_by: all
`;

// Root and the installer's programs first, so that no roots are made for a test that then skips.
const LACKING = unmet({ root: true, programs: ['tar', 'xzdec', 'lzmadec'] });
const REAL = LACKING ? undefined : realRoots();

describeIf(LACKING ?? REAL?.skip, 'real roots (root: debootstrap, extraction as root)', () => {
  let work: string;
  let roots: string;
  let medium: string;
  let compose: string;
  beforeAll(() => {
    roots = REAL!.dir!;
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-real-'));
    compose = writeCompose(fs.mkdtempSync(path.join(work, 'a-')), composeFor(roots));
    buildOk(compose);
    medium = path.join(path.dirname(compose), 'medium');
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it.each([
    ['minimal', 'base'],
    ['standard', 'base,standard'],
    ['python', 'base,python'],
  ])('%s deploys exactly its root', (name, patterns) => {
    const { target, warnings } = deploy(medium, patterns, work);
    expect(warnings).toEqual([]);
    expect(diffTrees(listTree(path.join(roots, name)), listTree(target))).toEqual([]);
    fs.rmSync(target, { recursive: true, force: true });
  });

  it('shares the common base and lists images in order', () => {
    const sets = readImagesXml(medium);
    expect(sets.map((s) => s.images.map((i) => i.file))).toEqual(
      ['minimal', 'standard', 'python'].map((n) => [
        'common-base-x86_64.tar.xz',
        ...(fs.existsSync(path.join(medium, 'images', `${n}-x86_64.tar.xz`)) ? [`${n}-x86_64.tar.xz`] : []),
        `${n}-meta-x86_64.tar.xz`,
      ]),
    );
    // The shared image holds most of each root: what minimal has is almost all shared.
    const details = readDetailsXml(medium, 'x86_64');
    const size = (f: string): number => Number(details.find((d) => d.file === f)!.size);
    expect(size('common-base-x86_64.tar.xz')).toBeGreaterThan(150e6);
    expect(size('minimal-x86_64.tar.xz')).toBeLessThan(5e6);
  });

  it('details give the exact uncompressed size and member count of every archive', () => {
    for (const d of readDetailsXml(medium, 'x86_64')) {
      const measured = measureArchive(path.join(medium, 'images', d.file));
      expect({ file: d.file, size: Number(d.size), files: Number(d.files) }).toEqual({ file: d.file, ...measured });
      expect(measured.size % 10240).toBe(0);
    }
  });

  it('a second build of the same roots, with other --jobs, gives byte-identical media', { timeout: 600_000 }, () => {
    const again = writeCompose(fs.mkdtempSync(path.join(work, 'b-')), composeFor(roots));
    buildOk(again, '--jobs', '1', '--no-cache');
    expect(fingerprint(path.join(path.dirname(again), 'medium/images'))).toEqual(fingerprint(path.join(medium, 'images')));
  });

  it('verify says the medium deploys every root exactly (last step)', { timeout: 600_000 }, () => {
    const r = mediacompose('verify', compose);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.status).toBe(0);
  });
});
