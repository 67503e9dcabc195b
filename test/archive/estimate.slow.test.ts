/**
 * The compressed-size estimate: the sampled ranges are the bytes of the real tar stream, and on a
 * generated tree the estimate lands near the size the real writer produces, inside its range.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/formats/registry.js';
import { writeImage } from '../../src/archive/image-writer.js';
import { tarSize } from '../../src/model/member-header.js';
import { type TarTotals, tarChunks } from '../../src/archive/tar-stream.js';
import { type CompressionName } from '../../src/formats/registry.js';
import { estimateImages, sampleRanges, tarRange } from '../../src/archive/estimate.js';
import { type Member, wholeRootMembers } from '../../src/model/member.js';
import { scanRoot } from '../../src/scan/walk.js';

let work: string;
let members: Member[];

/**
 * Deterministic content of one of three kinds, as in an installed root: text (configuration,
 * scripts, documentation), binary-like (repeated structures with varying fields), or
 * incompressible (already compressed data).
 */
function fileContent(seed: number, size: number): Buffer {
  let x = (seed * 2654435761) >>> 0;
  const next = (): number => (x = (x * 1103515245 + 12345) >>> 0) >>> 16;
  const kind = seed % 5;
  if (kind === 4) {
    const out = Buffer.alloc(size);
    let block = createHash('sha256').update(String(seed)).digest();
    for (let i = 0; i < size; i += block.length) {
      block.copy(out, i);
      block = createHash('sha256').update(block).digest();
    }
    return out;
  }
  if (kind === 3) {
    const out = Buffer.alloc(size);
    for (let i = 0; i + 16 <= size; i += 16) {
      out.writeUInt32LE(0x464c457f, i);
      out.writeUInt32LE(i * 4 + (next() & 0xff), i + 4);
      out.writeUInt32LE(next(), i + 8);
      out.writeUInt16LE(next() & 0x0fff, i + 12);
    }
    return out;
  }
  const words = ['usr', 'lib', 'share', 'config', 'value', 'true', 'false', 'package', 'version', 'install', 'the', 'of', `w${seed}`];
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const line = `${words[next() % words.length]}=${next() % 1000} ${words[next() % words.length]} ${words[next() % words.length]}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-estimate-'));
  const root = path.join(work, 'root');
  for (let i = 0; i < 400; i++) {
    const dir = path.join(root, `d${i % 20}`);
    fs.mkdirSync(dir, { recursive: true });
    // Sizes from 1 kB to about 100 kB, and a few of a megabyte.
    const size = i % 47 === 0 ? 1_000_000 : 1000 + ((i * 7919) % 100_000);
    fs.writeFileSync(path.join(dir, `f${i}`), fileContent(i, size));
  }
  fs.symlinkSync('d1/f1', path.join(root, 'link'));
  fs.linkSync(path.join(root, 'd2/f2'), path.join(root, 'hard'));
  members = wholeRootMembers(root, (await scanRoot(root)).entries);
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
  it('takes the whole stream when it is small, else block-aligned samples, one in each equal stretch', () => {
    expect(sampleRanges(1000, 1 / 16, 4096)).toEqual([[0, 1000]]);
    expect(sampleRanges(8 << 20, 1 / 16, 1 << 20, 8 << 20)).toEqual([[0, 8 << 20]]);
    const total = 160 << 20;
    const ranges = sampleRanges(total, 1 / 16, 1 << 20, 8 << 20);
    expect(ranges).toHaveLength(10);
    ranges.forEach(([start, length], k) => {
      expect(start % 512).toBe(0);
      expect(length).toBe(1 << 20);
      expect(start).toBeGreaterThanOrEqual((k * total) / 10 - 512);
      expect(start + length).toBeLessThanOrEqual(((k + 1) * total) / 10);
    });
    // Not at the same place in every stretch.
    expect(new Set(ranges.map(([start], k) => Math.round((start - (k * total) / 10) / 4096))).size).toBeGreaterThan(5);
  });
});

describe('estimateImages on a generated tree', () => {
  it.each(['gzip', 'xz'] as CompressionName[])('%s: within 15 percent of the written archive, which lies in the range', async (name) => {
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
  }, 600_000);

  it('is exact for an image small enough to compress whole', async () => {
    const format = FORMATS.gzip;
    const few = members.slice(0, 30);
    const written = await writeImage(few, path.join(work, 'few.tar.gz'), { format, level: 6, threads: 1 });
    const estimate = await estimateImages([{ file: 'few', members: few }], { format, level: 6, jobs: 1 });
    expect(estimate.images[0]).toMatchObject({ exact: true, bytes: written.compressedSize, low: written.compressedSize, high: written.compressedSize });
  });
});
