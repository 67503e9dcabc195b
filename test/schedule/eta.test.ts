/**
 * The compression estimate as pure functions of what the encoders reported and when: xz's
 * blocks (read at once, written out whole), xz's own count, stream encoders, and the rest of
 * the schedule played forward on the thread budget.
 */
import { describe, expect, it } from 'vitest';
import type { ImageMeter, ImageToWrite } from '../../src/runtime/progress.js';
import { ImageEstimate, ratioSoFar, secondsLeft, threadRate } from '../../src/schedule/eta.js';

const MB = 1_000_000;

/** An xz image of `blocks` blocks of 10 MB that asks for `threads` threads. */
function xzImage(file: string, blocks: number, threads: number): ImageEstimate {
  return new ImageEstimate({ file, bytes: blocks * 10 * MB, threads, blockBytes: 10 * MB, holds: 0 });
}

function streamImage(file: string, bytes: number, holds = 0): ImageEstimate {
  return new ImageEstimate({ file, bytes, threads: 1, holds } satisfies ImageToWrite);
}

const meter = (m: Partial<ImageMeter>): ImageMeter => ({ fed: m.read ?? 0, written: 0, ...m });

describe('an xz image followed by its own count (the xz program)', () => {
  /** 3 blocks on 2 threads, 1 MB/s per thread: blocks 0 and 1 from 0 s to 10 s, block 2 from 10 s to 20 s. */
  function threeBlocks(): ImageEstimate {
    const image = xzImage('a.tar.xz', 3, 2);
    image.started(0, 2);
    // xz reads a block per thread at once: 20 MB of input taken, none of it compressed yet.
    image.update(0.1, meter({ read: 20 * MB }));
    image.update(5, meter({ read: 20 * MB, consumed: 10 * MB, encoded: 3 * MB }));
    // Block 0 is written out, block 1 done too, block 2 read at once.
    image.update(10, meter({ read: 30 * MB, consumed: 20 * MB, encoded: 6 * MB, completed: 10 * MB, written: 3 * MB }));
    return image;
  }

  it('counts what the encoder compressed, not what it read', () => {
    const image = xzImage('a.tar.xz', 3, 2);
    image.started(0, 2);
    image.update(0.1, meter({ read: 20 * MB }));
    expect(image.done(0.1, undefined)).toBe(0);
    image.update(5, meter({ read: 20 * MB, consumed: 10 * MB }));
    expect(image.done(5, undefined)).toBe(10 * MB);
    // Its own rate: 10 MB over two busy threads for 5 s.
    expect(image.ownRate(undefined)).toBe(1 * MB);
  });

  it('with all input read, the last block still takes its 10 s', () => {
    const image = threeBlocks();
    const rate = threadRate([image], 10)!;
    expect(rate).toBeCloseTo(1 * MB, -3);
    expect(image.done(10, rate)).toBe(20 * MB);
    expect(secondsLeft([image], 2, 10, rate)).toBeCloseTo(10, 1);
    // Half-way through block 2, by the rate: 5 s left.
    expect(secondsLeft([image], 2, 15, rate)).toBeCloseTo(5, 1);
  });

  it('shows the compressed size as the encoder made it, blocks not yet written out included', () => {
    const image = threeBlocks();
    expect(image.compressed(10, 1 * MB, undefined)).toEqual({ bytes: 6 * MB, estimated: true });
    image.finished(20, 9 * MB, false);
    expect(image.compressed(20, 1 * MB, undefined)).toEqual({ bytes: 9 * MB, estimated: false });
    expect(image.done(20, 1 * MB)).toBe(30 * MB);
  });
});

describe('an xz image without the encoder\'s count (lzma-native): its blocks', () => {
  it('a block in flight has done the rate of the finished blocks times its age, at most its input read', () => {
    const image = xzImage('a.tar.xz', 4, 2);
    image.started(0, 2);
    image.update(0.1, meter({ fed: 20 * MB, read: undefined }));
    // Block 0 finished at 8 s: a thread is free and block 2 is read (its start is block 0's end).
    image.update(8, meter({ fed: 30 * MB, read: undefined }));
    expect(image.finishedBlocks()).toEqual([{ bytes: 10 * MB, seconds: 7.9 }]);
    const rate = threadRate([image], 8)!;
    expect(rate).toBeCloseTo(10 * MB / 7.9, 0);
    // Block 1 (age 7.9 s) about done, block 2 (age 0) nothing yet.
    expect(image.done(8, rate)).toBeCloseTo(20 * MB, -3);
    // Written out only now: blocks 0 and 1; block 1's end is the moment it was seen.
    image.update(9, meter({ fed: 30 * MB, read: undefined, completed: 20 * MB }));
    expect(image.finishedBlocks().map((b) => b.seconds)).toEqual([7.9, 8.9]);
  });
});

describe('stream encoders', () => {
  it('have done what they read less what they may hold', () => {
    const gzip = streamImage('a.tar.gz', 20 * MB);
    gzip.started(0, 1);
    gzip.update(4, meter({ fed: 8 * MB }));
    expect(gzip.done(4, undefined)).toBe(8 * MB);
    const rate = threadRate([gzip], 4)!;
    expect(rate).toBe(2 * MB);
    expect(secondsLeft([gzip], 1, 4, rate)).toBeCloseTo(6, 6);

    const bzip2 = streamImage('a.tar.bz2', 20 * MB, 1.8 * MB);
    bzip2.started(0, 1);
    bzip2.update(4, meter({ fed: 8 * MB, read: 9 * MB }));
    expect(bzip2.done(4, undefined)).toBe(7.2 * MB);
  });

  it('the ratio so far is what was written out over the input behind it', () => {
    const gzip = streamImage('a.tar.gz', 20 * MB);
    gzip.started(0, 1);
    gzip.update(4, meter({ fed: 8 * MB, written: 2 * MB }));
    expect(ratioSoFar([gzip])).toBe(0.25);
  });
});

describe('the rest of the schedule, on the thread budget', () => {
  it('a queued image waits for the threads the running one holds until it ends', () => {
    // A: one block left (10 s at 1 MB/s) on its 2 threads; B: 2 blocks, wants 2 threads.
    const a = xzImage('a.tar.xz', 1, 2);
    a.started(0, 2);
    const b = xzImage('b.tar.xz', 2, 2);
    // Everything in 10 + 10 s: B's blocks run side by side once A is done.
    expect(secondsLeft([a, b], 2, 0, 1 * MB)).toBeCloseTo(20, 6);
    // With 4 threads B gets the 2 A does not hold and runs beside it.
    expect(secondsLeft([a, b], 4, 0, 1 * MB)).toBeCloseTo(10, 6);
  });

  it('the last block of an image runs alone: 3 blocks on 2 threads take two rounds', () => {
    const a = xzImage('a.tar.xz', 3, 2);
    expect(secondsLeft([a], 2, 0, 1 * MB)).toBeCloseTo(20, 6);
    // Where xz's blocks share threads one stream cannot: gzip's 30 MB on one thread.
    expect(secondsLeft([streamImage('a.tar.gz', 30 * MB)], 2, 0, 1 * MB)).toBeCloseTo(30, 6);
  });

  it('finished and cached images take no time; nothing left is 0 s', () => {
    const a = xzImage('a.tar.xz', 2, 2);
    a.finished(0, 5 * MB, true);
    expect(secondsLeft([a], 2, 0, 1 * MB)).toBe(0);
    expect(threadRate([a], 0)).toBeUndefined();
  });
});
