/**
 * LZMA-alone (.lzma): one stream, one thread, written by the xz program (`--format=lzma`) or
 * lzma-native's alone encoder with the same preset. Its decoder stops after the first stream, so
 * two streams never read as one. The installer reads it only through `lzmadec` (a name ending in
 * .lzma): it has no magic bytes, so GNU tar cannot detect it.
 */
import { type CompressionFormat, settled } from './format.js';
import { lzma as lzmaNative, lzmaAloneStream, xzEncoder } from './xz-encoder.js';

export const lzma: CompressionFormat = {
  name: 'lzma',
  extension: 'tar.lzma',
  levels: { min: 1, max: 9, usual: 6 },
  concatenates: false,
  installerReaders: ['lzmadec'],
  // No magic: a properties byte (lc/lp/pb, below 225) and a power-of-two-ish dictionary size;
  // the registry tries it last.
  matches: (head) => head.length >= 13 && head[0]! < 225 && head.readUInt32LE(1) >= 4096,
  createCompressor: (level) => lzmaAloneStream(level),
  createDecompressor: () => ({ stream: lzmaNative().createStream('aloneDecoder', {}), done: settled }),
  encoder: () => xzEncoder(),
  usefulThreads: () => 1,
  heldInput: () => 0,
};
