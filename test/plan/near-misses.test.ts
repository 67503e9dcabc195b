/**
 * Near misses: identical content that is not shared because its metadata differs. On generated
 * roots through the command line (`plan` and `plan --json`), and on synthetic scans for each
 * kind of difference.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComposeSpec, type ImagesetSpec, type SharedImageSpec } from '../../src/config/spec.js';
import { findNearMisses, nearMissCandidates } from '../../src/plan/near-misses.js';
import type { ImagesetScan } from '../../src/plan/plan.js';
import type { Entry } from '../../src/model/entry.js';
import { composeSpec } from '../support/plan-fixtures.js';
import { incompressible } from '../support/tree.js';
import { composeYaml, mediacompose, writeCompose } from '../support/build.js';

const TWO_MB = 2 * 1024 * 1024;

function put(root: string, rel: string, bytes: Buffer, mtime = 1_600_000_000): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  fs.utimesSync(file, mtime, mtime);
}

describe('plan on generated roots with a planted near miss', () => {
  let work: string;
  let compose: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-nearmiss-'));
    const big = incompressible('big', TWO_MB);
    for (const name of ['a', 'b']) {
      const root = path.join(work, name);
      put(root, 'usr/lib/shared.so', incompressible('shared', 300_000));
      put(root, `usr/lib/only-${name}`, incompressible(name, 1000));
      // Identical bytes, another mtime in b: the planted near miss.
      put(root, 'usr/share/big.dat', big, name === 'a' ? 1_600_000_000 : 1_700_000_000);
      // Same path and size, other content: not a near miss.
      put(root, 'usr/share/other.dat', incompressible(`other-${name}`, 5000), name === 'a' ? 1_600_000_000 : 1_700_000_000);
      for (const d of ['usr/lib', 'usr/share', 'usr', '.']) fs.utimesSync(path.join(root, d), 1_600_000_000, 1_600_000_000);
    }
    compose = writeCompose(work, composeYaml({
      medium: 'out',
      imagesets: [{ name: 'a', patterns: ['a'], root: 'a' }, { name: 'b', patterns: ['b'], root: 'b' }],
      images: [{ name: 'common', sharedBy: 'all' }],
    }));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('plan --json lists it with differs ["mtime"], its bytes and the image it would have joined', () => {
    const r = mediacompose('plan', compose, '--json', '--no-estimate');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.near_misses).toEqual([
      { arch: 'x86_64', path: 'usr/share/big.dat', imagesets: ['a', 'b'], differs: ['mtime'], bytes: TWO_MB, would_join: 'common-x86_64' },
    ]);
    expect(doc.near_miss_groups).toEqual([
      { arch: 'x86_64', imagesets: ['a', 'b'], differs: ['mtime'], paths: 1, bytes: TWO_MB, examples: ['usr/share/big.dat'], would_join: ['common-x86_64'] },
    ]);
    // The near miss is stored in each own image; the identical file went to the shared one.
    expect(doc.images.find((i: { file: string }) => i.file === 'common-x86_64.tar.xz').members).toBe(4);
    expect(doc.summary).toMatchObject({ compression: 'xz', level: 6, archs: ['x86_64'], declared_images: ['common'], budget: { medium: null, file: null } });
  });

  it('plan names it in text, with the cause, the imagesets and the bytes', () => {
    const r = mediacompose('plan', compose, '--no-estimate');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('near misses (same content, other metadata): 1 path, 2.1 MB stored again\n');
    expect(r.stdout).toContain('  2.1 MB: 1 path differ in mtime between a, b (x86_64); would join common-x86_64\n      usr/share/big.dat\n');
    expect(r.stdout.startsWith(`compose:     ${compose}\n`)).toBe(true);
    expect(r.stdout).toContain('compression: xz -6 (*.tar.xz)\n');
  });

  it('reports nothing once the mtimes agree', () => {
    fs.utimesSync(path.join(work, 'b/usr/share/big.dat'), 1_600_000_000, 1_600_000_000);
    try {
      const doc = JSON.parse(mediacompose('plan', compose, '--json', '--no-estimate').stdout);
      expect(doc.near_misses).toEqual([]);
    } finally {
      fs.utimesSync(path.join(work, 'b/usr/share/big.dat'), 1_700_000_000, 1_700_000_000);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic scans: each field

const entry = (p: string, extra: Partial<Entry> = {}): Entry => ({
  path: p, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 100, size: 1000, devmajor: 0, devminor: 0, ...extra,
});
const set = (name: string, arch = 'x86_64'): ImagesetSpec => ({ name, title: name, patterns: [name], root: `/r/${name}`, rootAsWritten: name, arch });
function spec(imagesets: ImagesetSpec[], images: SharedImageSpec[] = []): ComposeSpec {
  return composeSpec(imagesets, images, { auto: true, minSize: 1 << 20 });
}
function scan(s: ImagesetSpec, entries: Entry[], digest: (e: Entry) => string | undefined = () => 'same'): ImagesetScan {
  const digests = new Map<string, string>();
  for (const e of entries) {
    const d = e.type === 'file' ? digest(e) : undefined;
    if (d !== undefined) digests.set(e.path, d);
  }
  return { imageset: s, entries, digests };
}

describe('findNearMisses', () => {
  it.each([
    ['mode', { mode: 0o755 }],
    ['owner', { uid: 1 }],
    ['owner', { gid: 5 }],
    ['mtime', { mtime: 200 }],
  ])('names %s', (field, change) => {
    const [a, b] = [set('a'), set('b')];
    const result = findNearMisses(spec([a, b]), [scan(a, [entry('f')]), scan(b, [entry('f', change)])]);
    expect(result.near_misses).toEqual([{ arch: 'x86_64', path: 'f', imagesets: ['a', 'b'], differs: [field], bytes: 1000, would_join: null }]);
  });

  it('names device types, hardlink grouping and symlinks of the same target; other targets are other content', () => {
    const [a, b] = [set('a'), set('b')];
    const link = (p: string, target: string, mtime = 100): Entry => entry(p, { type: 'symlink', size: 0, target, mtime });
    const dev = (type: 'char' | 'block'): Entry => entry('d', { type, size: 0, devmajor: 1, devminor: 3 });
    const result = findNearMisses(spec([a, b]), [
      scan(a, [dev('char'), entry('h1', { inode: '1:9' }), entry('h2', { inode: '1:9' }), link('l', 'x'), link('m', 'x')]),
      scan(b, [dev('block'), entry('h1'), entry('h2'), link('l', 'x', 200), link('m', 'y', 200)]),
    ]);
    expect(result.near_misses.map((m) => [m.path, m.differs, m.bytes])).toEqual([
      ['h1', ['hardlinks'], 1000],
      ['d', ['type'], 0],
      ['l', ['mtime'], 0],
    ]);
  });

  it('leaves out different content, undigested files, other archs, metadata paths and what is shared', () => {
    const [a, b, c] = [set('a'), set('b'), set('c', 'i386')];
    const result = findNearMisses(spec([a, b, c]), [
      scan(a, [entry('content'), entry('undigested'), entry('var/lib/rpm/db'), entry('same')], (e) => (e.path === 'content' ? 'x' : 'same')),
      scan(b, [entry('content', { mtime: 1 }), entry('undigested', { mtime: 1 }), entry('var/lib/rpm/db', { mtime: 1 }), entry('same')], (e) => (e.path === 'content' ? 'y' : e.path === 'undigested' ? undefined : 'same')),
      scan(c, [entry('same', { mtime: 1 })]),
    ]);
    expect(result.near_misses).toEqual([]);
  });

  it('counts each extra variant once, sorts largest first, groups by cause and imagesets, and finds the declared image', () => {
    const [a, b, c] = [set('a'), set('b'), set('c')];
    const images: SharedImageSpec[] = [
      { name: 'all', label: 'all', sharedBy: 'all' },
      { name: 'ab', label: 'ab', sharedBy: ['a', 'b'] },
    ];
    const result = findNearMisses(spec([a, b, c], images), [
      scan(a, [entry('big', { size: 5000 }), entry('small', { size: 10 }), entry('two', { size: 700 })]),
      scan(b, [entry('big', { size: 5000, mtime: 1 }), entry('small', { size: 10, mtime: 1 }), entry('two', { size: 700, mtime: 1 })]),
      scan(c, [entry('big', { size: 5000, mtime: 2 }), entry('small', { size: 10, mtime: 1 })]),
    ]);
    expect(result.near_misses.map((m) => [m.path, m.imagesets, m.bytes, m.would_join])).toEqual([
      ['big', ['a', 'b', 'c'], 10000, 'all-x86_64'],
      ['two', ['a', 'b'], 700, 'ab-x86_64'],
      ['small', ['a', 'b', 'c'], 10, 'all-x86_64'],
    ]);
    expect(result.groups.map((g) => [g.imagesets, g.paths, g.bytes, g.examples])).toEqual([
      [['a', 'b', 'c'], 2, 10010, ['big', 'small']],
      [['a', 'b'], 1, 700, ['two']],
    ]);
    expect(result.bytes).toBe(10710);
  });
});

describe('nearMissCandidates', () => {
  it('asks for digests of files whose path and size another root has with other metadata', () => {
    const scans = [
      { arch: 'x86_64', entries: [entry('touched'), entry('resized'), entry('alone'), entry('equal')] },
      { arch: 'x86_64', entries: [entry('touched', { mtime: 5 }), entry('resized', { size: 7, mtime: 5 }), entry('equal')] },
      { arch: 'i386', entries: [entry('alone', { mtime: 5 })] },
    ];
    expect(nearMissCandidates(scans).map((s) => [...s])).toEqual([['touched'], ['touched'], []]);
  });
});
