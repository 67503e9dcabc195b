/**
 * What an xz encoder has really done: the blocks it has written out (XzBlockScanner over real
 * encoder output), and the xz program's own count on SIGUSR1 (its input compressed so far,
 * blocks in flight included), read through the command wrapper.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { XzBlockScanner } from '../../src/formats/xz-blocks.js';
import { type EncoderReport } from '../../src/formats/registry.js';
import { lzma, parseXzReport, xzEncoder, xzStream } from '../../src/formats/xz-encoder.js';
import { describeIf, unmet } from '../support/needs.js';

const MiB = 1 << 20;

/** Runs `input` through an encoder stream; returns its output chunks in order. */
async function encode(stream: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  stream.end(input);
  await ended;
  return out;
}

/** The scanner's count after each piece of `output` cut into `size`-byte pieces. */
function countsAlong(output: Buffer, size: number): Array<number | undefined> {
  const scanner = new XzBlockScanner();
  const counts: Array<number | undefined> = [];
  for (let at = 0; at < output.length; at += size) {
    scanner.push(output.subarray(at, at + size));
    if (counts.length === 0 || counts.at(-1) !== scanner.completed) counts.push(scanner.completed);
  }
  return counts;
}

describe('XzBlockScanner', () => {
  // Level 1: blocks of 3 MiB, three times its 1 MiB dictionary.
  const input = Buffer.from(randomBytes(6 * MiB).toString('base64')).subarray(0, 7 * MiB + 12345);

  it("counts the input of each block from its header on (written once the block is done), in any cut of the stream", async () => {
    const out = Buffer.concat(await encode(lzma().createStream('easyEncoder', { preset: 1, threads: 2, check: lzma().CHECK_CRC64 }), input));
    // 0 after the stream header, then each block with its header (the first within 7777 bytes).
    expect(countsAlong(out, 13)).toEqual([0, 3 * MiB, 6 * MiB, input.length]);
    expect(countsAlong(out, 7777)).toEqual([3 * MiB, 6 * MiB, input.length]);
    expect(countsAlong(out, out.length)).toEqual([input.length]);
  });

  it('knows nothing of a single-threaded stream, whose block headers carry no sizes', async () => {
    const out = Buffer.concat(await encode(lzma().createStream('easyEncoder', { preset: 1, check: lzma().CHECK_CRC64 }), input.subarray(0, MiB)));
    expect(countsAlong(out, 4096)).toEqual([undefined]);
  });
});

describe('parseXzReport', () => {
  it('reads xz\'s progress line: compressed / uncompressed, other lines are not reports', () => {
    expect(parseXzReport('  --- %          2.9 MiB / 12.4 MiB = 0.231   4.9 MiB/s       0:02             ')).toEqual({
      encoded: Math.round(2.9 * MiB),
      consumed: Math.round(12.4 * MiB),
    });
    expect(parseXzReport('  --- %            0 B / 0 B = ---                         0:00')).toEqual({ encoded: 0, consumed: 0 });
    expect(parseXzReport('xz: (stdin): Cannot allocate memory')).toBeUndefined();
  });
});

describeIf(unmet({ programs: ['xz'] }) ?? (xzEncoder().name === 'xz' ? undefined : 'needs xz 5.4 or later'), 'the xz program\'s own count', () => {
  it('comes every second while it compresses, counting input compressed, not input read', async () => {
    // About 3 s of work for one thread at level 6.
    const input = Buffer.from(randomBytes(4 * MiB).toString('base64'));
    const encoder = xzStream(6, 1);
    const reports: Array<EncoderReport & { read: number | undefined }> = [];
    encoder.onReport!((r) => reports.push({ ...r, read: encoder.inputRead!() }));
    const out = Buffer.concat(await encode(encoder.stream, input));
    await encoder.done;
    expect(reports.length).toBeGreaterThanOrEqual(1);
    for (const r of reports) {
      expect(r.consumed).toBeGreaterThan(0);
      expect(r.consumed).toBeLessThanOrEqual(input.length);
      // Counts to 0.1 MiB.
      expect(r.encoded).toBeLessThanOrEqual(out.length + 0.05 * MiB);
    }
    // The whole input (one block of 24 MiB holds it) was read at once, long before it was compressed.
    expect(reports[0]!.read).toBeGreaterThanOrEqual(input.length);
    expect(reports[0]!.consumed).toBeLessThan(input.length * 0.9);
    // The output is the encoder's usual one: the reports went to the listener, not into it.
    expect(countsAlong(out, 65536).at(-1)).toBe(input.length);
  });
});
