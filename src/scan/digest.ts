/**
 * Content digests of regular files, read synchronously in 1 MiB chunks (reading is not the
 * bottleneck: about 1 GB/s with sha256, see docs/measured.md).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { InputError, describeSystemError } from '../errors.js';
import { type Entry, absoluteBytes, printable } from '../model/entry.js';

const CHUNK = 1 << 20;
let chunk: Buffer | undefined;

/** sha256 of a file's content; an error when the file is no longer the size the scan saw. */
export function digestFile(root: string, entry: Entry): string {
  const hash = createHash('sha256');
  if (entry.size === 0) return hash.digest('hex');
  chunk ??= Buffer.allocUnsafe(CHUNK);
  const where = `${root}/${printable(entry.path)}`;
  let fd: number;
  try {
    fd = fs.openSync(absoluteBytes(root, entry.path), 'r');
  } catch (err) {
    throw new InputError(where, `cannot open: ${describeSystemError(err)}`, 'run as root, or fix its permissions');
  }
  try {
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      total += n;
      if (total > entry.size) break;
      hash.update(chunk.subarray(0, n));
    }
    if (total !== entry.size) {
      throw new InputError(where, `file changed size while being read (${entry.size} bytes when scanned, now ${total > entry.size ? 'more' : total})`, 'do not change the roots during a build');
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(where, `cannot read: ${describeSystemError(err)}`);
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
