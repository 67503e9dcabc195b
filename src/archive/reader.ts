/**
 * Reads an image back: the compression detected from the magic bytes (never the file name), the
 * tar stream decompressed and parsed as it streams. Members are reported to a visitor with their
 * decoded headers; content goes to the sink the visitor returns (for a digest), never to disk
 * and never whole into memory. Any damage (bad checksum, truncation, a decompressor error) is an
 * InputError naming the archive.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { InputError, MediaComposeError, describeSystemError } from '../errors.js';
import type { BytePath } from '../scan/entry.js';
import { onPath, startFilter } from '../util/command.js';
import { BLOCK, type MemberType } from './header.js';

export type ArchiveFormat = 'xz' | 'lzma' | 'bzip2' | 'gzip' | 'tar';

export interface DecodedMember {
  readonly path: BytePath;
  readonly type: MemberType | 'other';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size: number;
  readonly linkname: BytePath;
  readonly devmajor: number;
  readonly devminor: number;
}

export interface ContentSink {
  update(chunk: Buffer): void;
}

export interface ArchiveTotals {
  readonly format: ArchiveFormat;
  /** Length of the uncompressed tar stream. */
  readonly size: number;
  /** Members (extended headers not counted). */
  readonly members: number;
}

/** The format from the first bytes of a file. */
export function detectFormat(head: Buffer): ArchiveFormat | undefined {
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  // LZMA-alone has no magic: a properties byte (lc/lp/pb, below 225) and a power-of-two-ish
  // dictionary size; checked last.
  if (head.length >= 13 && head[0]! < 225 && head.readUInt32LE(1) >= 4096) return 'lzma';
  return undefined;
}

const require = createRequire(import.meta.url);

function decompressor(format: ArchiveFormat): { stream: Duplex; done: Promise<void> } {
  const settled = Promise.resolve();
  switch (format) {
    case 'xz':
    case 'lzma': {
      const lzma = require('lzma-native') as { createStream(coder: string, options: object): Duplex };
      return { stream: lzma.createStream(format === 'xz' ? 'streamDecoder' : 'aloneDecoder', {}), done: settled };
    }
    case 'gzip':
      return { stream: zlib.createGunzip({ chunkSize: 1 << 20 }), done: settled };
    case 'bzip2': {
      const filter = startFilter([onPath('lbzip2') ? 'lbzip2' : 'bzip2', '-dc']);
      return { stream: Duplex.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited };
    }
    case 'tar':
      return { stream: new PassThrough(), done: settled };
  }
}

/** Streams an archive through `visit`; resolves with its totals. */
export async function readArchive(file: string, visit: (member: DecodedMember) => ContentSink | undefined): Promise<ArchiveTotals> {
  const format = detectFormat(readHead(file));
  if (!format) throw new InputError(file, 'not a tar archive compressed with xz, lzma, bzip2 or gzip', 'the format is told by its first bytes');
  const parser = new TarParser(file, visit);
  const { stream, done } = decompressor(format);
  try {
    await Promise.all([pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), stream, parser), done]);
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    throw new InputError(file, `cannot read the archive: ${describeSystemError(err)}`, 'it may be truncated or damaged');
  }
  return { format, size: parser.bytes, members: parser.members };
}

function readHead(file: string): Buffer {
  const head = Buffer.alloc(512);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new InputError(file, `cannot open: ${describeSystemError(err)}`);
  }
  try {
    return head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The largest pax extended header or GNU long name/link body read. Real ones hold a few hundred
 * bytes; the body is collected before it is parsed, so without a cap a header claiming
 * gigabytes would be collected into memory.
 */
export const MAX_EXTENDED_HEADER = 4 << 20;

type Pending = { kind: 'header' } | { kind: 'data'; left: number; pad: number; sink?: ContentSink; collect?: Buffer[]; then?: (data: Buffer) => void };

/** A streaming tar parser: ustar, pax extended headers, GNU long names, base-256 numbers. */
class TarParser extends Writable {
  bytes = 0;
  members = 0;
  private ended = false;
  private zeroBlocks = 0;
  private carry: Buffer = Buffer.alloc(0);
  private state: Pending = { kind: 'header' };
  private pax: Record<string, string> = {};
  private longName?: string;
  private longLink?: string;

  constructor(
    private readonly file: string,
    private readonly visit: (member: DecodedMember) => ContentSink | undefined,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.bytes += chunk.length;
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.ended) callback(new InputError(this.file, 'archive is truncated (no end-of-archive blocks)', 'rebuild or repack it'));
    else if (this.bytes % 10240 !== 0) callback(new InputError(this.file, `tar stream is ${this.bytes} bytes, not a multiple of 10240`, 'pack it with --record-size=10240'));
    else callback();
  }

  private consume(chunk: Buffer): void {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let at = 0;
    while (at < buf.length) {
      const state = this.state;
      if (state.kind === 'data') {
        const n = Math.min(state.left, buf.length - at);
        if (n > 0) {
          const piece = buf.subarray(at, at + n);
          state.sink?.update(piece);
          state.collect?.push(Buffer.from(piece));
          state.left -= n;
          at += n;
        }
        if (state.left > 0) break;
        const skip = Math.min(state.pad, buf.length - at);
        state.pad -= skip;
        at += skip;
        if (state.pad > 0) break;
        this.state = { kind: 'header' };
        if (state.then) state.then(Buffer.concat(state.collect ?? []));
        continue;
      }
      if (buf.length - at < BLOCK) break;
      this.header(buf.subarray(at, at + BLOCK), this.bytes - buf.length + at);
      at += BLOCK;
    }
    this.carry = Buffer.from(buf.subarray(at));
  }

  /** `offset`: where the block starts in the tar stream. */
  private header(block: Buffer, offset: number): void {
    if (this.ended) return; // padding after the end-of-archive blocks
    if (block.every((b) => b === 0)) {
      if (++this.zeroBlocks === 2) this.ended = true;
      return;
    }
    if (this.zeroBlocks > 0) throw new InputError(this.file, 'a lone zero block inside the archive', 'the archive is damaged');
    if (!checksumOk(block)) throw new InputError(this.file, `bad header checksum at byte ${offset}`, 'the archive is damaged');
    const typeflag = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    const collect = (then: (data: Buffer) => void): void => {
      if (size > MAX_EXTENDED_HEADER) {
        throw new InputError(
          this.file,
          `extended header too large: ${size} bytes at byte ${offset} (type ${typeflag}; at most ${MAX_EXTENDED_HEADER >> 20} MiB is read)`,
          'real pax and GNU long-name headers hold a few hundred bytes; the archive is damaged or hostile',
        );
      }
      this.state = { kind: 'data', left: size, pad, collect: [], then };
    };
    switch (typeflag) {
      case 'x':
        return collect((data) => Object.assign(this.pax, parsePax(data)));
      case 'g':
        // Global headers are not used: skipped, never collected.
        this.state = { kind: 'data', left: size, pad };
        return;
      case 'L':
        return collect((data) => (this.longName = cString(data)));
      case 'K':
        return collect((data) => (this.longLink = cString(data)));
    }
    const member = this.decode(block, typeflag, size);
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    this.members++;
    const sink = this.visit(member);
    const dataSize = member.type === 'file' || member.type === 'other' ? member.size : 0;
    if (dataSize > 0) this.state = { kind: 'data', left: dataSize, pad: (BLOCK - (dataSize % BLOCK)) % BLOCK, sink };
  }

  private decode(block: Buffer, typeflag: string, headerSize: number): DecodedMember {
    const prefix = cString(block.subarray(345, 500));
    let name = this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${cString(block.subarray(0, 100))}` : cString(block.subarray(0, 100)));
    const type = TYPES[typeflag] ?? (typeflag === '\0' ? 'file' : 'other');
    if (name.endsWith('/')) name = name.replace(/\/+$/, '');
    const num = (key: string, offset: number, length: number): number => (this.pax[key] !== undefined ? Math.floor(Number(this.pax[key])) : numeric(block, offset, length));
    return {
      path: name,
      type,
      mode: numeric(block, 100, 8) & 0o7777,
      uid: num('uid', 108, 8),
      gid: num('gid', 116, 8),
      mtime: num('mtime', 136, 12),
      size: this.pax.size !== undefined ? Number(this.pax.size) : headerSize,
      linkname: this.pax.linkpath ?? this.longLink ?? cString(block.subarray(157, 257)),
      devmajor: numeric(block, 329, 8),
      devminor: numeric(block, 337, 8),
    };
  }
}

const TYPES: Record<string, MemberType> = { '0': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo', '7': 'file' };

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === numeric(block, 148, 8);
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit set, two's complement). */
function numeric(block: Buffer, offset: number, length: number): number {
  const first = block[offset]!;
  if (first & 0x80) {
    let v = BigInt(first & 0x7f) - (first & 0x40 ? 0x80n : 0n);
    for (let i = offset + 1; i < offset + length; i++) v = (v << 8n) | BigInt(block[i]!);
    return Number(v);
  }
  const text = block.subarray(offset, offset + length).toString('latin1').replace(/[\0 ].*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('latin1');
}

/** pax records: "<length> <key>=<value>\n"; values are kept as bytes (latin1 strings). */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) break;
    const record = data.subarray(space + 1, at + length - 1).toString('latin1');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}
