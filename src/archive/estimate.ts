/**
 * Compressed sizes before anything is compressed: each image's tar stream is sampled at evenly
 * spaced places, the samples go through the real compressor (format, level, encoder), and the
 * ratio found is applied to the stream's exact length. Small images are compressed whole, which
 * gives their size exactly.
 *
 * The samples are fixed by the plan alone (offsets in the tar stream, no randomness): the same
 * roots give the same estimate. The range comes from how much the samples' ratios vary, widened
 * by what a sample cannot see (a sample starts with an empty dictionary, the medium's stream
 * does not).
 */
import fs from 'node:fs';
import { openForReading } from '../runtime/input-file.js';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import type { CompressionFormat } from '../formats/registry.js';
import { encodeHeader, headerLength, paddingAfter } from '../model/tar-header.js';
import { headerOf, tarSize } from '../model/member-header.js';
import { InputError, describeSystemError } from '../errors.js';
import { absoluteBytes, printable } from '../model/entry.js';
import type { ImageEstimate, MediumEstimate } from '../model/estimate.js';
import type { Member } from '../model/member.js';

export interface EstimateOptions {
  readonly format: CompressionFormat;
  readonly level: number;
  /** Samples compressed at once. */
  readonly jobs: number;
  /** Share of each image's stream to compress (default 1/16). */
  readonly fraction?: number;
  /** Bytes per sample (default 1 MiB). */
  readonly sampleBytes?: number;
}

/**
 * Measured on three Debian roots at xz -6 (see scripts/bench.js): 4 MiB samples missed single
 * images by up to 96% (too few samples where content changes in long stretches); 256 KiB ones
 * overestimated by 12% (a short sample compresses worse than the same bytes deep in a stream);
 * 1 MiB ones stayed within 17% per image and 3% for the medium.
 */
const DEFAULT_FRACTION = 1 / 16;
const DEFAULT_SAMPLE_BYTES = 1 << 20;
/** Images up to this size are compressed whole: their estimate is their size. */
const WHOLE_BELOW = 8 << 20;
/** What the samples' spread cannot show (a sample's fresh dictionary), at the least. */
const MARGIN_LOW = 0.08;
const MARGIN_HIGH = 0.08;
/** With a single sample there is no spread to measure. */
const SINGLE_SAMPLE_SPREAD = 0.15;

export async function estimateImages(
  images: ReadonlyArray<{ file: string; members: readonly Member[] }>,
  options: EstimateOptions,
): Promise<MediumEstimate> {
  const started = performance.now();
  const fraction = options.fraction ?? DEFAULT_FRACTION;
  const sampleBytes = options.sampleBytes ?? DEFAULT_SAMPLE_BYTES;
  const limit = pLimit(Math.max(1, options.jobs));
  const compress = (members: readonly Member[], start: number, length: number): Promise<number> =>
    limit(() => compressedLength(tarRange(members, start, length), options.format, options.level));

  const results = await Promise.all(
    images.map(async (image): Promise<ImageEstimate> => {
      const total = tarSize(image.members);
      const ranges = sampleRanges(total, fraction, sampleBytes, WHOLE_BELOW);
      const sizes = await Promise.all(ranges.map(([start, length]) => compress(image.members, start, length)));
      const sampled = ranges.reduce((n, [, length]) => n + length, 0);
      if (sampled >= total) {
        const bytes = sizes[0]!;
        return { file: image.file, tar_bytes: total, sampled, exact: true, bytes, low: bytes, high: bytes };
      }
      const ratios = sizes.map((c, i) => c / ranges[i]![1]);
      const ratio = sizes.reduce((n, c) => n + c, 0) / sampled;
      const bytes = Math.round(ratio * total);
      const spread = relativeSpread(ratios, ratio, sampled / total);
      return {
        file: image.file,
        tar_bytes: total,
        sampled,
        exact: false,
        bytes,
        low: Math.round(bytes * Math.max(0, 1 - spread - MARGIN_LOW)),
        high: Math.round(bytes * (1 + spread + MARGIN_HIGH)),
      };
    }),
  );
  const sum = (pick: (e: ImageEstimate) => number): number => results.reduce((n, e) => n + pick(e), 0);
  return {
    images: results,
    bytes: sum((e) => e.bytes),
    low: sum((e) => e.low),
    high: sum((e) => e.high),
    sampled: sum((e) => e.sampled),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The byte ranges of a stream of `total` bytes to compress: the whole stream when it is small,
 * else `ceil(total * fraction / sampleBytes)` samples, one in each equal stretch, starting on a
 * tar block. Where in its stretch a sample starts follows a fixed low-discrepancy sequence, so
 * that content laid out in regular stretches (one kind of file per folder) is not missed by
 * samples falling at the same place in each.
 */
export function sampleRanges(total: number, fraction: number, sampleBytes: number, wholeBelow = 0): Array<[number, number]> {
  const wanted = Math.max(sampleBytes, total * fraction);
  if (total <= wholeBelow || wanted * 2 >= total) return [[0, total]];
  const count = Math.ceil(wanted / sampleBytes);
  const stretch = total / count;
  const ranges: Array<[number, number]> = [];
  for (let k = 0; k < count; k++) {
    const place = (0.5 + k * 0.6180339887498949) % 1;
    const start = Math.floor((k * stretch + (stretch - sampleBytes) * place) / 512) * 512;
    ranges.push([start, Math.min(sampleBytes, total - start)]);
  }
  return ranges;
}

/** Two standard errors of the mean ratio, relative to it, with the finite-population correction. */
function relativeSpread(ratios: readonly number[], mean: number, share: number): number {
  if (ratios.length < 2 || mean === 0) return SINGLE_SAMPLE_SPREAD;
  const variance = ratios.reduce((n, r) => n + (r - mean) ** 2, 0) / (ratios.length - 1);
  const stderr = Math.sqrt(variance / ratios.length) * Math.sqrt(Math.max(0, 1 - share));
  return (2 * stderr) / mean;
}

async function compressedLength(source: Iterable<Buffer>, format: CompressionFormat, level: number): Promise<number> {
  const compressor = format.createCompressor(level, 1);
  let bytes = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  await Promise.all([pipeline(Readable.from(source, { objectMode: false }), compressor.stream, counter), compressor.done]);
  return bytes;
}

const CHUNK = 1 << 20;

/**
 * The bytes [start, start + length) of the tar stream that `tarChunks` writes for `members`,
 * reading only the parts of files that fall in the range. Files are not checked against the scan
 * here (an estimate); one that shrank reads as zeros.
 */
export function* tarRange(members: readonly Member[], start: number, length: number): Generator<Buffer> {
  const end = start + length;
  let offset = 0;
  for (const member of members) {
    if (offset >= end) return;
    const header = headerOf(member);
    const headerBytes = headerLength(header);
    const memberEnd = offset + headerBytes + header.size + paddingAfter(header.size);
    if (memberEnd <= start) {
      offset = memberEnd;
      continue;
    }
    const encoded = encodeHeader(header);
    yield* clip(encoded, offset, start, end);
    offset += headerBytes;
    if (header.size > 0) {
      yield* fileRange(member, Math.max(start - offset, 0), Math.min(end - offset, header.size));
      offset += header.size;
      const padding = paddingAfter(header.size);
      yield* clip(Buffer.alloc(padding), offset, start, end);
      offset += padding;
    }
  }
  // The end-of-archive blocks and the record padding are zeros.
  if (offset < end) yield* zeros(end - Math.max(offset, start));
}

/** The part of `bytes` (which sits at `at` in the stream) inside [start, end). */
function* clip(bytes: Buffer, at: number, start: number, end: number): Generator<Buffer> {
  const from = Math.max(start - at, 0);
  const to = Math.min(end - at, bytes.length);
  if (to > from) yield bytes.subarray(from, to);
}

function* zeros(count: number): Generator<Buffer> {
  while (count > 0) {
    const n = Math.min(count, CHUNK);
    yield Buffer.alloc(n);
    count -= n;
  }
}

/** Bytes [from, to) of a member's content. */
function* fileRange(member: Member, from: number, to: number): Generator<Buffer> {
  if (to <= from) return;
  const where = `${member.root}/${printable(member.entry.path)}`;
  const fd = openForReading(absoluteBytes(member.root, member.entry.path), where, 'run as root, or fix its permissions');
  try {
    for (let position = from; position < to; ) {
      const buffer = Buffer.alloc(Math.min(CHUNK, to - position));
      let n: number;
      try {
        n = fs.readSync(fd, buffer, 0, buffer.length, position);
      } catch (err) {
        throw new InputError(where, `cannot read: ${describeSystemError(err)}`);
      }
      // A file that shrank since the scan: the rest reads as zeros.
      if (n === 0) {
        yield* zeros(to - position);
        return;
      }
      yield n === buffer.length ? buffer : buffer.subarray(0, n);
      position += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
