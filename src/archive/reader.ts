/**
 * Reads an image back: the compression detected from the magic bytes (never the file name), the
 * tar stream decompressed and parsed as it streams. Members are reported to a visitor with their
 * decoded headers; content goes to the sink the visitor returns (for a digest), never to disk
 * and never whole into memory. Any damage (bad checksum, truncation, a decompressor error) is an
 * InputError naming the archive.
 */
import fs from 'node:fs';
import { type Links, openInput } from '../runtime/input-file.js';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, MediaComposeError, describeSystemError } from '../errors.js';
import { type ArchiveFormat, COMPRESSION_NAMES, createDecompressor, detectFormat } from '../formats/registry.js';
import { BLOCK } from '../model/tar-header.js';
import { type DecodedMember, HeaderProblem, type PaxRecords, cString, checksumOk, decodeHeader, headerSize, isExtensionHeader, parsePaxRecords } from './tar-decode.js';


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

/**
 * Streams an archive through `visit`; resolves with its totals. `links` says where a symlink
 * may lead (a medium's archive: inside the medium); only a regular file is opened.
 */
export async function readArchive(file: string, links: Links, visit: (member: DecodedMember) => ContentSink | undefined): Promise<ArchiveTotals> {
  const fd = openArchive(file, links);
  const format = detectFormat(readHead(file, fd));
  if (!format) {
    fs.closeSync(fd);
    throw new InputError(file, `not a tar archive compressed with ${COMPRESSION_NAMES.slice(0, -1).join(', ')} or ${COMPRESSION_NAMES.at(-1)}`, 'the format is told by its first bytes');
  }
  const parser = new TarParser(file, visit);
  const { stream, done } = createDecompressor(format);
  try {
    await Promise.all([pipeline(fs.createReadStream('', { fd, start: 0, highWaterMark: 1 << 20 }), stream, parser), done]);
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    throw new InputError(file, `cannot read the archive: ${describeSystemError(err)}`, 'it may be truncated or damaged');
  }
  return { format, size: parser.bytes, members: parser.members };
}

function openArchive(file: string, links: Links): number {
  try {
    return openInput(file, 'archive', links).fd;
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    throw new InputError(file, `cannot open: ${describeSystemError(err)}`);
  }
}

function readHead(file: string, fd: number): Buffer {
  const head = Buffer.alloc(512);
  try {
    return head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
  } catch (err) {
    fs.closeSync(fd);
    throw new InputError(file, `cannot read the archive: ${describeSystemError(err)}`);
  }
}

/**
 * The largest pax extended header or GNU long name/link body read. Real ones hold a few hundred
 * bytes; the body is collected before it is parsed, so without a cap a header claiming
 * gigabytes would be collected into memory.
 */
const MAX_EXTENDED_HEADER = 4 << 20;

type Pending = { kind: 'header' } | { kind: 'data'; left: number; pad: number; sink?: ContentSink; collect?: Buffer[]; then?: (data: Buffer) => void };

/** A streaming tar parser, reading headers as GNU tar does (tar-decode.ts). */
class TarParser extends Writable {
  bytes = 0;
  members = 0;
  private ended = false;
  private zeroBlocks = 0;
  private carry: Buffer = Buffer.alloc(0);
  private state: Pending = { kind: 'header' };
  private global: PaxRecords = {};
  private local: PaxRecords = {};
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
    // GNU tar ends the archive at a lone zero block (with a warning): what follows is never extracted.
    if (this.zeroBlocks > 0) throw new InputError(this.file, 'a lone zero block inside the archive', 'the archive is damaged');
    if (!checksumOk(block)) throw new InputError(this.file, `bad header checksum at byte ${offset}`, 'the archive is damaged');
    try {
      this.decode(block, offset);
    } catch (err) {
      if (!(err instanceof HeaderProblem)) throw err;
      throw new InputError(this.file, `header at byte ${offset}: ${err.message}`, 'GNU tar would extract it otherwise or fail; the archive is damaged or hostile, repack it');
    }
  }

  private decode(block: Buffer, offset: number): void {
    const typeflag = String.fromCharCode(block[156]!);
    if (isExtensionHeader(typeflag)) {
      const size = headerSize(block);
      if (size > MAX_EXTENDED_HEADER) {
        throw new InputError(
          this.file,
          `extended header too large: ${size} bytes at byte ${offset} (type ${typeflag}; at most ${MAX_EXTENDED_HEADER >> 20} MiB is read)`,
          'real pax and GNU long-name headers hold a few hundred bytes; the archive is damaged or hostile',
        );
      }
      this.state = { kind: 'data', left: size, pad: (BLOCK - (size % BLOCK)) % BLOCK, collect: [], then: (data) => this.extension(typeflag, data, offset) };
      return;
    }
    const member = decodeHeader(block, { global: this.global, local: this.local, longName: this.longName, longLink: this.longLink });
    this.local = {};
    this.longName = undefined;
    this.longLink = undefined;
    this.members++;
    const sink = this.visit(member);
    if (member.size > 0) this.state = { kind: 'data', left: member.size, pad: (BLOCK - (member.size % BLOCK)) % BLOCK, sink };
  }

  /** A 'g' header replaces the global records, an 'x' one the next member's; 'L' and 'K' its names. */
  private extension(typeflag: string, data: Buffer, offset: number): void {
    try {
      if (typeflag === 'g') this.global = parsePaxRecords(data);
      else if (typeflag === 'x' || typeflag === 'X') this.local = parsePaxRecords(data);
      else if (typeflag === 'L') this.longName = cString(data);
      else this.longLink = cString(data);
    } catch (err) {
      if (!(err instanceof HeaderProblem)) throw err;
      throw new InputError(this.file, `header at byte ${offset}: ${err.message}`, 'GNU tar would extract it otherwise or fail; the archive is damaged or hostile, repack it');
    }
  }

}
