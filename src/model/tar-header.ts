/**
 * Tar header encoding: POSIX ustar blocks, with a pax extended header in front when a value does
 * not fit (long or non-UTF-8 names and link targets, ids past 2097151, sizes past 8 GiB, mtimes
 * before 1970 or past 2242). Device numbers that overflow use GNU's base-256 form. Pure: bytes
 * in, bytes out. GNU tar 1.34 reads all of it without a warning. Reading headers back, as GNU tar
 * reads them, is tar-decode.ts.
 *
 * Names are written as the bytes they are, also in pax records. POSIX would mark non-UTF-8 values
 * with `hdrcharset=BINARY`, but GNU tar 1.34 warns that it ignores that keyword, and it takes the
 * path bytes as they are either way (the tests check both).
 *
 * tar-stream is not used here: its header encoder takes names as JavaScript strings and writes
 * them as UTF-8 (non-UTF-8 names cannot be expressed), truncates mtime to a signed 32-bit value,
 * and rewrites mode 0 and large ids (see docs/measured.md).
 */
import type { BytePath } from './entry.js';

export const BLOCK = 512;
export const RECORD = 10240;

export type MemberType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface MemberHeader {
  /** Relative path; directories get their trailing '/' from the encoder. */
  readonly path: BytePath;
  readonly type: MemberType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  /** Content bytes that follow the header (regular files only). */
  readonly size: number;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Symlink target, or the path a hardlink points to. */
  readonly linkname?: BytePath;
}

const TYPEFLAG: Record<MemberType | 'pax', number> = {
  file: 0x30, link: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36, pax: 0x78,
};

/** Largest values that fit the octal fields: 7 digits (8-byte fields), 11 digits (12-byte). */
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

const PAX_HEADER_NAME = Buffer.from('././@PaxHeader', 'latin1');

/** Encodes one member's header: 512 bytes, or a pax header (1024+ bytes) followed by 512. */
export function encodeHeader(h: MemberHeader): Buffer {
  const name = h.type === 'dir' ? h.path + '/' : h.path;
  const split = splitUstarName(name);
  const linkname = h.linkname ?? '';
  const block = ustarBlock(h, split ?? { prefix: '', name: name.slice(0, 100) }, linkname.slice(0, 100));
  const pax = paxRecords(h, name, split !== undefined, linkname);
  if (pax.length === 0) return block;
  const data = encodePaxRecords(pax);
  const paxBlock = ustarBlock(
    { path: '', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: data.length },
    { prefix: '', name: PAX_HEADER_NAME.toString('latin1') },
    '',
    'pax',
  );
  return Buffer.concat([paxBlock, data, Buffer.alloc(paddingAfter(data.length)), block]);
}

/** The length encodeHeader gives, without building the blocks (for sizes known in advance). */
export function headerLength(h: MemberHeader): number {
  const name = h.type === 'dir' ? h.path + '/' : h.path;
  const pax = paxRecords(h, name, splitUstarName(name) !== undefined, h.linkname ?? '');
  if (pax.length === 0) return BLOCK;
  const data = encodePaxRecords(pax).length;
  return BLOCK + data + paddingAfter(data) + BLOCK;
}

/** The pax records a header needs: whatever its ustar fields cannot hold. */
function paxRecords(h: MemberHeader, name: BytePath, fitsUstar: boolean, linkname: BytePath): Array<[string, string]> {
  const pax: Array<[string, string]> = [];
  if (!fitsUstar) pax.push(['path', name]);
  if (linkname.length > 100) pax.push(['linkpath', linkname]);
  if (!fitsUnsigned(h.uid, MAX_OCTAL_7)) pax.push(['uid', String(h.uid)]);
  if (!fitsUnsigned(h.gid, MAX_OCTAL_7)) pax.push(['gid', String(h.gid)]);
  if (!fitsUnsigned(h.size, MAX_OCTAL_11)) pax.push(['size', String(h.size)]);
  if (!fitsUnsigned(h.mtime, MAX_OCTAL_11)) pax.push(['mtime', String(h.mtime)]);
  return pax;
}

/** Zero bytes that follow `size` content bytes to fill the last 512-byte block. */
export function paddingAfter(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/**
 * Splits a name into ustar's prefix (155 bytes) and name (100 bytes) at a '/', or returns
 * undefined when it cannot be expressed that way.
 */
export function splitUstarName(name: BytePath): { prefix: string; name: string } | undefined {
  if (name.length <= 100) return { prefix: '', name };
  // The name part (after the split '/') must fit 100 bytes and the prefix 155.
  let i = name.indexOf('/', Math.max(0, name.length - 101));
  while (i !== -1 && i <= 155) {
    const rest = name.slice(i + 1);
    if (i > 0 && rest.length > 0 && rest.length <= 100) return { prefix: name.slice(0, i), name: rest };
    i = name.indexOf('/', i + 1);
  }
  return undefined;
}

function ustarBlock(
  h: MemberHeader,
  names: { prefix: string; name: string },
  linkname: string,
  typeflag: MemberType | 'pax' = h.type,
): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(names.name, 0, 100, 'latin1');
  writeOctal(b, 100, 8, h.mode & 0o7777);
  writeOctal(b, 108, 8, fitsUnsigned(h.uid, MAX_OCTAL_7) ? h.uid : 0);
  writeOctal(b, 116, 8, fitsUnsigned(h.gid, MAX_OCTAL_7) ? h.gid : 0);
  writeOctal(b, 124, 12, fitsUnsigned(h.size, MAX_OCTAL_11) ? h.size : 0);
  writeOctal(b, 136, 12, fitsUnsigned(h.mtime, MAX_OCTAL_11) ? h.mtime : 0);
  b[156] = TYPEFLAG[typeflag];
  b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\u000000', 257, 8, 'latin1');
  // uname and gname stay empty: numeric owner only.
  writeNumeric(b, 329, 8, h.devmajor ?? 0);
  writeNumeric(b, 337, 8, h.devminor ?? 0);
  b.write(names.prefix, 345, 155, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1');
  return b;
}

function fitsUnsigned(value: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= max;
}

/** Octal digits filling the field but its last byte, then NUL (the buffer is zeroed). */
function writeOctal(b: Buffer, offset: number, length: number, value: number): void {
  let v = value;
  for (let i = offset + length - 2; i >= offset; i--) {
    b[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** Octal when it fits, GNU base-256 (high bit set, big-endian) when it does not. */
function writeNumeric(b: Buffer, offset: number, length: number, value: number): void {
  if (fitsUnsigned(value, MAX_OCTAL_7)) {
    writeOctal(b, offset, length, value);
    return;
  }
  let v = BigInt(value);
  for (let i = offset + length - 1; i > offset; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[offset] = 0x80;
}

/** pax records: "<length> <key>=<value>\n", the length counting itself. Values are bytes. */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts = records.map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (String(length).length + body.length > length) length++;
    return Buffer.from(String(length) + body, 'latin1');
  });
  return Buffer.concat(parts);
}
