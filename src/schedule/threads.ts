/**
 * One thread budget for the whole build: the encoder threads of all images compressing at once
 * never exceed it. An image asks for as many threads as it can use (xz's multithreaded encoder
 * gives each thread its own block, so an image of B blocks uses at most B) and gets what is
 * free, at least one; requests are served in the order made. With images taken largest first,
 * a large image gets every thread and small ones share them.
 *
 * The number of threads never changes the bytes: xz's block size is fixed by the preset.
 */
import type { CompressionName } from '../config/spec.js';

/** liblzma's dictionary size per preset; its multithreaded encoder's block is 3x that, at least 1 MiB. */
const XZ_DICT_MIB = [0.25, 1, 2, 4, 4, 8, 8, 16, 32, 64];
/** bzip2's block is 100 kB per level. */
const BZIP2_BLOCK = 100_000;

/** The input of one block of xz's multithreaded encoder at this level. */
export function xzBlockBytes(level: number): number {
  return Math.max(1, 3 * XZ_DICT_MIB[level]!) * 1024 ** 2;
}

/**
 * The input bytes a stream encoder may hold before its output shows them: lbzip2 a block per
 * thread; zlib and LZMA-alone next to nothing. (xz's blocks are followed one by one instead.)
 */
export function heldInput(format: CompressionName, level: number, threads: number): number {
  return format === 'bzip2' ? BZIP2_BLOCK * level * Math.max(1, threads) : 0;
}

/** The threads an image of `tarBytes` can keep busy. */
export function usefulThreads(format: CompressionName, level: number, tarBytes: number): number {
  switch (format) {
    case 'xz':
      return Math.max(1, Math.ceil(tarBytes / xzBlockBytes(level)));
    case 'bzip2':
      return Math.max(1, Math.ceil(tarBytes / (BZIP2_BLOCK * level)));
    default:
      // One stream, one thread: zlib and LZMA-alone.
      return 1;
  }
}

export class ThreadBudget {
  private free: number;
  private readonly queue: Array<{ want: number; grant: (n: number) => void }> = [];
  /** Most threads granted at once. */
  peak = 0;

  constructor(readonly total: number) {
    this.free = Math.max(1, total);
  }

  /** Resolves with the threads granted (1..want); call release() with that number when done. */
  acquire(want: number): Promise<number> {
    return new Promise((grant) => {
      this.queue.push({ want: Math.max(1, want), grant });
      this.serve();
    });
  }

  release(n: number): void {
    this.free += n;
    this.serve();
  }

  private serve(): void {
    while (this.free > 0 && this.queue.length > 0) {
      const next = this.queue.shift()!;
      const n = Math.min(next.want, this.free);
      this.free -= n;
      this.peak = Math.max(this.peak, this.total - this.free);
      next.grant(n);
    }
  }
}
