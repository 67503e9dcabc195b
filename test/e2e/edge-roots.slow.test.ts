/**
 * Every edge a root can hold, through every format: each imageset deployed as the installer
 * does is exactly its root, and details say the exact sizes and member counts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, fingerprint, mediacompose, writeCompose } from '../support/build.js';
import { makeEdgeRoot, makeEdgeVariant } from '../support/edge-root.js';
import { deploy, measureArchive, readDetailsXml, readImagesXml } from '../support/installer.js';
import { diffTrees, listTree } from '../support/tree.js';
import { describeIf, unmet } from '../support/needs.js';

const FORMATS = ['xz', 'lzma', 'bzip2', 'gzip'] as const;

describeIf(unmet({ root: true, programs: ['tar', 'xzdec', 'lzmadec'] }), 'edge roots (root: devices, large ids)', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-edge-'));
    makeEdgeRoot(path.join(work, 'roots/first'));
    makeEdgeVariant(path.join(work, 'roots/first'), path.join(work, 'roots/second'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  const compose = (format: string): string => {
    const dir = fs.mkdtempSync(path.join(work, `${format}-`));
    return writeCompose(
      dir,
      `version: 1
medium: medium
compression: ${format}
level: 1
arch: x86_64
imagesets:
  - name: first
    patterns: [base]
    root: ${work}/roots/first
  - name: second
    patterns: [base, second]
    root: ${work}/roots/second
images:
  - name: common
    label: common
    shared_by: all
`,
    );
  };

  it.each(FORMATS)('%s: each imageset deploys exactly its root, details are exact', (format) => {
    const file = compose(format);
    buildOk(file);
    const medium = path.join(path.dirname(file), 'medium');
    const sets = readImagesXml(medium);
    expect(sets.map((s) => s.patterns)).toEqual(['base', 'base,second']);
    for (const [patterns, root] of [['base', 'first'], ['base,second', 'second']] as const) {
      const { target, warnings } = deploy(medium, patterns, work);
      expect(warnings).toEqual([]);
      expect(diffTrees(listTree(path.join(work, 'roots', root)), listTree(target))).toEqual([]);
    }
    const details = readDetailsXml(medium, 'x86_64');
    const files = fs.readdirSync(path.join(medium, 'images')).filter((f) => f.includes('.tar.'));
    expect(details.map((d) => d.file).sort()).toEqual(files.sort());
    for (const d of details) {
      const measured = measureArchive(path.join(medium, 'images', d.file));
      expect({ file: d.file, size: Number(d.size), files: Number(d.files) }).toEqual({ file: d.file, ...measured });
      expect(measured.size % 10240).toBe(0);
    }
    expect(mediacompose('verify', file)).toMatchObject({ status: 0 });
  });

  it('shares what is identical and keeps what differs apart', () => {
    const file = compose('gzip');
    buildOk(file);
    const medium = path.join(path.dirname(file), 'medium');
    const [first] = readImagesXml(medium);
    expect(first!.images.map((i) => i.file)).toEqual(['common-x86_64.tar.gz', 'first-x86_64.tar.gz', 'first-meta-x86_64.tar.gz']);
    expect(first!.images.map((i) => i.name)).toEqual(['BASE [common]'.replace('BASE', 'FIRST'), 'FIRST', 'FIRST [meta]']);
    expect(first!.pkgImage).toBe('first-meta-x86_64.tar.gz');
  });

  it('builds the same bytes twice, whatever --jobs says', () => {
    for (const format of ['xz', 'bzip2'] as const) {
      const one = compose(format);
      const two = compose(format);
      buildOk(one, '--jobs', '1', '--no-cache');
      buildOk(two, '--jobs', '3', '--no-cache');
      expect(fingerprint(path.join(path.dirname(two), 'medium/images'))).toEqual(
        fingerprint(path.join(path.dirname(one), 'medium/images')),
      );
    }
  });
});
