/**
 * An image's uncompressed tar stream, produced as 1 MiB chunks by a synchronous generator: the
 * file content is read straight into the chunk being filled, headers and padding are written
 * beside it. The stream ends with two zero blocks and is padded to a multiple of 10240 bytes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { InputError, describeSystemError } from '../errors.js';
import { type Entry, absoluteBytes, printable } from '../model/entry.js';
import { floorSeconds } from '../model/entry.js';
import type { Member } from '../model/member.js';
import { openForReading } from '../runtime/input-file.js';
import { headerOf } from '../model/member-header.js';
import { BLOCK, RECORD, encodeHeader, paddingAfter } from '../model/tar-header.js';

const CHUNK = 1 << 20;

export interface TarTotals {
  /** Uncompressed bytes, a multiple of 10240. */
  bytes: number;
  /** Members written (pax extended headers not counted). */
  members: number;
}

/** Fills fixed-size chunks and hands each over when it is full. */
class ChunkFiller {
  private chunk = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  total = 0;

  /** Copies bytes in; yields the chunks that became full. */
  *write(bytes: Buffer): Generator<Buffer> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = bytes.copy(this.chunk, this.used, offset);
      offset += n;
      this.advance(n);
      if (this.used === CHUNK) yield this.take();
    }
  }

  *zeros(count: number): Generator<Buffer> {
    while (count > 0) {
      const n = Math.min(count, CHUNK - this.used);
      this.chunk.fill(0, this.used, this.used + n);
      this.advance(n);
      count -= n;
      if (this.used === CHUNK) yield this.take();
    }
  }

  /** The free space of the current chunk, to read into; call advance() with what was filled. */
  free(): { buffer: Buffer; offset: number; length: number } {
    return { buffer: this.chunk, offset: this.used, length: CHUNK - this.used };
  }

  advance(n: number): void {
    this.used += n;
    this.total += n;
  }

  full(): boolean {
    return this.used === CHUNK;
  }

  pending(): boolean {
    return this.used > 0;
  }

  take(): Buffer {
    const out = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(CHUNK);
    this.used = 0;
    return out;
  }
}

/** Generates the tar stream of `members`; `totals` is complete when the generator is done. */
export function* tarChunks(members: readonly Member[], totals: TarTotals): Generator<Buffer> {
  const out = new ChunkFiller();
  for (const member of members) {
    const header = headerOf(member);
    yield* out.write(encodeHeader(header));
    if (header.type === 'file' && header.size > 0) {
      yield* readContent(member, out);
      yield* out.zeros(paddingAfter(header.size));
    }
    totals.members++;
  }
  yield* out.zeros(2 * BLOCK);
  yield* out.zeros((RECORD - (out.total % RECORD)) % RECORD);
  totals.bytes = out.total;
  if (out.pending()) yield out.take();
}

/**
 * Content digests the scan took of the files it compared across roots, by entry. The writer
 * hashes those files again while archiving them (sha256 runs at about 1 GB/s, far ahead of any
 * compressor): a file changed after the comparison may no longer be identical in the roots that
 * share its image, and that must not pass silently.
 */
/**
 * Reads a member's content into the chunks. Re-checks the file against the scan: an error if it
 * is not the size scanned, if its mtime changed (modified in place), or if its content is not
 * what the scan digested.
 */
function* readContent(member: Member, out: ChunkFiller): Generator<Buffer> {
  const { entry, root } = member;
  const where = `${root}/${printable(entry.path)}`;
  const fd = openContent(root, entry, where);
  const expected = member.digest;
  const hash = expected === undefined ? undefined : createHash('sha256');
  try {
    let left = entry.size;
    while (left > 0) {
      const { buffer, offset, length } = out.free();
      const n = readOrThrow(fd, buffer, offset, Math.min(length, left), where);
      if (n === 0) throw changedSize(where, entry.size, 'shrank');
      hash?.update(buffer.subarray(offset, offset + n));
      out.advance(n);
      left -= n;
      if (out.full()) yield out.take();
    }
    const probe = Buffer.allocUnsafe(1);
    if (readOrThrow(fd, probe, 0, 1, where) !== 0) throw changedSize(where, entry.size, 'grew');
    checkUnmodified(fd, entry, where);
    if (hash && hash.digest('hex') !== expected) {
      throw new InputError(where, 'file content changed after the scan compared it with the other roots', 'do not change the roots during a build');
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The file scanned as a regular file; refused when it is something else now (a FIFO put in its place). */
function openContent(root: string, entry: Entry, where: string): number {
  const file = absoluteBytes(root, entry.path);
  if (!fs.existsSync(file)) {
    if (!fs.existsSync(root)) throw new InputError(root, 'root disappeared during the build', 'do not move or remove the roots during a build');
    throw new InputError(where, 'file disappeared after the scan', 'do not change the roots during a build');
  }
  return openForReading(file, where, 'run as root, or fix its permissions');
}

/** A file rewritten in place keeps its size but not its mtime. */
function checkUnmodified(fd: number, entry: Entry, where: string): void {
  let mtimeNs: bigint;
  try {
    mtimeNs = fs.fstatSync(fd, { bigint: true }).mtimeNs;
  } catch (err) {
    throw new InputError(where, `cannot stat: ${describeSystemError(err)}`);
  }
  if (floorSeconds(mtimeNs) !== entry.mtime) {
    throw new InputError(where, 'file was modified while being archived (its mtime changed after the scan)', 'do not change the roots during a build');
  }
}

function readOrThrow(fd: number, buffer: Buffer, offset: number, length: number, where: string): number {
  try {
    return fs.readSync(fd, buffer, offset, length, null);
  } catch (err) {
    throw new InputError(where, `cannot read: ${describeSystemError(err)}`);
  }
}

function changedSize(where: string, size: number, how: string): InputError {
  return new InputError(where, `file ${how} while being archived (${size} bytes when scanned)`, 'do not change the roots during a build');
}
