/**
 * The progress interface the core reports through: what a command tells about itself while it
 * runs. The renderers (bars, lines) live in cli/render/; core code imports only this.
 */

import type { WarningCode } from '../model/warnings.js';

/**
 * What a build tells about itself. info and warn are all a renderer must handle; the image
 * events are optional, for renderers that draw the compression as it goes.
 */
export interface Progress {
  /** A step started or finished. */
  info(message: string): void;
  /** Something the user should know about the input (a skipped socket, ...), with its kind (warnings.ts). */
  warn(message: string, code?: WarningCode): void;
  /** Compression of these images begins, in the order they ask for threads; each one then starts, grows and finishes. */
  compressionStarted?(work: CompressionWork): void;
  /** An image's encoder started with this many threads. */
  imageStarted?(file: string, threads: number): void;
  /** How far its encoder is (called often: renderers throttle). */
  imageProgress?(file: string, meter: ImageMeter): void;
  /** Its file is complete, `compressed` bytes; `cached` when it came from the image cache (never started). */
  imageFinished?(file: string, compressed: number, cached: boolean): void;
  /** The command is done (or failed): stop drawing and leave the terminal as it was. */
  close?(): void;
}

export interface CompressionWork {
  /** In the order they ask for threads (largest first). */
  readonly images: readonly ImageToWrite[];
  /** The thread budget all encoders share. */
  readonly threads: number;
}

export interface ImageToWrite {
  /** Its file name on the medium, e.g. kde-x86_64.tar.xz. */
  readonly file: string;
  /** Uncompressed tar bytes it will hold. */
  readonly bytes: number;
  /** Encoder threads it asks for (it gets what is free, at least one). */
  readonly threads: number;
  /**
   * xz: the encoder compresses independent blocks of this many input bytes, one per thread at a
   * time, and writes each one out when it is complete. Absent for stream encoders.
   */
  readonly blockBytes?: number;
  /** A stream encoder: the input bytes it may hold before its output shows them. */
  readonly holds: number;
}

/** What an encoder has done with one image so far. */
export interface ImageMeter {
  /** Uncompressed bytes handed to the encoder (out of mediacompose's own buffers). */
  readonly fed: number;
  /** Uncompressed bytes an encoder process has read; undefined in-process or where unknown. */
  readonly read?: number;
  /** Compressed bytes it has written out. */
  readonly written: number;
  /** xz: uncompressed bytes of the blocks it has written out completely. */
  readonly completed?: number;
  /**
   * The encoder's own count (the xz program tells it): input it has compressed and compressed
   * bytes it has made, blocks not yet written out included. Undefined where it does not tell.
   */
  readonly consumed?: number;
  readonly encoded?: number;
}

export const silentProgress: Progress = { info: () => {}, warn: () => {} };
