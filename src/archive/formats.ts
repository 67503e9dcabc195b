/**
 * The archive formats, one record each: its magic bytes, its file extension, how to make its
 * compressor and its decompressor, and whether the installer picks the decompressor by the file
 * name. xz and LZMA-alone go through lzma-native, gzip through zlib, bzip2 through the system's
 * lbzip2 (parallel) or bzip2; 'tar' is an uncompressed archive, read but never written.
 *
 * xz always uses liblzma's multithreaded encoder: its output depends on the block size (fixed by
 * the preset), not on the number of threads, so every --jobs gives the same bytes.
 */
import { createRequire } from 'node:module';
import { Duplex, PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import type { CompressionName } from '../config/spec.js';
import { ARCHIVE_EXTENSIONS } from '../model/names.js';
import { firstVersionLine, onPath, startFilter } from '../runtime/command.js';

export type ArchiveFormat = CompressionName | 'tar';

/** A stream to write one side of and read the other, and the end of its helper process. */
interface Coder {
  /** Write the input in, read the output out. */
  readonly stream: Duplex;
  /** Settles when a helper process (if any) has exited; rejects on its failure. */
  readonly done: Promise<void>;
}

export interface CompressionFormat {
  readonly name: CompressionName;
  /** File name suffix after the image stem, e.g. "tar.xz". */
  readonly extension: string;
  createCompressor(level: number, threads: number): Coder;
  /**
   * The encoder that compresses, name and version, e.g. "lzma-native 8.0.6 (liblzma 5.2.3)":
   * part of the image cache's key, since another encoder may give other bytes.
   */
  encoderId(): string;
}

interface FormatRecord {
  readonly name: ArchiveFormat;
  /** True when a file's first bytes are of this format. */
  matches(head: Buffer): boolean;
  createDecompressor(): Coder;
  /**
   * The name ending that makes the installer pipe the archive through this format's decoder
   * (xzdec, lzmadec); tar detects the others itself.
   */
  readonly installerSuffix?: string;
}

/** lzma-native, loaded once and only when an xz or lzma archive is written or read. */
interface LzmaNative {
  createStream(coder: string, options: Record<string, unknown>): Duplex;
  versionString(): string;
  CHECK_CRC64: number;
}
const require = createRequire(import.meta.url);
let lzmaNative: LzmaNative | undefined;
function lzma(): LzmaNative {
  lzmaNative ??= require('lzma-native') as LzmaNative;
  return lzmaNative;
}

const settled = Promise.resolve();

let lzmaId: string | undefined;
function lzmaNativeId(): string {
  lzmaId ??= `lzma-native ${(require('lzma-native/package.json') as { version: string }).version} (liblzma ${lzma().versionString()})`;
  return lzmaId;
}

const programIds = new Map<string, string>();
/** "lbzip2 lbzip2 version 2.5" from the program's --version line, read once. */
function programId(program: string): string {
  let id = programIds.get(program);
  if (id === undefined) {
    // A missing program: compressing fails with the usual error naming it; nothing is cached.
    id = `${program} ${firstVersionLine(program) ?? '(not found)'}`;
    programIds.set(program, id);
  }
  return id;
}
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

function filterCoder(argv: readonly string[]): Coder {
  const filter = startFilter(argv);
  return { stream: Duplex.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited };
}

type Full = CompressionFormat & FormatRecord;

const xz: Full = {
  name: 'xz',
  extension: ARCHIVE_EXTENSIONS.xz,
  matches: (head) => head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC),
  createCompressor: (level, threads) => ({
    stream: lzma().createStream('easyEncoder', { preset: level, threads: Math.max(1, threads), check: lzma().CHECK_CRC64 }),
    done: settled,
  }),
  encoderId: lzmaNativeId,
  createDecompressor: () => ({ stream: lzma().createStream('streamDecoder', {}), done: settled }),
  installerSuffix: '.xz',
};

const lzmaAlone: Full = {
  name: 'lzma',
  extension: ARCHIVE_EXTENSIONS.lzma,
  // LZMA-alone has no magic: a properties byte (lc/lp/pb, below 225) and a power-of-two-ish
  // dictionary size; checked last.
  matches: (head) => head.length >= 13 && head[0]! < 225 && head.readUInt32LE(1) >= 4096,
  // Always pass the preset: without it lzma-native's alone encoder uses a faster, larger mode.
  createCompressor: (level) => ({ stream: lzma().createStream('aloneEncoder', { preset: level }), done: settled }),
  encoderId: lzmaNativeId,
  createDecompressor: () => ({ stream: lzma().createStream('aloneDecoder', {}), done: settled }),
  installerSuffix: '.lzma',
};

const gzip: Full = {
  name: 'gzip',
  extension: ARCHIVE_EXTENSIONS.gzip,
  matches: (head) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b,
  createCompressor: (level) => ({ stream: zlib.createGzip({ level, chunkSize: 1 << 20 }), done: settled }),
  encoderId: () => `zlib ${process.versions.zlib}`,
  createDecompressor: () => ({ stream: zlib.createGunzip({ chunkSize: 1 << 20 }), done: settled }),
};

const bzip2: Full = {
  name: 'bzip2',
  extension: ARCHIVE_EXTENSIONS.bzip2,
  matches: (head) => head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68,
  createCompressor: (level, threads) =>
    filterCoder(onPath('lbzip2') ? ['lbzip2', `-${level}`, `-n${Math.max(1, threads)}`, '-c'] : ['bzip2', `-${level}`, '-c']),
  encoderId: () => programId(onPath('lbzip2') ? 'lbzip2' : 'bzip2'),
  createDecompressor: () => filterCoder([onPath('lbzip2') ? 'lbzip2' : 'bzip2', '-dc']),
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

/** The format the installer decompresses a file as because of its name; undefined: tar detects it. */
export function formatByName(file: string): ArchiveFormat | undefined {
  return READABLE.find((f) => f.installerSuffix !== undefined && file.endsWith(f.installerSuffix))?.name;
}
