/**
 * Content digests of regular files, read synchronously in 1 MiB chunks (reading is not the
 * bottleneck: about 1 GB/s with sha256, see docs/measured.md).
 */
import { createHash } from 'node:crypto';
import { openForReading } from '../runtime/input-file.js';
import fs from 'node:fs';
import { InputError, describeSystemError } from '../errors.js';
import { signalCheckpoint } from '../runtime/signal-checkpoint.js';
import { type Entry, absoluteBytes, printable } from '../model/entry.js';

const CHUNK = 1 << 20;
let shared: Buffer | undefined;
/** Buffers of finished interruptible digests, for the next ones. */
const spare: Buffer[] = [];

/** sha256 of a file's content; an error when the file is no longer the size the scan saw. */
export function digestFile(root: string, entry: Entry): string {
  shared ??= Buffer.allocUnsafe(CHUNK);
  const reading = readAndDigest(root, entry, shared);
  for (;;) {
    const step = reading.next();
    if (step.done) return step.value;
  }
}

/**
 * digestFile for long runs: the same bytes and errors, with a signal checkpoint between chunks
 * (see runtime/signal-checkpoint.ts), so that SIGINT ends a build comparing big files at once.
 */
export async function digestFileInterruptible(root: string, entry: Entry): Promise<string> {
  // A fresh 1 MiB buffer per file costs the kernel more than the reading (page faults).
  const buffer = spare.pop() ?? Buffer.allocUnsafe(CHUNK);
  try {
    const reading = readAndDigest(root, entry, buffer);
    for (;;) {
      await signalCheckpoint();
      const step = reading.next();
      if (step.done) return step.value;
    }
  } finally {
    spare.push(buffer);
  }
}

/** Reads the file one chunk per step and returns its sha256; the file is closed however it ends. */
function* readAndDigest(root: string, entry: Entry, buffer: Buffer): Generator<void, string> {
  const hash = createHash('sha256');
  if (entry.size === 0) return hash.digest('hex');
  const where = `${root}/${printable(entry.path)}`;
  const fd = openForReading(absoluteBytes(root, entry.path), where, 'run as root, or fix its permissions');
  try {
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      total += n;
      if (total > entry.size) break;
      hash.update(buffer.subarray(0, n));
      yield;
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
