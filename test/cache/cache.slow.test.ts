/**
 * The image cache through the command line: a warm build takes every image from the cache and
 * writes the same bytes as a cold one; a change recompresses only the images holding it; a
 * damaged entry is dropped and rebuilt; least recently used entries go when the cache is over
 * its bound; two builds share one cache at once.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, composeYaml, fingerprint, mediacomposeWith, writeCompose } from '../support/build.js';
import { NO_KEY_WARNING } from '../../src/checksums/medium.js';
import { deploy } from '../support/installer.js';
import { itIf } from '../support/needs.js';
import { diffTrees, listTree } from '../support/tree.js';
import { buildJson, cacheListing, entryBytes, makeRoot, runAsync, twoRoots } from './helpers.js';

let work: string;
let composeIn: ReturnType<typeof twoRoots>;
const mediumOf = (compose: string): string => path.join(path.dirname(compose), 'out', 'images');
const cached = (r: { images: Array<{ file: string; cached: boolean }> }, value: boolean): string[] =>
  r.images.filter((i) => i.cached === value).map((i) => i.file).sort();

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cache-'));
  composeIn = twoRoots(work, 1 << 20, 256 << 10);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the image cache', () => {
  it('a cold build compresses every image into the cache; a warm one takes them all and writes the same bytes', () => {
    const cache = path.join(work, 'cache-warm');
    const reference = composeIn('reference');
    buildOk(reference, '--no-cache');
    expect(fs.existsSync(cache)).toBe(false);

    const cold = buildJson(composeIn('cold'), '--cache', cache);
    expect(cold.images).toHaveLength(5);
    expect(cold.cache).toMatchObject({ folder: cache, hits: 0, misses: 5, damaged: 0, evicted: 0 });
    expect(cached(cold, true)).toEqual([]);
    expect(cacheListing(cache)).toEqual({ entries: expect.any(Array), other: [] });
    expect(cacheListing(cache).entries).toHaveLength(5);

    const warm = buildJson(composeIn('warm'), '--cache', cache);
    expect(warm.cache).toMatchObject({ hits: 5, misses: 0, damaged: 0 });
    expect(cached(warm, false)).toEqual([]);
    // Details come along from the cache: the same sizes and member counts.
    expect(warm.images).toEqual(cold.images.map((i) => ({ ...i, cached: true })));
    const expected = fingerprint(mediumOf(reference));
    expect(fingerprint(mediumOf(composeIn('cold')))).toEqual(expected);
    expect(fingerprint(mediumOf(composeIn('warm')))).toEqual(expected);
    // And the installer's tar deploys the warm medium to the root it came from.
    const { target, warnings } = deploy(path.dirname(mediumOf(composeIn('warm'))), 'base,b', work);
    expect(warnings).toEqual([]);
    expect(diffTrees(listTree(path.join(work, 'roots', 'b')), listTree(target))).toEqual([]);
  });

  it('a changed file, mode or mtime recompresses only the images holding it; a level change, all of them', () => {
    const cache = path.join(work, 'cache-change');
    const compose = composeIn('change');
    buildJson(compose, '--cache', cache);
    const own = path.join(work, 'roots', 'b', 'usr', 'share', 'b.bin');
    const content = fs.readFileSync(own);
    content[1000] = content[1000]! ^ 0xff;
    const stat = fs.statSync(own);
    fs.writeFileSync(own, content);
    // Same size and mtime: only the content digest tells.
    fs.utimesSync(own, stat.atime, stat.mtime);
    try {
      const changed = buildJson(compose, '--cache', cache);
      expect(cached(changed, false)).toEqual(['b-x86_64.tar.gz']);
      expect(changed.cache).toMatchObject({ hits: 4, misses: 1 });
      const reference = composeIn('change-reference');
      buildOk(reference, '--no-cache');
      expect(fingerprint(mediumOf(compose))).toEqual(fingerprint(mediumOf(reference)));

      fs.chmodSync(path.join(work, 'roots', 'a', 'etc', 'hostname'), 0o600);
      expect(cached(buildJson(compose, '--cache', cache), false)).toEqual(['a-x86_64.tar.gz']);
      fs.utimesSync(path.join(work, 'roots', 'a', 'etc', 'hostname'), 1_600_000_000, 1_600_000_000);
      expect(cached(buildJson(compose, '--cache', cache), false)).toEqual(['a-x86_64.tar.gz']);

      const level = buildJson(composeIn('change-level', 'gzip', 2), '--cache', cache);
      expect(level.cache).toMatchObject({ hits: 0, misses: 5 });
    } finally {
      content[1000] = content[1000]! ^ 0xff;
      fs.writeFileSync(own, content);
      fs.utimesSync(own, stat.atime, stat.mtime);
      fs.chmodSync(path.join(work, 'roots', 'a', 'etc', 'hostname'), 0o644);
    }
  });

  it('a damaged entry is dropped with a warning and compressed again; the medium is unharmed', () => {
    const cache = path.join(work, 'cache-damaged');
    const compose = composeIn('damaged');
    const cold = buildJson(compose, '--cache', cache);
    const expected = fingerprint(mediumOf(compose));
    const common = cold.images.find((i) => i.file === 'common-x86_64.tar.gz')!;
    // The one entry whose archive is as large as the common image: flip a byte in the middle.
    const key = cacheListing(cache).entries.find((k) => fs.statSync(path.join(cache, 'images', k, 'archive')).size === common.compressedSize)!;
    const archive = path.join(cache, 'images', key, 'archive');
    const fd = fs.openSync(archive, 'r+');
    fs.writeSync(fd, Buffer.from([0x55]), 0, 1, Math.floor(common.compressedSize / 2));
    fs.closeSync(fd);

    const r = buildJson(compose, '--cache', cache);
    expect(r.stderr).toContain(
      `warning: image cache entry ${path.join(cache, 'images', key)} is damaged (its archive does not match its recorded sha256): dropped, the image is compressed again\n`,
    );
    expect(r.cache).toMatchObject({ hits: 4, misses: 1, damaged: 1 });
    expect(cached(r, false)).toEqual(['common-x86_64.tar.gz']);
    expect(fingerprint(mediumOf(compose))).toEqual(expected);
    // Rebuilt under the same key, whole again.
    expect(buildJson(compose, '--cache', cache).cache).toMatchObject({ hits: 5, misses: 0, damaged: 0 });
  });

  it('over its size bound, the least recently used entries go, never those of the running build', () => {
    const cache = path.join(work, 'cache-evict');
    const composeFor = (name: string, bytes: number): string => {
      const dir = path.join(work, 'evict', name);
      makeRoot(path.join(dir, 'root'), name, Buffer.from('shared\n'), bytes);
      fs.writeFileSync(path.join(dir, 'compose.yaml'), `version: 1\nmedium: out\ncompression: gzip\nlevel: 1\narch: x86_64\nimagesets:\n  - {name: ${name}, patterns: [${name}], root: root}\n`);
      return path.join(dir, 'compose.yaml');
    };
    const x = composeFor('x', 300 << 10);
    const y = composeFor('y', 600 << 10);
    const z = composeFor('z', 300 << 10);
    const keysAfter = (compose: string, ...args: string[]): string[] => {
      const before = new Set(cacheListing(cache).entries);
      buildJson(compose, '--cache', cache, ...args);
      return cacheListing(cache).entries.filter((k) => !before.has(k));
    };
    const xKeys = keysAfter(x);
    const yKeys = keysAfter(y);
    expect(xKeys).toHaveLength(2);
    expect(yKeys).toHaveLength(2);
    // x used again: now y is the least recently used.
    expect(buildJson(x, '--cache', cache).cache).toMatchObject({ hits: 2, misses: 0 });
    // Room for x and z (z is the size of x), not for y as well.
    const bound = 2 * entryBytes(cache, xKeys) + (64 << 10);
    expect(bound).toBeLessThan(2 * entryBytes(cache, xKeys) + entryBytes(cache, yKeys));
    const before = new Set(cacheListing(cache).entries);
    const largestY = [...yKeys].sort((a, b) => entryBytes(cache, [b]) - entryBytes(cache, [a]))[0]!;
    const r = buildJson(z, '--cache', cache, '--cache-size', String(bound));
    const left = cacheListing(cache).entries;
    const zKeys = left.filter((k) => !before.has(k));
    expect(zKeys).toHaveLength(2);
    expect(r.cache).toMatchObject({ misses: 2 });
    expect(r.cache!.bytes).toBeLessThanOrEqual(bound);
    // x, used more recently than y, stays; y's entries go, the larger one at least.
    expect(left).toEqual(expect.arrayContaining([...xKeys, ...zKeys]));
    expect(left).not.toContain(largestY);
    expect(r.cache!.evicted).toBe(yKeys.filter((k) => !left.includes(k)).length);
    expect(left).toHaveLength(6 - r.cache!.evicted);

    // A bound smaller than the build itself: its own entries stay, every other goes, a warning.
    const tiny = buildJson(y, '--cache', cache, '--cache-size', '1KiB');
    expect(tiny.cache!.evicted).toBe(4);
    expect(tiny.stderr).toMatch(/warning: the image cache holds \d+ MiB, over its bound of 0 MiB, all of it for this build \(raise --cache-size\)\n/);
    expect(cacheListing(cache).entries.sort()).toEqual([...yKeys].sort());
  });

  it('two builds share one cache at once: both media complete and identical, each entry once, nothing half-written', async () => {
    const cache = path.join(work, 'cache-shared');
    const first = composeIn('together-1', 'xz', 6);
    const second = composeIn('together-2', 'xz', 6);
    const both = await Promise.all([first, second].map((c) => runAsync(['build', c, '--quiet', '--json', '--cache', cache]).done));
    for (const r of both) {
      // Nothing but the warning every build without a checksums key gives.
      expect(r.stderr).toBe(`warning: ${NO_KEY_WARNING}\n`);
      expect(r.status).toBe(0);
    }
    const reference = composeIn('together-reference', 'xz', 6);
    buildOk(reference, '--no-cache');
    expect(fingerprint(mediumOf(first))).toEqual(fingerprint(mediumOf(reference)));
    expect(fingerprint(mediumOf(second))).toEqual(fingerprint(mediumOf(reference)));
    expect(cacheListing(cache).entries).toHaveLength(5);
    expect(cacheListing(cache).other).toEqual([]);
    const third = buildJson(first, '--cache', cache);
    expect(third.cache).toMatchObject({ hits: 5, misses: 0, damaged: 0 });
  });

  it('lives in $MEDIACOMPOSE_CACHE, else $XDG_CACHE_HOME/mediacompose; --no-cache leaves it alone', () => {
    const compose = composeIn('where');
    const env = path.join(work, 'env-cache');
    const xdg = path.join(work, 'xdg');
    expect(mediacomposeWith({ MEDIACOMPOSE_CACHE: env }, 'build', compose, '--quiet').status).toBe(0);
    expect(cacheListing(env).entries).toHaveLength(5);
    expect(mediacomposeWith({ MEDIACOMPOSE_CACHE: '', XDG_CACHE_HOME: xdg }, 'build', compose, '--quiet').status).toBe(0);
    expect(cacheListing(path.join(xdg, 'mediacompose')).entries).toHaveLength(5);
    const none = path.join(work, 'no-cache');
    expect(mediacomposeWith({ MEDIACOMPOSE_CACHE: none }, 'build', compose, '--quiet', '--no-cache').status).toBe(0);
    expect(fs.existsSync(none)).toBe(false);
  });

  itIf(os.availableParallelism() < 2 ? 'needs 2 cores' : undefined, 'keeps the encoder threads within the --jobs budget, and uses all of it', () => {
    // Three roots of 3 MiB of random bytes each: three xz images that take a second or more
    // each to compress, and that all ask for threads at once. At level 3 an xz block is 12 MiB,
    // so each image asks for one thread: a peak of 2 is two images compressing at once.
    const dir = path.join(work, 'contention');
    const names = ['c1', 'c2', 'c3'];
    const shared = randomBytes(4 << 10);
    for (const name of names) makeRoot(path.join(dir, 'roots', name), name, shared, 3 << 20);
    const compose = writeCompose(
      dir,
      composeYaml({ medium: 'out', compression: 'xz', level: 3, imagesets: names.map((name) => ({ name, patterns: ['base', name], root: `roots/${name}` })) }),
    );

    const one = buildJson(compose, '--no-cache', '--jobs', '1');
    expect(one.cache).toBeNull();
    expect(one.images.filter((i) => i.size >= 3 << 20)).toHaveLength(3);
    expect(one.threads).toEqual({ budget: 1, peak: 1 });
    expect(one.peakMemory).toBeGreaterThan(10 << 20);

    const two = buildJson(compose, '--no-cache', '--jobs', '2');
    expect(two.threads.budget).toBe(2);
    expect(two.threads.peak).toBeLessThanOrEqual(two.threads.budget);
    expect(two.threads.peak).toBe(2);
  });

  it('counts the compressor processes in the peak memory', () => {
    // xz -6 on 4 MiB of random bytes holds about 64 MiB for seconds; gzip runs in-process.
    const roots = twoRoots(path.join(work, 'memory'), 4 << 20, 64 << 10);
    const xz = buildJson(roots('xz', 'xz', 6), '--no-cache', '--jobs', '1');
    const gzip = buildJson(roots('gzip', 'gzip', 1), '--no-cache', '--jobs', '1');
    expect(xz.peakMemory - gzip.peakMemory).toBeGreaterThan(40 << 20);
  });
});
