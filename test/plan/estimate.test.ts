/**
 * The compressed-size estimate: the sampled ranges are the bytes of the real tar stream, and on a
 * generated tree the estimate lands near the size the real writer produces, inside its range.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/archive/compression.js';
import { writeImage } from '../../src/archive/image-writer.js';
import { type TarTotals, tarChunks, tarSize } from '../../src/archive/tar-stream.js';
import type { CompressionName } from '../../src/config/spec.js';
import { estimateImages, sampleRanges, tarRange } from '../../src/plan/estimate.js';
import type { Member } from '../../src/plan/plan.js';
import { scanRoot } from '../../src/scan/walk.js';

let work: string;
let members: Member[];

/** Text-like lines from a small vocabulary, then some incompressible bytes, per file. */
function fileContent(seed: number, size: number): Buffer {
  const words = ['usr', 'lib', 'share', 'config', 'value', 'true', 'false', 'package', 'version', 'install', 'the', 'of'];
  let x = seed * 2654435761 >>> 0;
  const next = (): number => (x = (x * 1103515245 + 12345) >>> 0) >>> 16;
  const parts: string[] = [];
  let length = 0;
  while (length < size * 0.7) {
    const line = `${words[next() % words.length]}=${next() % 1000} ${words[next() % words.length]}\n`;
    parts.push(line);
    length += line.length;
  }
  const text = Buffer.from(parts.join('')).subarray(0, Math.floor(size * 0.7));
  const noise = Buffer.alloc(size - text.length);
  let block = createHash('sha256').update(String(seed)).digest();
  for (let i = 0; i < noise.length; i += block.length) {
    block.copy(noise, i);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat([text, noise]);
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-estimate-'));
  const root = path.join(work, 'root');
  for (let i = 0; i < 400; i++) {
    const dir = path.join(root, `d${i % 20}`);
    fs.mkdirSync(dir, { recursive: true });
    // Sizes from 1 kB to about 60 kB, and a few large files.
    const size = i % 50 === 0 ? 1_500_000 : 1000 + ((i * 7919) % 60_000);
    fs.writeFileSync(path.join(dir, `f${i}`), fileContent(i, size));
  }
  fs.symlinkSync('d1/f1', path.join(root, 'link'));
  fs.linkSync(path.join(root, 'd2/f2'), path.join(root, 'hard'));
  const first = new Map<string, string>();
  members = scanRoot(root).entries.map((entry) => {
    if (entry.inode === undefined) return { entry, root };
    const target = first.get(entry.inode);
    if (target === undefined) {
      first.set(entry.inode, entry.path);
      return { entry, root };
    }
    return { entry, root, linkTo: target };
  });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('tarRange', () => {
  it('gives exactly the bytes of the tar stream the writer produces, for any range', () => {
    const totals: TarTotals = { bytes: 0, members: 0 };
    const whole = Buffer.concat([...tarChunks(members, totals)]);
    expect(whole.length).toBe(tarSize(members));
    const ranges: Array<[number, number]> = [[0, whole.length], [0, 100], [511, 513], [whole.length - 12_345, 12_345], [3_000_001, 2_000_000], ...sampleRanges(whole.length, 1 / 8, 256 << 10)];
    for (const [start, length] of ranges) {
      const got = Buffer.concat([...tarRange(members, start, length)]);
      expect(got.equals(whole.subarray(start, start + length)), `range ${start}+${length}`).toBe(true);
    }
  });
});

describe('sampleRanges', () => {
  it('takes the whole stream when it is small, else evenly spaced block-aligned samples', () => {
    expect(sampleRanges(1000, 1 / 16, 4096)).toEqual([[0, 1000]]);
    const ranges = sampleRanges(160 << 20, 1 / 16, 4 << 20);
    expect(ranges).toHaveLength(3);
    for (const [start, length] of ranges) {
      expect(start % 512).toBe(0);
      expect(length).toBe(4 << 20);
    }
    expect(ranges[0]![0]).toBeGreaterThan(0);
    expect(ranges[2]![0] + (4 << 20)).toBeLessThan(160 << 20);
  });
});

describe('estimateImages on a generated tree', () => {
  it.each(['gzip', 'xz'] as CompressionName[])('%s: within 15%% of the written archive, which lies in the range', async (name) => {
    const format = FORMATS[name];
    const written = await writeImage(members, path.join(work, `image.${format.extension}`), { format, level: 6, threads: 2 });
    const estimate = await estimateImages([{ file: 'image', members }], { format, level: 6, jobs: 2, fraction: 1 / 8, sampleBytes: 512 << 10 });
    const image = estimate.images[0]!;
    expect(image.exact).toBe(false);
    expect(image.tar_bytes).toBe(written.size);
    expect(image.sampled).toBeLessThan(written.size / 4);
    expect(Math.abs(image.bytes - written.compressedSize) / written.compressedSize).toBeLessThan(0.15);
    expect(image.low).toBeLessThanOrEqual(written.compressedSize);
    expect(image.high).toBeGreaterThanOrEqual(written.compressedSize);
    expect(estimate.bytes).toBe(image.bytes);
  }, 120_000);

  it('is exact for an image small enough to compress whole', async () => {
    const format = FORMATS.gzip;
    const few = members.slice(0, 30);
    const written = await writeImage(few, path.join(work, 'few.tar.gz'), { format, level: 6, threads: 1 });
    const estimate = await estimateImages([{ file: 'few', members: few }], { format, level: 6, jobs: 1 });
    expect(estimate.images[0]).toMatchObject({ exact: true, bytes: written.compressedSize, low: written.compressedSize, high: written.compressedSize });
  });
});
