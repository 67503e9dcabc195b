/**
 * Shards: `build --shard K/N` compresses shard K's images into the cache and writes no medium;
 * a plain build then assembles the medium from cache hits. GNU parallel with two local workers
 * runs the recipe of docs/cache-and-shards.md. A wrong shard spec is a usage error before any work; an interrupted
 * shard build leaves no partial entry.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itIf, unmet } from '../support/needs.js';
import { BIN, buildOk, fingerprint, mediacompose } from '../support/build.js';
import { sleep } from '../reliability/running-build.js';
import { buildJson, cacheListing, runAsync, twoRoots } from './helpers.js';

let work: string;
let composeIn: ReturnType<typeof twoRoots>;
const mediumOf = (compose: string): string => path.join(path.dirname(compose), 'out');

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-shard-'));
  composeIn = twoRoots(work, 1 << 20, 512 << 10);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface ShardJson {
  shard: { index: number; count: number };
  images: Array<{ file: string; cached: boolean }>;
  cache: { hits: number; misses: number };
}

function shardJson(compose: string, shard: string, cache: string): ShardJson {
  const r = mediacompose('build', compose, '--shard', shard, '--cache', cache, '--json');
  if (r.status !== 0) throw new Error(`shard build failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as ShardJson;
}

describe('build --shard K/N', () => {
  it('two shards split the images, write no medium, and the plain build takes them all from the cache', () => {
    const cache = path.join(work, 'cache-split');
    const compose = composeIn('split');
    const one = shardJson(compose, '1/2', cache);
    const two = shardJson(compose, '2/2', cache);
    expect(fs.existsSync(mediumOf(compose))).toBe(false);
    const files = [...one.images, ...two.images].map((i) => i.file);
    expect(new Set(files).size).toBe(files.length);
    expect(files.sort()).toEqual(['a-meta-x86_64.tar.gz', 'a-x86_64.tar.gz', 'b-meta-x86_64.tar.gz', 'b-x86_64.tar.gz', 'common-x86_64.tar.gz']);
    // The largest image (common) goes to shard 1, the next two to shard 2, ...
    expect(one.images[0]!.file).toBe('common-x86_64.tar.gz');
    expect(one.images.length).toBeGreaterThan(0);
    expect(two.images.length).toBeGreaterThan(0);
    // A shard run again finds its images in the cache.
    expect(shardJson(compose, '1/2', cache).cache).toMatchObject({ hits: one.images.length, misses: 0 });

    const assembled = buildJson(compose, '--cache', cache);
    expect(assembled.cache).toMatchObject({ hits: 5, misses: 0 });
    const reference = composeIn('split-reference');
    buildOk(reference, '--no-cache');
    expect(fingerprint(path.join(mediumOf(compose), 'images'))).toEqual(fingerprint(path.join(mediumOf(reference), 'images')));
  });

  itIf(unmet({ programs: ['parallel'] }), 'GNU parallel, two local workers, then the assembling build: the medium of a single build', () => {
    const cache = path.join(work, 'cache-parallel');
    const compose = composeIn('parallel', 'xz', 6);
    // The recipe of docs/cache-and-shards.md, with this checkout's mediacompose.
    execFileSync('parallel', ['--halt', 'now,fail=1', process.execPath, BIN, 'build', compose, '--shard', '{}/2', '--cache', cache, '--quiet', ':::', '1', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(fs.existsSync(mediumOf(compose))).toBe(false);
    expect(cacheListing(cache).entries).toHaveLength(5);
    const assembled = buildJson(compose, '--cache', cache);
    expect(assembled.cache).toMatchObject({ hits: 5, misses: 0 });
    const single = composeIn('parallel-single', 'xz', 6);
    buildOk(single, '--no-cache');
    expect(fingerprint(path.join(mediumOf(compose), 'images'))).toEqual(fingerprint(path.join(mediumOf(single), 'images')));
  });

  for (const spec of ['3/2', '0/2', '1/0', '2', 'a/b']) {
    it(`--shard ${spec}: exit 2 with one line, before any work`, () => {
      const cache = path.join(work, `cache-bad-${spec.replace('/', '-')}`);
      const compose = composeIn('bad-shard');
      const r = mediacompose('build', compose, '--shard', spec, '--cache', cache);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: --shard ${spec.replace('/', '\\/')}: .+ \\(.+\\)\\n$`));
      expect(fs.existsSync(cache)).toBe(false);
      expect(fs.existsSync(mediumOf(compose))).toBe(false);
    });
  }

  it('names the range when K is outside it', () => {
    const r = mediacompose('build', composeIn('range'), '--shard', '3/2');
    expect(r.stderr).toBe(
      'error: --shard 3/2: K must be between 1 and 2 (shards are numbered from 1; with a 0-based index such as JOB_COMPLETION_INDEX pass $((INDEX + 1)))\n',
    );
  });

  it('--shard with --no-cache: exit 2', () => {
    const r = mediacompose('build', composeIn('no-cache'), '--shard', '1/2', '--no-cache');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --shard needs the image cache (leave out --no-cache; the shards meet in the cache folder)\n');
  });

  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} during a shard's compression: the cache holds no partial entry`, async () => {
      const cache = path.join(work, `cache-${signal}`);
      // One shard with everything: 4 MiB of random data takes xz -6 seconds on one thread.
      const dir = path.join(work, `interrupted-${signal}`);
      const slow = twoRoots(dir, 4 << 20, 64 << 10)('compose', 'xz', 6);
      const run = runAsync(['build', slow, '--shard', '1/1', '--cache', cache, '--quiet', '--jobs', '1']);
      const deadline = Date.now() + 60_000;
      // Compressing: an entry is being assembled in a temporary folder.
      while (!cacheListing(cache).other.some((n) => fs.existsSync(path.join(cache, 'images', n, 'archive')))) {
        if (Date.now() > deadline) throw new Error('the shard build did not start compressing');
        await sleep(20);
      }
      await sleep(200);
      process.kill(run.pid, signal);
      const r = await run.done;
      // Killed by the signal itself, as the shell reports it (128 + n).
      expect(r.signal).toBe(signal);
      expect(128 + os.constants.signals[signal]).toBe(status);
      expect(r.stderr).toBe(`error: interrupted by ${signal}: staged files removed, the previous medium is unchanged\n`);
      expect(cacheListing(cache)).toEqual({ entries: [], other: [] });
      // The next run of the shard fills the cache.
      expect(shardJson(slow, '1/1', cache).cache).toMatchObject({ hits: 0, misses: 5 });
    }, 120_000);
  }
});
