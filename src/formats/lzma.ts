/**
 * LZMA-alone (.lzma): one stream, one thread, written by the xz program (`--format=lzma`) or
 * lzma-native's alone encoder with the same preset. Its decoder stops after the first stream, so
 * two streams never read as one. The installer reads it only through `lzmadec` (a name ending in
 * .lzma): it has no magic bytes, so GNU tar cannot detect it.
 */
import { Duplex, Transform } from 'node:stream';
import type { Coder, CompressionFormat } from './format.js';
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
  createDecompressor: () => decoder(),
  encoder: () => xzEncoder(),
  usefulThreads: () => 1,
  heldInput: () => 0,
};

/**
 * LZMA-alone's decoder, which fails when its stream ends before the file does: two streams
 * joined, or anything after the end marker, is what `lzmadec | tar` deploys in part (tar exits 0
 * on the first stream's tree), so details and verify refuse it instead of counting the first.
 */
function decoder(): Coder {
  const inner = lzmaNative().createStream('aloneDecoder', {}) as Duplex & { totalIn(): number };
  let fed = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      fed += chunk.length;
      callback(null, chunk);
    },
  });
  counter.pipe(inner);
  const stream = Duplex.from({ writable: counter, readable: inner });
  const done = Promise.all([
    new Promise<void>((resolve) => counter.on('finish', () => resolve())),
    new Promise<void>((resolve, reject) => {
      inner.on('end', () => resolve());
      inner.on('error', reject);
    }),
  ]).then(() => {
    const used = inner.totalIn();
    if (used < fed) throw new Error(`the LZMA stream ends at byte ${used} of ${fed}: lzmadec stops there and the installer deploys only what came before (one stream per .lzma archive)`);
  });
  // Observed by the reader through `done`; never left unhandled.
  done.catch(() => undefined);
  return { stream, done };
}
