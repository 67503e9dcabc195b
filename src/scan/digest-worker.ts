/**
 * A worker thread that takes content digests: synchronous reads (per-file async I/O costs 10x,
 * see measured.md) that do not stall the main thread, which meanwhile feeds the compressors.
 */
import { parentPort } from 'node:worker_threads';
import { MediaComposeError } from '../errors.js';
import type { Entry } from '../model/entry.js';
import { digestFile } from './digest.js';

export interface DigestRequest {
  readonly id: number;
  /** Root, byte path (latin1 string) and size of each file, in order. */
  readonly files: ReadonlyArray<readonly [string, string, number]>;
}

export type DigestReply =
  | { readonly id: number; readonly digests: string[]; readonly seconds: number }
  | { readonly id: number; readonly error: { file?: string; what: string; hint?: string; message: string } };

parentPort!.on('message', (request: DigestRequest) => {
  const started = performance.now();
  try {
    const digests = request.files.map(([root, path, size]) => digestFile(root, { path, size } as Entry));
    parentPort!.postMessage({ id: request.id, digests, seconds: (performance.now() - started) / 1000 } satisfies DigestReply);
  } catch (err) {
    const message = String((err as Error)?.message ?? err);
    const error = err instanceof MediaComposeError ? { file: err.file, what: err.what, hint: err.hint, message } : { what: message, message };
    parentPort!.postMessage({ id: request.id, error } satisfies DigestReply);
  }
});
