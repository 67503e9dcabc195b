/**
 * The archive formats, one record each: its magic bytes, its file extension, how to make its
 * compressor and its decompressor. Which decompressor the installer runs for a file name, and
 * what it can then read, is the installer's rule: manifest/installer.ts. xz and LZMA-alone are
 * written by the xz program or lzma-native (xz-encoder.ts decides) and read by lzma-native, gzip
 * goes through zlib, bzip2 through the system's lbzip2 (parallel) or bzip2; 'tar' is an
 * uncompressed archive, read but never written.
 *
 * xz always uses liblzma's multithreaded encoder: its output depends on the block size (fixed by
 * the preset), not on the number of threads, so every --jobs gives the same bytes.
 */
import { Duplex, PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import type { CompressionName } from '../config/spec.js';
import { ARCHIVE_EXTENSIONS } from '../model/names.js';
import { onPath, programOutput, startFilter } from '../runtime/command.js';
import { type EncoderReport, lzma, lzmaAloneStream, xzEncoder, xzStream } from './xz-encoder.js';

export type ArchiveFormat = CompressionName | 'tar';

/** A stream to write one side of and read the other, and the end of its helper process. */
interface Coder {
  /** Write the input in, read the output out. */
  readonly stream: Duplex;
  /** Settles when a helper process (if any) has exited; rejects on its failure. */
  readonly done: Promise<void>;
  /** Input bytes a helper process has read so far (absent in-process, undefined when unknown). */
  readonly inputRead?: () => number | undefined;
  /** The encoder's own count of input compressed and output made, as it tells it (xz). */
  readonly onReport?: (listener: (report: EncoderReport) => void) => void;
}

export interface CompressionFormat {
  readonly name: CompressionName;
  /** File name suffix after the image stem, e.g. "tar.xz". */
  readonly extension: string;
  createCompressor(level: number, threads: number): Coder;
  /** What compresses (a program or library) and its version, as `build --json` reports it. */
  encoder(): Encoder;
}

export interface Encoder {
  readonly name: string;
  /** undefined when the program does not say. */
  readonly version: string | undefined;
}

interface FormatRecord {
  readonly name: ArchiveFormat;
  /** True when a file's first bytes are of this format. */
  matches(head: Buffer): boolean;
  createDecompressor(): Coder;
}

const settled = Promise.resolve();
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

function filterCoder(argv: readonly string[]): Coder {
  const filter = startFilter(argv);
  return { stream: Duplex.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited, inputRead: filter.bytesRead };
}

type Full = CompressionFormat & FormatRecord;

const xz: Full = {
  name: 'xz',
  extension: ARCHIVE_EXTENSIONS.xz,
  matches: (head) => head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC),
  createCompressor: (level, threads) => xzStream(level, threads),
  encoder: () => xzEncoder(),
  createDecompressor: () => ({ stream: lzma().createStream('streamDecoder', {}), done: settled }),
};

const lzmaAlone: Full = {
  name: 'lzma',
  extension: ARCHIVE_EXTENSIONS.lzma,
  // LZMA-alone has no magic: a properties byte (lc/lp/pb, below 225) and a power-of-two-ish
  // dictionary size; checked last.
  matches: (head) => head.length >= 13 && head[0]! < 225 && head.readUInt32LE(1) >= 4096,
  createCompressor: (level) => lzmaAloneStream(level),
  encoder: () => xzEncoder(),
  createDecompressor: () => ({ stream: lzma().createStream('aloneDecoder', {}), done: settled }),
};

const gzip: Full = {
  name: 'gzip',
  extension: ARCHIVE_EXTENSIONS.gzip,
  matches: (head) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b,
  // zlib's own gzip header: MTIME 0, no file name, OS 3 (Unix); no time of the build gets in.
  createCompressor: (level) => ({ stream: zlib.createGzip({ level, chunkSize: 1 << 20 }), done: settled }),
  encoder: () => ({ name: 'zlib', version: process.versions.zlib }),
  createDecompressor: () => ({ stream: zlib.createGunzip({ chunkSize: 1 << 20 }), done: settled }),
};

const bzip2: Full = {
  name: 'bzip2',
  extension: ARCHIVE_EXTENSIONS.bzip2,
  matches: (head) => head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68,
  createCompressor: (level, threads) =>
    filterCoder(onPath('lbzip2') ? ['lbzip2', `-${level}`, `-n${Math.max(1, threads)}`, '-c'] : ['bzip2', `-${level}`, '-c']),
  createDecompressor: () => filterCoder([onPath('lbzip2') ? 'lbzip2' : 'bzip2', '-dc']),
  encoder: () => {
    const name = onPath('lbzip2') ? 'lbzip2' : 'bzip2';
    // "lbzip2 version 2.5"; "bzip2, a block-sorting file compressor.  Version 1.0.8, 13-Jul-2019."
    return { name, version: /[Vv]ersion ([0-9][^\s,]*)/.exec(programOutput([name, '--version']) ?? '')?.[1] };
  },
};

const tar: FormatRecord = {
  name: 'tar',
  matches: (head) => head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar',
  createDecompressor: () => ({ stream: new PassThrough(), done: settled }),
};

/** The formats mediacompose writes, by compression name. */
export const FORMATS: Readonly<Record<CompressionName, CompressionFormat>> = { xz, lzma: lzmaAlone, gzip, bzip2 };

/** Every format it reads, in the order magic bytes are tried (LZMA-alone, without magic, last). */
const READABLE: readonly FormatRecord[] = [xz, bzip2, gzip, tar, lzmaAlone];

/** The format from the first bytes of a file. */
export function detectFormat(head: Buffer): ArchiveFormat | undefined {
  return READABLE.find((f) => f.matches(head))?.name;
}

export function createDecompressor(format: ArchiveFormat): Coder {
  return READABLE.find((f) => f.name === format)!.createDecompressor();
}

/** The encoder as one string, e.g. "xz 5.4.1": part of the image cache's key, since another encoder may give other bytes. */
export function encoderId(format: CompressionFormat): string {
  const { name, version } = format.encoder();
  return `${name} ${version ?? 'unknown version'}`;
}
