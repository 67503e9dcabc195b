/**
 * The compression formats, as one table: each knows its file extension and how to make its
 * compressor. xz and LZMA-alone go through lzma-native, gzip through zlib, bzip2 through the
 * system's lbzip2 (parallel) or bzip2.
 *
 * xz always uses liblzma's multithreaded encoder: its output depends on the block size (fixed by
 * the preset), not on the number of threads, so every --jobs gives the same bytes.
 */
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import type { CompressionName } from '../config/spec.js';
import { firstVersionLine, onPath, startFilter } from '../util/command.js';

const require = createRequire(import.meta.url);

interface LzmaNative {
  createStream(coder: string, options: Record<string, unknown>): Duplex;
  versionString(): string;
  CHECK_CRC64: number;
}
let lzmaNative: LzmaNative | undefined;
function lzma(): LzmaNative {
  lzmaNative ??= require('lzma-native') as LzmaNative;
  return lzmaNative;
}

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
  /**
   * The encoder that compresses, name and version, e.g. "lzma-native 8.0.6 (liblzma 5.2.3)":
   * part of the image cache's key, since another encoder may give other bytes.
   */
  encoderId(): string;
}

const settled = Promise.resolve();

let lzmaId: string | undefined;
function lzmaNativeId(): string {
  lzmaId ??= `lzma-native ${(require('lzma-native/package.json') as { version: string }).version} (liblzma ${lzma().versionString()})`;
  return lzmaId;
}

const programIds = new Map<string, string>();
/** "lbzip2 2.5" from the program's --version line, read once. */
function programId(program: string): string {
  let id = programIds.get(program);
  if (id === undefined) {
    // A missing program: compressing fails with the usual error naming it; nothing is cached.
    id = `${program} ${firstVersionLine(program) ?? '(not found)'}`;
    programIds.set(program, id);
  }
  return id;
}

export const FORMATS: Readonly<Record<CompressionName, CompressionFormat>> = {
  xz: {
    name: 'xz',
    extension: 'tar.xz',
    createCompressor: (level, threads) => ({
      stream: lzma().createStream('easyEncoder', { preset: level, threads: Math.max(1, threads), check: lzma().CHECK_CRC64 }),
      done: settled,
    }),
    encoderId: lzmaNativeId,
  },
  lzma: {
    name: 'lzma',
    extension: 'tar.lzma',
    // Always pass the preset: without it lzma-native's alone encoder uses a faster, larger mode.
    createCompressor: (level) => ({ stream: lzma().createStream('aloneEncoder', { preset: level }), done: settled }),
    encoderId: lzmaNativeId,
  },
  gzip: {
    name: 'gzip',
    extension: 'tar.gz',
    createCompressor: (level) => ({ stream: zlib.createGzip({ level, chunkSize: 1 << 20 }), done: settled }),
    encoderId: () => `zlib ${process.versions.zlib}`,
  },
  bzip2: {
    name: 'bzip2',
    extension: 'tar.bzip2',
    createCompressor: (level, threads) => {
      const argv = onPath('lbzip2') ? ['lbzip2', `-${level}`, `-n${Math.max(1, threads)}`, '-c'] : ['bzip2', `-${level}`, '-c'];
      const filter = startFilter(argv);
      return { stream: Duplex.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited };
    },
    encoderId: () => programId(onPath('lbzip2') ? 'lbzip2' : 'bzip2'),
  },
};
