/**
 * What a compression format is, as one record: everything mediacompose knows about it lives in
 * its own file (xz.ts, lzma.ts, gzip.ts, bzip2.ts; tar.ts is the uncompressed archive it reads)
 * and everything else asks the record through registry.ts. Adding a format is one new file and
 * one line in the registry.
 */
import type { Duplex } from 'node:stream';
import type { InstallerDecompressor } from '../model/installer.js';

/** A stream to write one side of and read the other, and the end of its helper process. */
export interface Coder {
  /** Write the input in, read the output out. */
  readonly stream: Duplex;
  /** Settles when a helper process (if any) has exited; rejects on its failure. */
  readonly done: Promise<void>;
  /** Input bytes a helper process has read so far (absent in-process, undefined when unknown). */
  readonly inputRead?: () => number | undefined;
  /** The encoder's own count of input compressed and output made, as it tells it (xz). */
  readonly onReport?: (listener: (report: EncoderReport) => void) => void;
}

/** The encoder's own count: input compressed so far and compressed bytes made. */
export interface EncoderReport {
  readonly consumed: number;
  readonly encoded: number;
}

/** What compresses (a program or library) and its version, as `build --json` reports it. */
export interface Encoder {
  readonly name: string;
  /** undefined when the program does not say. */
  readonly version: string | undefined;
}

/** Follows a format's compressed output and counts the input it has finished (xz blocks). */
interface OutputScanner {
  push(chunk: Buffer): void;
  /** Input bytes of the blocks seen complete so far; undefined when the output does not tell. */
  readonly completed: number | undefined;
}

/** A format mediacompose reads: plain tar, or any it writes. */
export interface ReadableFormat {
  readonly name: string;
  /** True when a file's first bytes are of this format. */
  matches(head: Buffer): boolean;
  createDecompressor(): Coder;
  /**
   * Which of the installer's commands read this content: `xzdec` and `lzmadec` read one format
   * each; GNU tar (`tar -xf F`) finds gzip, bzip2 and xz by their magic bytes (lzma has none).
   */
  readonly installerReaders: readonly InstallerDecompressor[];
}

/** A format mediacompose writes. */
export interface CompressionFormat extends ReadableFormat {
  /** File name suffix after the image stem, e.g. "tar.xz". */
  readonly extension: string;
  /** The levels compose.yaml may give, and the one used when it gives none. */
  readonly levels: { readonly min: number; readonly max: number; readonly usual: number };
  /**
   * True when two streams written one after the other read back as one (gzip members, bzip2
   * streams, xz streams); false for LZMA-alone, whose decoder stops after the first.
   */
  readonly concatenates: boolean;
  createCompressor(level: number, threads: number): Coder;
  /** Who compresses, and its version: part of the image cache's key. */
  encoder(): Encoder;
  /** The threads an image of `tarBytes` can keep busy at this level (at least 1). */
  usefulThreads(level: number, tarBytes: number): number;
  /** Input bytes the encoder may hold before its output shows them (what progress must not count as done). */
  heldInput(level: number, threads: number): number;
  /** Input bytes per independently compressed block, when the output shows block ends (xz). */
  blockBytes?(level: number): number;
  /** Follows the output to tell how much input is compressed for good (xz's blocks). */
  outputScanner?(): OutputScanner;
}

export const settled = Promise.resolve();
