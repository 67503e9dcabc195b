/**
 * Reader for rpm's "ndb" backend package file, Packages.db (openSUSE/SLE since 15 SP3).
 * Layout, from rpm's lib/backend/ndb/rpmpkg.c; every integer is little-endian:
 *
 * - The file is a sequence of 16-byte blocks, grouped into 4096-byte pages.
 * - Page 0 starts with a 32-byte file header:
 *     'RpmP' magic, version (0), generation, slotnpages, nextpkgidx, padding
 * - The first `slotnpages` pages hold 16-byte slots (the first two slots of page 0 are taken by
 *   the file header):  'Slot' magic, pkgidx, blkoff, blkcnt
 *   A slot with blkoff 0 is free. Otherwise package `pkgidx` occupies blocks
 *   [blkoff, blkoff + blkcnt), which lie after the slot pages and inside the file.
 * - Such a block range holds one blob:
 *     head  'BlbS' magic, pkgidx, generation, bloblen
 *     the header blob, bloblen bytes
 *     zero padding up to the tail
 *     tail  adler32 of everything before the tail, bloblen, 'BlbE' magic  (the last 12 bytes)
 */
import { DatabaseFile, dataView, packageFromRecord } from './dbfile.js';
import type { InstalledPackage } from './package.js';

const PAGE_SIZE = 4096;
const BLOCK_SIZE = 16;
const SLOT_SIZE = 16;
const FILE_HEADER_SIZE = 32;
const BLOB_HEAD_SIZE = 16;
const BLOB_TAIL_SIZE = 12;

const FILE_MAGIC = fourCC('RpmP');
const SLOT_MAGIC = fourCC('Slot');
const BLOB_HEAD_MAGIC = fourCC('BlbS');
const BLOB_TAIL_MAGIC = fourCC('BlbE');
const SUPPORTED_VERSION = 0;

/** The little-endian integer whose bytes spell `text`, as rpm defines its magics. */
function fourCC(text: string): number {
  return (text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24)) >>> 0;
}

interface Slot {
  pkgidx: number;
  blkoff: number;
  blkcnt: number;
}

/** Reads every package of an ndb Packages.db, in package-index (installation) order. */
export async function readNdbDatabase(path: string): Promise<InstalledPackage[]> {
  return DatabaseFile.with(path, 'rpm ndb', async (file) => {
    const slotPages = await readFileHeader(file);
    const slots = await readSlots(file, slotPages);
    const packages: InstalledPackage[] = [];
    for (const slot of slots) {
      const blob = await readBlob(file, slot);
      packages.push(packageFromRecord(file.path, file.kind, `package ${slot.pkgidx}`, blob));
    }
    return packages;
  });
}

/** Checks the file header; returns the number of slot pages. */
async function readFileHeader(file: DatabaseFile): Promise<number> {
  if (file.size < FILE_HEADER_SIZE) throw file.damaged(`${file.size} bytes is too short for the file header`);
  const view = dataView(await file.read(0, FILE_HEADER_SIZE, 'file header'));
  if (view.getUint32(0, true) !== FILE_MAGIC) throw file.damaged('no RpmP magic at the start; not an ndb Packages.db');
  const version = view.getUint32(4, true);
  if (version !== SUPPORTED_VERSION) throw file.damaged(`unsupported ndb version ${version}`);
  if (file.size % BLOCK_SIZE !== 0) throw file.damaged(`size ${file.size} is not a multiple of ${BLOCK_SIZE}; truncated?`);
  const slotPages = view.getUint32(12, true);
  if (slotPages < 1 || slotPages * PAGE_SIZE > file.size) {
    throw file.damaged(`header claims ${slotPages} slot pages, the file has ${Math.floor(file.size / PAGE_SIZE)} pages`);
  }
  return slotPages;
}

/** Reads the used slots, checks them against the file, and orders them by package index. */
async function readSlots(file: DatabaseFile, slotPages: number): Promise<Slot[]> {
  const area = dataView(await file.read(0, slotPages * PAGE_SIZE, 'slot pages'));
  const firstDataBlock = (slotPages * PAGE_SIZE) / BLOCK_SIZE;
  const fileBlocks = file.size / BLOCK_SIZE;
  const slots: Slot[] = [];
  const seen = new Set<number>();
  for (let at = FILE_HEADER_SIZE; at < area.byteLength; at += SLOT_SIZE) {
    const slotNumber = at / SLOT_SIZE;
    if (area.getUint32(at, true) !== SLOT_MAGIC) throw file.damaged(`slot ${slotNumber} has no Slot magic`);
    const slot = { pkgidx: area.getUint32(at + 4, true), blkoff: area.getUint32(at + 8, true), blkcnt: area.getUint32(at + 12, true) };
    if (slot.blkoff === 0) continue; // free slot
    if (slot.pkgidx === 0 || slot.blkcnt === 0 || slot.blkoff < firstDataBlock) {
      throw file.damaged(`slot ${slotNumber} is inconsistent (package ${slot.pkgidx}, blocks ${slot.blkoff}+${slot.blkcnt})`);
    }
    if (slot.blkoff + slot.blkcnt > fileBlocks) {
      throw file.damaged(`package ${slot.pkgidx} lies past the end of the file; truncated?`);
    }
    if (seen.has(slot.pkgidx)) throw file.damaged(`package ${slot.pkgidx} has two slots`);
    seen.add(slot.pkgidx);
    slots.push(slot);
  }
  return slots.sort((a, b) => a.pkgidx - b.pkgidx);
}

/** Reads one package's blob, checking its head, tail and checksum; returns the header blob. */
async function readBlob(file: DatabaseFile, slot: Slot): Promise<Uint8Array> {
  const what = `package ${slot.pkgidx}`;
  const bytes = await file.read(slot.blkoff * BLOCK_SIZE, slot.blkcnt * BLOCK_SIZE, what);
  const view = dataView(bytes);
  if (bytes.length < BLOB_HEAD_SIZE + BLOB_TAIL_SIZE) throw file.damaged(`${what}: record too small`);
  if (view.getUint32(0, true) !== BLOB_HEAD_MAGIC || view.getUint32(4, true) !== slot.pkgidx) {
    throw file.damaged(`${what}: record head is not where its slot points`);
  }
  const blobLength = view.getUint32(12, true);
  const expectedBlocks = Math.ceil((BLOB_HEAD_SIZE + blobLength + BLOB_TAIL_SIZE) / BLOCK_SIZE);
  if (expectedBlocks !== slot.blkcnt) throw file.damaged(`${what}: record length ${blobLength} does not fit its ${slot.blkcnt} blocks`);
  const tailAt = bytes.length - BLOB_TAIL_SIZE;
  if (view.getUint32(tailAt + 8, true) !== BLOB_TAIL_MAGIC || view.getUint32(tailAt + 4, true) !== blobLength) {
    throw file.damaged(`${what}: record tail is damaged`);
  }
  if (view.getUint32(tailAt, true) !== adler32(bytes.subarray(0, tailAt))) {
    throw file.damaged(`${what}: record checksum mismatch`);
  }
  return bytes.subarray(BLOB_HEAD_SIZE, BLOB_HEAD_SIZE + blobLength);
}

/** Adler-32 (RFC 1950), as rpm uses it for blob checksums. */
function adler32(bytes: Uint8Array): number {
  const MOD = 65521;
  const CHUNK = 5552; // the most bytes before the sums can overflow 32 bits
  let a = 1;
  let b = 0;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    for (let i = start; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
