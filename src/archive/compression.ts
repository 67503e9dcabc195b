/**
 * The compression formats, as one table: each knows its file extension and how to make its
 * compressor. xz and LZMA-alone go through the xz program or lzma-native (xz-encoder.ts), gzip
 * through zlib, bzip2 through the system's lbzip2 (parallel) or bzip2.
 *
 * xz always uses liblzma's multithreaded encoder: its output depends on the block size (fixed by
 * the preset), not on the number of threads, so every --jobs gives the same bytes.
 */
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import type { CompressionName } from '../config/spec.js';
import { onPath, programOutput, startFilter } from '../util/command.js';
import { type XzEncoder, lzmaAloneStream, xzEncoder, xzStream } from './xz-encoder.js';

export interface Compressor {
  /** Write the tar stream in, read the compressed stream out. */
  readonly stream: Duplex;
  /** Settles when a helper process (if any) has exited; rejects on its failure. */
  readonly done: Promise<void>;
}

export interface CompressionFormat {
  readonly name: CompressionName;
  /** File name suffix after the image stem, e.g. "tar.xz". */
  readonly extension: string;
  createCompressor(level: number, threads: number): Compressor;
  /** What compresses (a program or library) and its version, as `build --json` reports it. */
  encoder(): Encoder;
}

export interface Encoder {
  readonly name: string;
  /** undefined when the program does not say. */
  readonly version: string | undefined;
}

const settled = Promise.resolve();

export const FORMATS: Readonly<Record<CompressionName, CompressionFormat>> = {
  xz: {
    name: 'xz',
    extension: 'tar.xz',
    createCompressor: (level, threads) => xzStream(level, threads),
    encoder: (): XzEncoder => xzEncoder(),
  },
  lzma: {
    name: 'lzma',
    extension: 'tar.lzma',
    createCompressor: (level) => lzmaAloneStream(level),
    encoder: (): XzEncoder => xzEncoder(),
  },
  gzip: {
    name: 'gzip',
    extension: 'tar.gz',
    createCompressor: (level) => ({ stream: zlib.createGzip({ level, chunkSize: 1 << 20 }), done: settled }),
    encoder: () => ({ name: 'zlib', version: process.versions.zlib }),
  },
  bzip2: {
    name: 'bzip2',
    extension: 'tar.bzip2',
    createCompressor: (level, threads) => {
      const argv = onPath('lbzip2') ? ['lbzip2', `-${level}`, `-n${Math.max(1, threads)}`, '-c'] : ['bzip2', `-${level}`, '-c'];
      const filter = startFilter(argv);
      return { stream: Duplex.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited };
    },
    encoder: () => {
      const name = onPath('lbzip2') ? 'lbzip2' : 'bzip2';
      // "lbzip2 version 2.5" on stdout; bzip2 writes its version to stderr only.
      return { name, version: /version (\S+)/.exec(programOutput([name, '--version']) ?? '')?.[1] };
    },
  },
};
