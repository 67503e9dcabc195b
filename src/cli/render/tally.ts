/**
 * The compression as it goes: every image with its bytes so far, the rates and the ETA, shared
 * by the line and the bar renderers; and the clock their timestamps come from.
 */
import fs from 'node:fs';
import type { ImageToWrite } from '../../runtime/progress.js';

export class Clock {
  private readonly start = Date.now();

  seconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  /** `[  12.3s]`: seconds since the command started. */
  stamp(): string {
    return `[${this.seconds().toFixed(1).padStart(6)}s]`;
  }
}

// ---------------------------------------------------------------------------------------------
// The compression as it goes

export interface ImageState {
  readonly image: ImageToWrite;
  bytes: number;
  startedAt?: number;
  finished: boolean;
  /** The file's size once finished. */
  compressed?: number;
}

const ETA_AFTER_MS = 3000;

/** Every image of the medium with its bytes so far; rates and the ETA come from here. */
export class CompressionTally {
  private readonly images = new Map<string, ImageState>();
  private readonly startedAt = Date.now();
  readonly totalBytes: number;

  constructor(images: readonly ImageToWrite[]) {
    for (const image of images) this.images.set(image.file, { image, bytes: 0, finished: false });
    this.totalBytes = images.reduce((n, i) => n + i.bytes, 0);
  }

  get(file: string): ImageState | undefined {
    return this.images.get(file);
  }

  started(file: string): ImageState | undefined {
    const state = this.images.get(file);
    if (state) state.startedAt = Date.now();
    return state;
  }

  grew(file: string, bytes: number): ImageState | undefined {
    const state = this.images.get(file);
    if (state) state.bytes = bytes;
    return state;
  }

  finished(file: string): ImageState | undefined {
    const state = this.images.get(file);
    if (state) {
      // The estimate may be off by a few headers; a finished image counts as exactly done.
      state.bytes = state.image.bytes;
      state.finished = true;
      state.compressed = compressedSoFar(state);
    }
    return state;
  }

  /**
   * Compressed over uncompressed bytes of the finished images. Only finished ones: xz holds
   * several blocks of input (megabytes to tens of megabytes) before it writes their output,
   * so a ratio taken while an image is written reads far too low.
   */
  ratio(): number | undefined {
    let bytes = 0;
    let compressed = 0;
    for (const s of this.images.values()) {
      if (!s.finished) continue;
      bytes += s.image.bytes;
      compressed += s.compressed ?? 0;
    }
    return bytes > 0 ? compressed / bytes : undefined;
  }

  get count(): number {
    return this.images.size;
  }

  get finishedCount(): number {
    return [...this.images.values()].filter((s) => s.finished).length;
  }

  get allFinished(): boolean {
    return this.finishedCount === this.count;
  }

  inProgress(): ImageState[] {
    return [...this.images.values()].filter((s) => s.startedAt !== undefined && !s.finished);
  }

  doneBytes(): number {
    let done = 0;
    for (const s of this.images.values()) done += Math.min(s.bytes, s.image.bytes);
    return done;
  }

  /** Uncompressed bytes per second since compression began. */
  rate(): number {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return seconds > 0 ? this.doneBytes() / seconds : 0;
  }

  /**
   * Seconds left at the average rate so far. The rate is steady enough for that: the largest
   * images start first and all cores stay busy until the last few small ones.
   */
  eta(): number | undefined {
    const rate = this.rate();
    const done = this.doneBytes();
    // The first seconds measure how fast the compressors' buffers fill, not how fast they work.
    if (rate <= 0 || done === 0 || Date.now() - this.startedAt < ETA_AFTER_MS) return undefined;
    return Math.max(0, (this.totalBytes - done) / rate);
  }
}

/** Bytes written to the image's file so far (0 before it exists). */
export function compressedSoFar(state: ImageState): number {
  try {
    return fs.statSync(state.image.path).size;
  } catch {
    return 0;
  }
}

export function imageRate(state: ImageState): number {
  const seconds = state.startedAt === undefined ? 0 : (Date.now() - state.startedAt) / 1000;
  return seconds > 0 ? state.bytes / seconds : 0;
}
