/**
 * The pure parts: shard assignment, the thread budget, the cache key and where the cache lives.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheFolder, parseCacheSize } from '../../src/cache/location.js';
import { imageKey } from '../../src/cache/key.js';
import type { Member } from '../../src/model/member.js';
import type { Entry } from '../../src/model/entry.js';
import { assignShards, parseShard } from '../../src/schedule/shard.js';
import { ThreadBudget } from '../../src/schedule/threads.js';
import { FORMATS } from '../../src/formats/registry.js';

describe('assignShards', () => {
  const images = [
    { name: 'small', bytes: 10 },
    { name: 'big', bytes: 1000 },
    { name: 'mid-b', bytes: 400 },
    { name: 'mid-a', bytes: 400 },
    { name: 'tiny', bytes: 1 },
  ];

  it('goes largest first, each to the shard with the fewest bytes so far, ties to the lower shard', () => {
    expect(Object.fromEntries(assignShards(images, 2))).toEqual({ big: 1, 'mid-a': 2, 'mid-b': 2, small: 2, tiny: 2 });
    expect(Object.fromEntries(assignShards(images, 3))).toEqual({ big: 1, 'mid-a': 2, 'mid-b': 3, small: 2, tiny: 3 });
  });

  it('depends on nothing but names and sizes: any input order gives the same shards', () => {
    const reversed = [...images].reverse();
    expect(assignShards(reversed, 3)).toEqual(assignShards(images, 3));
  });

  it('every image in exactly one shard, shards without images when there are more shards than images', () => {
    const shards = assignShards(images, 8);
    expect([...shards.keys()].sort()).toEqual(images.map((i) => i.name).sort());
    expect(new Set(shards.values()).size).toBe(5);
    expect(Math.max(...shards.values())).toBeLessThanOrEqual(8);
  });
});

describe('parseShard', () => {
  it('reads K/N, 1-based', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
  });
  it('refuses K outside 1..N and anything not K/N, as usage errors', () => {
    for (const bad of ['0/4', '5/4', '1/0', '4', '-1/4', '1/4/2', '']) {
      expect(() => parseShard(bad)).toThrow(expect.objectContaining({ exitStatus: 2 }));
    }
  });
});

describe('ThreadBudget', () => {
  it('grants what is free, at least one, in the order asked, and never more than the total at once', async () => {
    const budget = new ThreadBudget(4);
    expect(await budget.acquire(8)).toBe(4);
    const waiting = [budget.acquire(1), budget.acquire(3)];
    let granted: number[] = [];
    void Promise.all(waiting).then((g) => (granted = g));
    await Promise.resolve();
    expect(granted).toEqual([]);
    budget.release(4);
    expect(await Promise.all(waiting)).toEqual([1, 3]);
    budget.release(1);
    // Two free threads, asked for three: gets two now rather than waiting.
    const partial = budget.acquire(3);
    expect(await partial).toBe(1);
    expect(budget.peak).toBe(4);
  });

  it('xz images use one thread per block of their preset; one-stream formats one thread', () => {
    expect(FORMATS.xz.usefulThreads(6, 1)).toBe(1);
    expect(FORMATS.xz.usefulThreads(6, 24 * 1024 ** 2)).toBe(1);
    expect(FORMATS.xz.usefulThreads(6, 24 * 1024 ** 2 + 1)).toBe(2);
    expect(FORMATS.xz.usefulThreads(6, 200e6)).toBe(8);
    expect(FORMATS.xz.usefulThreads(9, 250e6)).toBe(2);
    expect(FORMATS.gzip.usefulThreads(9, 200e6)).toBe(1);
    expect(FORMATS.lzma.usefulThreads(6, 200e6)).toBe(1);
    expect(FORMATS.bzip2.usefulThreads(9, 1_800_001)).toBe(3);
  });
});

describe('imageKey', () => {
  const entry = (over: Partial<Entry> = {}): Entry => ({
    path: 'etc/hostname', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, size: 5, devmajor: 0, devminor: 0, ...over,
  });
  const member = (over: Partial<Entry> = {}, digest = 'a'.repeat(64), root = '/r1'): Member => ({ entry: entry(over), root, digest });
  const enc = { format: 'xz', level: 6, encoder: 'lzma-native 8.0.6 (liblzma 5.2.3)' };
  const base = imageKey([member()], enc);

  it('is the same for the same tar stream, whichever root it is read from', () => {
    expect(imageKey([member({}, 'a'.repeat(64), '/elsewhere')], enc)).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any header field, the content, the order, the format, level or encoder', () => {
    const others = [
      imageKey([member({ mode: 0o600 })], enc),
      imageKey([member({ uid: 1 })], enc),
      imageKey([member({ mtime: 1_700_000_001 })], enc),
      imageKey([member({ path: 'etc/hostnamf' })], enc),
      imageKey([member({}, 'b'.repeat(64))], enc),
      imageKey([member(), member({ path: 'etc/x' })], enc),
      imageKey([member({ path: 'etc/x' }), member()], enc),
      imageKey([member()], { ...enc, level: 5 }),
      imageKey([member()], { ...enc, format: 'lzma' }),
      imageKey([member()], { ...enc, encoder: 'xz 5.4.1' }),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('refuses a member with content but no digest', () => {
    expect(() => imageKey([{ entry: entry(), root: '/r1' }], enc)).toThrow(/no content digest/);
  });
});

describe('where the cache lives', () => {
  it('--cache, else $MEDIACOMPOSE_CACHE, else $XDG_CACHE_HOME/mediacompose, else ~/.cache/mediacompose', () => {
    const env = { MEDIACOMPOSE_CACHE: '/m', XDG_CACHE_HOME: '/x', HOME: '/h' };
    expect(cacheFolder('/flag', env)).toBe('/flag');
    expect(cacheFolder(undefined, env)).toBe('/m');
    expect(cacheFolder(undefined, { ...env, MEDIACOMPOSE_CACHE: '' })).toBe('/x/mediacompose');
    // A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
    expect(cacheFolder(undefined, { XDG_CACHE_HOME: 'rel', HOME: '/h' })).toBe('/h/.cache/mediacompose');
    expect(cacheFolder(undefined, { HOME: '/h' })).toBe('/h/.cache/mediacompose');
    expect(cacheFolder('rel', {})).toBe(path.resolve('rel'));
    expect(cacheFolder(undefined, {})).toBe(path.join(os.homedir(), '.cache', 'mediacompose'));
  });

  it('reads sizes with binary units', () => {
    expect(parseCacheSize('4GiB')).toBe(4 * 1024 ** 3);
    expect(parseCacheSize('500MiB')).toBe(500 * 1024 ** 2);
    expect(parseCacheSize('1234')).toBe(1234);
    expect(() => parseCacheSize('4GB')).toThrow(/--cache-size 4GB: not a size/);
  });
});
