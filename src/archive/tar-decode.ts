/**
 * Tar headers read back as GNU tar 1.34 reads them when the installer extracts an image
 * (`tar --numeric-owner --record-size=10240 -xf`, as root): verify replays the members this
 * decodes, so whatever GNU tar would apply, this applies, and whatever GNU tar would fail on (its
 * exit status 2 aborts the installation), this refuses with a HeaderProblem. The rules below were
 * checked against GNU tar 1.34 extracting hand-made archives (test/reliability/tar-model.slow.test.ts):
 *
 * - pax records: a 'g' (global) header's records apply to every later member until the next 'g'
 *   header, which replaces them all; an 'x' (or Solaris 'X') header's records apply to the next
 *   member only, and a second 'x' before it replaces the first. Local records win over global
 *   ones. Applied: path, linkpath, uid, gid, mtime (rounded down to whole seconds), size. Without
 *   effect on this extraction: atime, uname (--numeric-owner) and unknown keywords (GNU tar warns
 *   and ignores them). A malformed record or an invalid value makes GNU tar fail: refused.
 * - GNU 'L' and 'K' long names: the last one before a member applies; a pax path or linkpath wins.
 * - Numbers: octal after one optional leading NUL and any blanks, ending in NUL, a blank or the
 *   field's end; GNU base-256 (first byte 0x80, or 0xff for a negative number). Anything else
 *   makes GNU tar fail: refused. The checksum may be the unsigned or the (old Sun) signed sum.
 * - The ustar prefix is part of the name only with the POSIX magic "ustar\0" (never with GNU's
 *   "ustar  \0"). Without any magic (V7) device numbers are 0.
 * - A regular file whose name ends in '/' is a directory. Only regular files (and unknown types,
 *   which tar extracts as regular files) have content that follows the header: a directory or
 *   symlink header claiming a size is followed by the next header, and a hard link's size field
 *   is not even read.
 * - 'M' (continued from another volume) makes GNU tar fail: refused.
 *
 * Not modelled, so refused: 'S' (old GNU sparse) members and the pax records of sparse files
 * (GNU.sparse.*), dumpdirs and multi-volume archives. Other pax keywords are not applied.
 */
import type { BytePath } from '../model/entry.js';
import { BLOCK, type MemberType } from '../model/tar-header.js';

/** A header GNU tar would fail on, or whose extraction this model does not follow. */
export class HeaderProblem extends Error {}

/** A member's header as GNU tar extracts it, after pax and GNU long-name records are applied. */
export interface DecodedMember {
  readonly path: BytePath;
  /** 'other': a type tar extracts differently or not at all ('V' labels, 'D' dumpdirs, unknown types). */
  readonly type: MemberType | 'other';
  /** The typeflag as found in the header. */
  readonly typeflag: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  /** Content bytes that follow the header. */
  readonly size: number;
  readonly linkname: BytePath;
  readonly devmajor: number;
  readonly devminor: number;
}

/** pax records by keyword (values as bytes, latin1 strings). */
export type PaxRecords = Readonly<Record<string, string>>;

/** What the headers before a member ('g', 'x', 'L', 'K') say about it. */
export interface HeaderExtensions {
  readonly global: PaxRecords;
  readonly local: PaxRecords;
  readonly longName?: string;
  readonly longLink?: string;
}

const MAX_ID = 2 ** 32 - 1;

/** The headers that describe the next member instead of being one. */
export function isExtensionHeader(typeflag: string): boolean {
  return typeflag === 'x' || typeflag === 'X' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K';
}

/** The size field of a header block, as GNU tar reads it before it knows the header's type. */
export function headerSize(block: Buffer): number {
  return fromHeader(block, 124, 12, 'size', 0, Number.MAX_SAFE_INTEGER);
}

/** Decodes a member header; throws HeaderProblem where GNU tar fails or this model refuses. */
export function decodeHeader(block: Buffer, ext: HeaderExtensions): DecodedMember {
  const typeflag = String.fromCharCode(block[156]!);
  if (typeflag === 'M') throw new HeaderProblem('a member continued from another volume (type M), which GNU tar refuses to extract');
  if (typeflag === 'S') throw new HeaderProblem('an old GNU sparse member (type S): what tar writes differs from the bytes stored');
  const pax = { ...ext.global, ...ext.local };
  const magic = block.subarray(257, 265).toString('latin1');
  const posix = magic.startsWith('ustar\0');
  const v7 = !posix && magic !== 'ustar  \0';

  const prefix = posix ? cString(block.subarray(345, 500)) : '';
  const ustarName = cString(block.subarray(0, 100));
  let name = pax.path !== undefined ? cString(pax.path) : ext.longName ?? (prefix ? `${prefix}/${ustarName}` : ustarName);
  const trailingSlash = /[^/]\/+$/.test(name);
  if (trailingSlash) name = name.replace(/\/+$/, '');

  const regular = typeflag === '0' || typeflag === '\0' || typeflag === '7';
  const type: MemberType | 'other' = regular ? (trailingSlash ? 'dir' : 'file') : TYPES[typeflag] ?? 'other';
  // Links carry no content whatever their size field says; GNU tar does not even read it.
  const size = type === 'file' || type === 'other' ? (pax.size !== undefined ? Number(pax.size) : headerSize(block)) : 0;
  if (type !== 'link') headerSize(block);
  const device = (type === 'char' || type === 'block') && !v7;
  return {
    path: name,
    type,
    typeflag,
    mode: fromHeader(block, 100, 8, 'mode', -Infinity, Infinity) & 0o7777,
    uid: pax.uid !== undefined ? Number(pax.uid) : fromHeader(block, 108, 8, 'uid', 0, MAX_ID),
    gid: pax.gid !== undefined ? Number(pax.gid) : fromHeader(block, 116, 8, 'gid', 0, MAX_ID),
    mtime: pax.mtime !== undefined ? paxSeconds(pax.mtime) : fromHeader(block, 136, 12, 'mtime', -Infinity, Infinity),
    size,
    linkname: pax.linkpath !== undefined ? cString(pax.linkpath) : ext.longLink ?? cString(block.subarray(157, 257)),
    devmajor: device ? fromHeader(block, 329, 8, 'devmajor', 0, MAX_ID) : 0,
    devminor: device ? fromHeader(block, 337, 8, 'devminor', 0, MAX_ID) : 0,
  };
}

const TYPES: Readonly<Record<string, MemberType>> = { '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** True when the checksum field holds the unsigned or the signed sum of the block. */
export function checksumOk(block: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  let recorded: number;
  try {
    recorded = fromHeader(block, 148, 8, 'checksum', 0, 2 ** 31 - 1, true);
  } catch {
    return false;
  }
  return recorded === unsigned || recorded === signed;
}

/**
 * A numeric header field as GNU tar's from_header reads it; `field` names it in the problem.
 * Throws where GNU tar reports an error (its exit status then aborts the installation).
 */
function fromHeader(block: Buffer, offset: number, length: number, field: string, min: number, max: number, octalOnly = false): number {
  const end = offset + length;
  let at = offset + (block[offset] === 0 ? 1 : 0);
  for (; at < end && isSpace(block[at]!); at++);
  if (at === end) throw new HeaderProblem(`blanks where the ${field} number is expected`);
  let value: bigint;
  const first = block[at]!;
  if (first >= 0x30 && first <= 0x37) {
    value = 0n;
    for (; at < end && block[at]! >= 0x30 && block[at]! <= 0x37; at++) value = value * 8n + BigInt(block[at]! - 0x30);
  } else if (!octalOnly && (first === 0x80 || first === 0xff)) {
    value = first === 0xff ? -1n : 0n;
    for (at++; at < end; at++) value = (value << 8n) | BigInt(block[at]!);
  } else {
    value = 0n;
  }
  if (at < end && block[at] !== 0 && !isSpace(block[at]!)) {
    throw new HeaderProblem(`"${printableField(block.subarray(offset, end))}" where the ${field} number is expected`);
  }
  const n = Number(value);
  if (n < min || n > max || !Number.isSafeInteger(n)) throw new HeaderProblem(`${field} ${value} is out of range`);
  return n;
}

function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

function printableField(bytes: Buffer): string {
  return [...cString(bytes)].map((c) => (c >= ' ' && c <= '~' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('');
}

/** Bytes up to the first NUL, as a latin1 string. */
export function cString(bytes: Buffer | string): string {
  if (typeof bytes === 'string') {
    const nul = bytes.indexOf('\0');
    return nul === -1 ? bytes : bytes.slice(0, nul);
  }
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul === -1 ? bytes.length : nul).toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// pax records

/** The keywords GNU tar applies to a member, with the values it accepts. */
const APPLIED: Readonly<Record<string, (value: string) => boolean>> = {
  path: () => true,
  linkpath: () => true,
  uid: (v) => /^\d+$/.test(v) && Number(v) <= MAX_ID,
  gid: (v) => /^\d+$/.test(v) && Number(v) <= MAX_ID,
  size: (v) => /^\d+$/.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER,
  mtime: isPaxTime,
  // Not applied by this extraction, but GNU tar still decodes them and fails on a bad one.
  atime: isPaxTime,
  ctime: isPaxTime,
};

function isPaxTime(value: string): boolean {
  return /^-?\d{1,15}(\.\d+)?$/.test(value);
}

/** Records GNU tar would apply in a way the replay does not follow. */
function refusedKeyword(keyword: string): string | undefined {
  if (keyword.startsWith('GNU.sparse.')) return 'a sparse file: what tar writes differs from the bytes stored';
  if (keyword === 'GNU.dumpdir') return 'an incremental dump directory';
  if (keyword.startsWith('GNU.volume.') && keyword !== 'GNU.volume.label') return 'a multi-volume archive';
  return undefined;
}

/**
 * The records of a pax header ("<length> <keyword>=<value>\n" each), parsed as GNU tar's
 * decode_record does; the last record of a keyword wins. Throws HeaderProblem on a malformed
 * record, an invalid value, or a keyword this model refuses.
 */
export function parsePaxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    let p = at;
    while (data[p] === 0x20 || data[p] === 0x09) p++;
    if (p >= data.length || data[p] === 0) break; // the padding after the last record
    if (!isDigit(data[p]!)) throw new HeaderProblem(`malformed pax record at byte ${at} of its header: no length`);
    const digitsEnd = skip(data, p, isDigit);
    const length = Number(data.subarray(p, digitsEnd).toString('latin1'));
    if (length > data.length - at) throw new HeaderProblem(`malformed pax record at byte ${at} of its header: length ${length} is out of range`);
    const next = at + length;
    const keywordAt = skip(data, digitsEnd, (b) => b === 0x20 || b === 0x09);
    if (keywordAt === digitsEnd) throw new HeaderProblem(`malformed pax record at byte ${at} of its header: no blank after the length`);
    let eq = keywordAt;
    while (eq < data.length && data[eq] !== 0x3d && data[eq] !== 0) eq++;
    if (eq >= next || data[eq] !== 0x3d) throw new HeaderProblem(`malformed pax record at byte ${at} of its header: no equal sign`);
    if (data[next - 1] !== 0x0a) throw new HeaderProblem(`malformed pax record at byte ${at} of its header: no newline at its end`);
    const keyword = data.subarray(keywordAt, eq).toString('latin1');
    const value = data.subarray(eq + 1, next - 1).toString('latin1');
    const refused = refusedKeyword(keyword);
    if (refused) throw new HeaderProblem(`pax record ${keyword}: ${refused}, which mediacompose does not model`);
    const valid = APPLIED[keyword];
    if (valid && !valid(value)) throw new HeaderProblem(`invalid pax record ${keyword}=${printableField(Buffer.from(value, 'latin1'))}`);
    out[keyword] = value;
    at = next;
  }
  return out;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function skip(data: Buffer, from: number, test: (b: number) => boolean): number {
  let at = from;
  while (at < data.length && test(data[at]!)) at++;
  return at;
}

/** A pax time in whole seconds, rounded down as GNU tar's timespec keeps it ("-1.5" is -2). */
function paxSeconds(value: string): number {
  const [whole, fraction = ''] = value.split('.');
  const seconds = Number(whole);
  return value.startsWith('-') && /[1-9]/.test(fraction) ? seconds - 1 : seconds;
}
