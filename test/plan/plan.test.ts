import { describe, expect, it } from 'vitest';
import { type ComposeSpec, type ImagesetSpec, type SharedImageSpec } from '../../src/config/spec.js';
import { type ImagesetScan, type MediumPlan, filesToCompare, planMedium } from '../../src/plan/plan.js';
import type { Entry } from '../../src/model/entry.js';
import { MB, composeSpec, dirEntry, fileEntry, imagesetSpec, syntheticScan } from '../support/plan-fixtures.js';

const dir = dirEntry;
const file = (path: string, extra: Partial<Entry> = {}): Entry => fileEntry(path, 10, extra);
const imageset = imagesetSpec;
const spec = (imagesets: ImagesetSpec[], images: SharedImageSpec[]): ComposeSpec => composeSpec(imagesets, images, { auto: false, minSize: MB });
const scan = syntheticScan;

function members(plan: MediumPlan, stem: string): string[] {
  const image = plan.images.find((i) => i.stem === stem);
  return image ? image.members.map((m) => (m.linkTo ? `${m.entry.path}->${m.linkTo}` : m.entry.path)) : [];
}

const all: SharedImageSpec = { name: 'common', label: 'base', sharedBy: 'all' };

describe('planMedium with declared images', () => {
  it('puts what every imageset holds identically in the shared image, the rest in own images', () => {
    const [a, b] = [imageset('a'), imageset('b')];
    const plan = planMedium(spec([a, b], [all]), [
      scan(a, [dir('usr'), file('usr/same'), file('usr/differs'), file('usr/only-a')], { 'usr/differs': 'x' }),
      scan(b, [dir('usr'), file('usr/same'), file('usr/differs')], { 'usr/differs': 'y' }),
    ]);
    expect(members(plan, 'common-x86_64')).toEqual(['usr', 'usr/same']);
    expect(members(plan, 'a-x86_64')).toEqual(['usr', 'usr/differs', 'usr/only-a']);
    expect(members(plan, 'b-x86_64')).toEqual(['usr', 'usr/differs']);
    expect(plan.imagesets.map((s) => s.images)).toEqual([
      ['common-x86_64', 'a-x86_64', 'a-meta-x86_64'],
      ['common-x86_64', 'b-x86_64', 'b-meta-x86_64'],
    ]);
  });

  it.each([
    ['mode', { mode: 0o600 }],
    ['mtime', { mtime: 101 }],
    ['owner', { uid: 1 }],
    ['group', { gid: 1 }],
    ['size', { size: 11 }],
  ])('does not share a file that differs in %s', (_, change) => {
    const [a, b] = [imageset('a'), imageset('b')];
    const plan = planMedium(spec([a, b], [all]), [scan(a, [file('f')]), scan(b, [file('f', change)])]);
    expect(members(plan, 'common-x86_64')).toEqual([]);
    expect(members(plan, 'a-x86_64')).toEqual(['f']);
    expect(members(plan, 'b-x86_64')).toEqual(['f']);
  });

  it('never shares a file whose content was not compared', () => {
    const [a, b] = [imageset('a'), imageset('b')];
    const bare = (s: ImagesetScan): ImagesetScan => ({ ...s, digests: new Map() });
    const plan = planMedium(spec([a, b], [all]), [bare(scan(a, [file('f')])), bare(scan(b, [file('f')]))]);
    expect(members(plan, 'common-x86_64')).toEqual([]);
  });

  it('does not share a path that is a file in one root and a directory in another', () => {
    const [a, b] = [imageset('a'), imageset('b')];
    const plan = planMedium(spec([a, b], [all]), [scan(a, [file('x')]), scan(b, [dir('x'), file('x/y')])]);
    expect(members(plan, 'a-x86_64')).toEqual(['x']);
    expect(members(plan, 'b-x86_64')).toEqual(['x', 'x/y']);
  });

  it('keeps hardlink groups whole, and shares one only when grouped the same way', () => {
    const [a, b] = [imageset('a'), imageset('b')];
    const linked = (p: string, ino: string): Entry => file(p, { inode: ino });
    const plan = planMedium(spec([a, b], [all]), [
      scan(a, [linked('h1', '1:1'), linked('h2', '1:1'), linked('h3', '1:1'), linked('p1', '1:2'), linked('p2', '1:2')]),
      scan(b, [linked('h1', '2:1'), linked('h2', '2:1'), linked('h3', '2:1'), linked('p1', '2:2'), file('p2')]),
    ]);
    expect(members(plan, 'common-x86_64')).toEqual(['h1', 'h2->h1', 'h3->h1']);
    expect(members(plan, 'a-x86_64')).toEqual(['p1', 'p2->p1']);
    expect(members(plan, 'b-x86_64')).toEqual(['p1', 'p2']);
  });

  it('sends metadata paths and their hardlink partners to the metadata image, with every directory', () => {
    const [a, b] = [imageset('a'), imageset('b')];
    const entries = [dir('var'), dir('var/lib'), dir('var/lib/rpm'), file('var/lib/rpm/Packages.db'), dir('etc'), file('etc/x', { inode: '9:9' }), file('var/lib/rpm/link', { inode: '9:9' })];
    const plan = planMedium(spec([a, b], [all]), [scan(a, entries), scan(b, entries)]);
    expect(members(plan, 'a-meta-x86_64')).toEqual(['etc', 'etc/x', 'var', 'var/lib', 'var/lib/rpm', 'var/lib/rpm/Packages.db', 'var/lib/rpm/link->etc/x']);
    expect(members(plan, 'common-x86_64')).toEqual(['etc', 'var', 'var/lib']);
    expect(plan.imagesets[0]!.pkgImage).toBe('a-meta-x86_64');
  });

  it('uses the first declared image whose imagesets all hold the entry', () => {
    const [a, b, c] = [imageset('a'), imageset('b'), imageset('c')];
    const xorg: SharedImageSpec = { name: 'xorg', label: 'xorg', sharedBy: ['b', 'c'] };
    const plan = planMedium(spec([a, b, c], [all, xorg]), [
      scan(a, [file('base')]),
      scan(b, [file('base'), file('x')]),
      scan(c, [file('base'), file('x'), file('kde')]),
    ]);
    expect(members(plan, 'common-x86_64')).toEqual(['base']);
    expect(members(plan, 'xorg-x86_64')).toEqual(['x']);
    expect(members(plan, 'c-x86_64')).toEqual(['kde']);
    expect(plan.images.map((i) => i.stem)).not.toContain('a-x86_64');
    expect(plan.imagesets.map((s) => s.images)).toEqual([
      ['common-x86_64', 'a-meta-x86_64'],
      ['common-x86_64', 'xorg-x86_64', 'b-meta-x86_64'],
      ['common-x86_64', 'xorg-x86_64', 'c-x86_64', 'c-meta-x86_64'],
    ]);
  });

  it('carries parent directories, in archive order with subtrees together', () => {
    const [a] = [imageset('a')];
    const plan = planMedium(spec([a], []), [scan(a, [dir('a'), dir('a/bin'), file('a/bin/t'), file('a/bin-x'), file('a/bin.d')])]);
    expect(members(plan, 'a-x86_64')).toEqual(['a', 'a/bin', 'a/bin/t', 'a/bin-x', 'a/bin.d']);
  });

  it('plans each arch on its own', () => {
    const [a32, a64] = [imageset('kde', 'i386'), imageset('kde', 'x86_64')];
    const plan = planMedium(spec([a32, a64], [all]), [scan(a32, [file('f')]), scan(a64, [file('f')])]);
    expect(plan.archs).toEqual(['i386', 'x86_64']);
    // One archive of the shared image per arch; with one imageset per arch it holds everything.
    expect(members(plan, 'common-i386')).toEqual(['f']);
    expect(members(plan, 'common-x86_64')).toEqual(['f']);
    expect(plan.images.find((i) => i.stem === 'common-i386')!.members[0]!.root).toBe('/roots/kde');
    expect(plan.imagesets.map((s) => s.images)).toEqual([['common-i386', 'kde-meta-i386'], ['common-x86_64', 'kde-meta-x86_64']]);
  });
});

describe('filesToCompare', () => {
  it('asks for digests only where path and metadata match in another root of the same arch', () => {
    const result = filesToCompare([
      { arch: 'x86_64', entries: [file('same'), file('mode', { mode: 0o600 }), file('alone')] },
      { arch: 'x86_64', entries: [file('same'), file('mode')] },
      { arch: 'i386', entries: [file('same'), file('alone')] },
    ]);
    expect(result.map((s) => [...s].sort())).toEqual([['same'], ['same'], []]);
  });
});
