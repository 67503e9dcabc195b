/**
 * Automatic layering on synthetic scans: groups by the exact set of imagesets holding an entry
 * identically, shared images only where the content pays for an archive.
 */
import { describe, expect, it } from 'vitest';
import { type ComposeSpec, type ImagesetSpec, type SharedImageSpec } from '../../src/config/spec.js';
import { type MediumPlan, planMedium } from '../../src/plan/plan.js';
import type { Entry } from '../../src/model/entry.js';
import { MB, composeSpec, dirEntry, fileEntry, imagesetSpec, syntheticScan } from '../support/plan-fixtures.js';

const file = (path: string, size = MB, extra: Partial<Entry> = {}): Entry => fileEntry(path, size, extra);
const dir = dirEntry;
const set = (name: string): ImagesetSpec => imagesetSpec(name);
const spec = (imagesets: ImagesetSpec[], images: SharedImageSpec[] = [], auto = true, minSize = MB): ComposeSpec => composeSpec(imagesets, images, { auto, minSize });
const scan = syntheticScan;

const shared = (plan: MediumPlan): Record<string, string[]> =>
  Object.fromEntries(plan.images.filter((i) => i.kind === 'shared').map((i) => [i.stem, i.members.map((m) => m.entry.path)]));
const chains = (plan: MediumPlan): string[][] => plan.imagesets.map((s) => [...s.images]);
const stored = (plan: MediumPlan): number => plan.duplicates.reduce((n, d) => n + d.extraBytes, 0);

describe('automatic layering', () => {
  it('lattice: base; x11 and tools each on base; full on all three -> three shared images, nothing stored twice', () => {
    const [base, x11, tools, full] = ['base', 'x11', 'tools', 'full'].map(set) as [ImagesetSpec, ImagesetSpec, ImagesetSpec, ImagesetSpec];
    const b = [dir('bin'), file('bin/sh'), dir('lib'), file('lib/libc'), dir('etc'), file('etc/base', 10)];
    const x = [dir('usr'), file('usr/X'), file('usr/Xlib')];
    const t = [dir('usr'), file('usr/gcc'), file('usr/make', 2 * MB)];
    const xt = [dir('usr'), file('usr/X'), file('usr/Xlib'), file('usr/gcc'), file('usr/make', 2 * MB)];
    const plan = planMedium(spec([base, x11, tools, full]), [
      scan(base, [...b, file('etc/hostname', 5, { mtime: 1 })]),
      scan(x11, [...b, ...x, file('etc/hostname', 5, { mtime: 2 })]),
      scan(tools, [...b, ...t, file('etc/hostname', 5, { mtime: 3 })]),
      scan(full, [...b, ...xt, file('etc/hostname', 5, { mtime: 4 })]),
    ]);
    expect(shared(plan)).toEqual({
      'shared-base-x11-tools-full-x86_64': ['bin', 'bin/sh', 'etc', 'etc/base', 'lib', 'lib/libc'],
      // "usr" itself (held by three imagesets, no content) goes to their own images; each
      // layer carries it as a parent.
      'shared-x11-full-x86_64': ['usr', 'usr/X', 'usr/Xlib'],
      'shared-tools-full-x86_64': ['usr', 'usr/gcc', 'usr/make'],
    });
    expect(plan.images.filter((i) => i.kind === 'shared')).toHaveLength(3);
    expect(stored(plan)).toBe(0);
    expect(chains(plan)[3]).toEqual(['shared-base-x11-tools-full-x86_64', 'shared-tools-full-x86_64', 'shared-x11-full-x86_64', 'full-x86_64', 'full-meta-x86_64']);
  });

  it('chain: a < b < c gives one image per step of the chain', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(set) as [ImagesetSpec, ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b, c]), [
      scan(a, [file('1')]),
      scan(b, [file('1'), file('2')]),
      scan(c, [file('1'), file('2'), file('3')]),
    ]);
    expect(Object.keys(shared(plan))).toEqual(['shared-a-b-c-x86_64', 'shared-b-c-x86_64']);
    expect(chains(plan)).toEqual([
      ['shared-a-b-c-x86_64', 'a-meta-x86_64'],
      ['shared-a-b-c-x86_64', 'shared-b-c-x86_64', 'b-meta-x86_64'],
      ['shared-a-b-c-x86_64', 'shared-b-c-x86_64', 'c-x86_64', 'c-meta-x86_64'],
    ]);
  });

  it('disjoint roots and a single root share nothing', () => {
    const [a, b] = ['a', 'b'].map(set) as [ImagesetSpec, ImagesetSpec];
    expect(shared(planMedium(spec([a, b]), [scan(a, [file('x')]), scan(b, [file('y')])]))).toEqual({});
    expect(shared(planMedium(spec([a]), [scan(a, [file('x')])]))).toEqual({});
  });

  it.each([
    ['mode', { mode: 0o600 }],
    ['mtime', { mtime: 5 }],
    ['owner', { uid: 7 }],
  ])('does not share paths that differ only in %s', (_, change) => {
    const [a, b] = ['a', 'b'].map(set) as [ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b]), [scan(a, [file('x')]), scan(b, [file('x', MB, change)])]);
    expect(shared(plan)).toEqual({});
  });

  it('does not share paths that differ only in content', () => {
    const [a, b] = ['a', 'b'].map(set) as [ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b]), [scan(a, [file('x')], { x: '1' }), scan(b, [file('x')], { x: '2' })]);
    expect(shared(plan)).toEqual({});
  });

  it('keeps hardlink groups split differently in two roots apart, and whole', () => {
    const [a, b] = ['a', 'b'].map(set) as [ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b]), [
      scan(a, [file('h1', MB, { inode: '1' }), file('h2', MB, { inode: '1' }), file('h3', MB, { inode: '1' })]),
      scan(b, [file('h1', MB, { inode: '2' }), file('h2', MB, { inode: '2' }), file('h3', MB)]),
    ]);
    expect(shared(plan)).toEqual({});
    const own = (stem: string): string[] => plan.images.find((i) => i.stem === stem)!.members.map((m) => `${m.entry.path}${m.linkTo ? `->${m.linkTo}` : ''}`);
    expect(own('a-x86_64')).toEqual(['h1', 'h2->h1', 'h3->h1']);
    expect(own('b-x86_64')).toEqual(['h1', 'h2->h1', 'h3']);
  });

  it('keeps a path that is a file in one root and a directory in another in each own image', () => {
    const [a, b] = ['a', 'b'].map(set) as [ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b]), [scan(a, [file('p')]), scan(b, [dir('p'), file('p/q')])]);
    expect(shared(plan)).toEqual({});
    expect(plan.images.find((i) => i.stem === 'a-x86_64')!.members.map((m) => m.entry.type)).toEqual(['file']);
  });

  it('stores small groups in each own image and reports the bytes stored twice', () => {
    const [a, b] = ['a', 'b'].map(set) as [ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b], [], true, 10 * MB), [scan(a, [file('x', 3 * MB)]), scan(b, [file('x', 3 * MB)])]);
    expect(shared(plan)).toEqual({});
    expect(plan.duplicates).toEqual([
      expect.objectContaining({ imagesets: ['a', 'b'], members: 1, bytes: 3 * MB, extraBytes: 3 * MB }),
    ]);
  });

  it('mixed mode: declared images first, automatic layering for the rest', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(set) as [ImagesetSpec, ImagesetSpec, ImagesetSpec];
    const plan = planMedium(spec([a, b, c], [{ name: 'common', label: 'base', sharedBy: 'all' }], true), [
      scan(a, [file('1')]),
      scan(b, [file('1'), file('2')]),
      scan(c, [file('1'), file('2')]),
    ]);
    expect(shared(plan)).toEqual({ 'common-x86_64': ['1'], 'shared-b-c-x86_64': ['2'] });
    const declaredOnly = planMedium(spec([a, b, c], [{ name: 'common', label: 'base', sharedBy: 'all' }], false), [
      scan(a, [file('1')]),
      scan(b, [file('1'), file('2')]),
      scan(c, [file('1'), file('2')]),
    ]);
    expect(shared(declaredOnly)).toEqual({ 'common-x86_64': ['1'] });
    expect(declaredOnly.duplicates[0]!.reason).toMatch(/no shared image is declared for exactly b, c/);
  });

  it('keeps names stable when an unrelated imageset is added', () => {
    const [a, b, z] = ['a', 'b', 'z'].map(set) as [ImagesetSpec, ImagesetSpec, ImagesetSpec];
    const before = planMedium(spec([a, b]), [scan(a, [file('1')]), scan(b, [file('1')])]);
    const after = planMedium(spec([a, b, z]), [scan(a, [file('1')]), scan(b, [file('1')]), scan(z, [file('other')])]);
    expect(Object.keys(shared(after))).toEqual(Object.keys(shared(before)));
  });
});
