/**
 * Writes one image: tar stream -> compressor -> file. The caller gives a temporary path inside
 * the staging folder; nothing is renamed here. While it writes, it reports how far the encoder
 * really is (an ImageMeter): the input out of this process's buffers, the input an encoder
 * process has read, the compressed bytes written out, and for xz the input of the blocks
 * written out completely.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaComposeError, OutputError, describeSystemError } from '../errors.js';
import type { Member } from '../model/member.js';
import type { ImageMeter } from '../runtime/progress.js';
import type { CompressionFormat, EncoderReport } from '../formats/registry.js';
import { type TarTotals, tarChunks } from './tar-stream.js';

export interface WrittenImage {
  /** Uncompressed tar bytes (what details' <size> says). */
  readonly size: number;
  /** Tar members (what details' <files> says). */
  readonly files: number;
  /** Bytes of the compressed file. */
  readonly compressedSize: number;
  /** Seconds spent producing the tar stream (reading files, headers), overlapped with compression. */
  readonly tarSeconds: number;
  /** sha256 of the compressed file (what the image cache checks its entries against). */
  readonly sha256: string;
}

interface WriteOptions {
  readonly format: CompressionFormat;
  readonly level: number;
  readonly threads: number;
  /** Called as the tar stream goes in and the compressed stream comes out. */
  readonly onProgress?: (meter: ImageMeter) => void;
}

export async function writeImage(members: readonly Member[], file: string, options: WriteOptions): Promise<WrittenImage> {
  const totals: TarTotals = { bytes: 0, members: 0 };
  const compressor = options.format.createCompressor(options.level, options.threads);
  let produced = 0;
  let written = 0;
  let tarMs = 0;
  const blocks = options.format.outputScanner?.();
  let told: EncoderReport | undefined;
  const report = (): void => {
    if (!options.onProgress) return;
    // What the tar generator produced, less what still waits in this process's buffers.
    const fed = Math.max(0, produced - source.readableLength - compressor.stream.writableLength);
    options.onProgress({ fed, read: compressor.inputRead?.(), written, completed: blocks?.completed, consumed: told?.consumed, encoded: told?.encoded });
  };
  if (options.onProgress) {
    compressor.onReport?.((r) => {
      told = r;
      report();
    });
  }
  const source = Readable.from(
    (function* () {
      const chunks = tarChunks(members, totals);
      for (;;) {
        // Asked for the next chunk: the ones before it are in the buffers or past them.
        report();
        const started = performance.now();
        const next = chunks.next();
        tarMs += performance.now() - started;
        if (next.done) return;
        produced += next.value.length;
        yield next.value;
      }
    })(),
    { objectMode: false, highWaterMark: 4 << 20 },
  );
  const digest = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      digest.update(chunk);
      written += chunk.length;
      blocks?.push(chunk);
      report();
      done(null, chunk);
    },
  });
  try {
    await Promise.all([
      pipeline(source, compressor.stream, hashing, fs.createWriteStream(file, { flags: 'wx', highWaterMark: 1 << 20 })),
      compressor.done,
    ]);
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    if ((err as NodeJS.ErrnoException).code) throw new OutputError(file, `cannot write: ${describeSystemError(err)}`);
    throw new OutputError(file, `compression failed: ${(err as Error).message}`);
  }
  return { size: totals.bytes, files: totals.members, compressedSize: fs.statSync(file).size, tarSeconds: tarMs / 1000, sha256: digest.digest('hex') };
}
