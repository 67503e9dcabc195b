/**
 * xz: liblzma's multithreaded block encoder with a CRC64 check (xz-encoder.ts: the xz program or
 * lzma-native, the same bytes). Its output depends on the block size, fixed by the level, not on
 * the number of threads, so every --jobs gives the same bytes; an image of B blocks keeps at most
 * B threads busy. The installer reads it through `xzdec` (a name ending in .xz) or GNU tar.
 */
import { type CompressionFormat, settled } from './format.js';
import { XzBlockScanner } from './xz-blocks.js';
import { lzma, xzEncoder, xzStream } from './xz-encoder.js';

const MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
/** liblzma's dictionary size per preset; its multithreaded encoder's block is 3x that, at least 1 MiB. */
const DICT_MIB = [0.25, 1, 2, 4, 4, 8, 8, 16, 32, 64];

/** The input of one block of xz's multithreaded encoder at this level. */
function blockBytes(level: number): number {
  return Math.max(1, 3 * DICT_MIB[level]!) * 1024 ** 2;
}

export const xz: CompressionFormat = {
  name: 'xz',
  extension: 'tar.xz',
  levels: { min: 1, max: 9, usual: 6 },
  concatenates: true,
  installerReaders: ['xzdec', 'tar'],
  matches: (head) => head.length >= 6 && head.subarray(0, 6).equals(MAGIC),
  createCompressor: (level, threads) => xzStream(level, threads),
  createDecompressor: () => ({ stream: lzma().createStream('streamDecoder', {}), done: settled }),
  encoder: () => xzEncoder(),
  usefulThreads: (level, tarBytes) => Math.max(1, Math.ceil(tarBytes / blockBytes(level))),
  // The blocks are followed one by one instead (outputScanner).
  heldInput: () => 0,
  blockBytes,
  outputScanner: () => new XzBlockScanner(),
};
