/**
 * Read-only reader for rpm's Berkeley DB `Packages` file (SLE 12/15 before ndb, RHEL <= 8): a
 * Berkeley DB *hash* database mapping a 4-byte package number to a header blob. Layout as used by
 * rpm's own read-only backend, lib/backend/bdb_ro.c. Integers are in the byte order of the
 * machine that wrote the file; the metadata magic tells which.
 *
 * Page 0, the hash metadata page (offsets in bytes):
 *   12 magic 0x00061561   16 version (8..10)   20 page size   32 last page number
 *   72 max bucket   76 high mask   80 low mask   96 spares[32]
 * Bucket b lives on page b + spares[bits(b)], where bits(b) is the bit length of b.
 *
 * Every other page starts with a 26-byte header:
 *   8 page number   12 previous page   16 next page   20 entry count (u16)
 *   22 free-area offset (u16; on overflow pages: the bytes of data held)   25 page type
 * Hash pages (type 13, or 2 for the older unsorted kind) are chained through "next page" and
 * hold, after the header, an array of u16 item offsets: key, data, key, data, ... Items are
 * packed from the end of the page downwards, so an item ends where the previous one starts.
 * An item begins with its type byte:
 *   1 KEYDATA  the bytes follow directly
 *   3 OFFPAGE  3 unused bytes, first overflow page (u32), total length (u32)
 * Overflow pages (type 7) hold their share of the bytes right after the header and chain
 * through "next page".
 *
 * rpm's record 0, when present, is bookkeeping (the next package number), not a package.
 */
import { DatabaseFile, dataView, packageFromRecord } from './dbfile.js';
import type { InstalledPackage } from './package.js';

const HASH_MAGIC = 0x00061561;
const BTREE_MAGIC = 0x00053162;
const PAGE_HEADER_SIZE = 26;
const META_READ_SIZE = 512;

const PageType = { hashUnsorted: 2, overflow: 7, hash: 13 } as const;
const ItemType = { keyData: 1, duplicate: 2, offPage: 3, offPageDuplicate: 4 } as const;

interface HashMeta {
  littleEndian: boolean;
  pageSize: number;
  lastPage: number;
  maxBucket: number;
  spares: number[];
}

interface HashRecord {
  key: Uint8Array;
  value: Uint8Array;
}

/** Reads every package of a Berkeley DB `Packages` file, in package-number order. */
export async function readBdbDatabase(path: string): Promise<InstalledPackage[]> {
  return DatabaseFile.with(path, 'rpm Berkeley DB', async (file) => {
    const reader = new HashReader(file, await readMeta(file));
    const packages: { number: number; pkg: InstalledPackage }[] = [];
    for await (const record of reader.records()) {
      const number = reader.packageNumber(record.key);
      if (number === 0) continue;
      packages.push({ number, pkg: packageFromRecord(file.path, file.kind, `package ${number}`, record.value) });
    }
    return packages.sort((a, b) => a.number - b.number).map((entry) => entry.pkg);
  });
}

async function readMeta(file: DatabaseFile): Promise<HashMeta> {
  if (file.size < META_READ_SIZE) throw file.damaged(`${file.size} bytes is too short for the metadata page`);
  const view = dataView(await file.read(0, META_READ_SIZE, 'metadata page'));
  const littleEndian = byteOrder(view);
  if (littleEndian === undefined) {
    const isBtree = view.getUint32(12, true) === BTREE_MAGIC || view.getUint32(12, false) === BTREE_MAGIC;
    throw file.damaged(isBtree ? 'a Berkeley DB btree, not the hash database rpm keeps packages in'
      : 'no Berkeley DB hash magic; not a Berkeley DB database');
  }
  const u32 = (offset: number) => view.getUint32(offset, littleEndian);
  const version = u32(16);
  if (version < 8 || version > 10) throw file.damaged(`unsupported Berkeley DB hash version ${version}`);
  const meta: HashMeta = {
    littleEndian,
    pageSize: u32(20),
    lastPage: u32(32),
    maxBucket: u32(72),
    spares: Array.from({ length: 32 }, (_, i) => u32(96 + 4 * i)),
  };
  if (meta.pageSize < 512 || meta.pageSize > 65536 || (meta.pageSize & (meta.pageSize - 1)) !== 0) {
    throw file.damaged(`implausible page size ${meta.pageSize}`);
  }
  if ((meta.lastPage + 1) * meta.pageSize > file.size) {
    throw file.damaged(`${meta.lastPage + 1} pages of ${meta.pageSize} bytes do not fit in ${file.size} bytes; truncated?`);
  }
  return meta;
}

/** true for a little-endian file, false for big-endian, undefined when it is no hash database. */
function byteOrder(meta: DataView): boolean | undefined {
  if (meta.getUint32(12, true) === HASH_MAGIC) return true;
  if (meta.getUint32(12, false) === HASH_MAGIC) return false;
  return undefined;
}

/** One page read from the file, with accessors in the file's byte order. */
class Page {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly littleEndian: boolean,
  ) {
    this.view = dataView(bytes);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, this.littleEndian);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, this.littleEndian);
  }
  get number(): number {
    return this.u32(8);
  }
  get nextPage(): number {
    return this.u32(16);
  }
  get entryCount(): number {
    return this.u16(20);
  }
  /** Overflow pages keep the number of bytes they hold where other pages keep the free offset. */
  get overflowLength(): number {
    return this.u16(22);
  }
  get type(): number {
    return this.bytes[25]!;
  }
}

class HashReader {
  constructor(
    private readonly file: DatabaseFile,
    private readonly meta: HashMeta,
  ) {}

  packageNumber(key: Uint8Array): number {
    if (key.length !== 4) throw this.file.damaged(`record key of ${key.length} bytes, expected 4`);
    return dataView(key).getUint32(0, this.meta.littleEndian);
  }

  /** Every key/data pair, bucket by bucket, following each bucket's page chain. */
  async *records(): AsyncGenerator<HashRecord> {
    const visited = new Set<number>();
    for (let bucket = 0; bucket <= this.meta.maxBucket; bucket++) {
      let pageNumber = this.bucketPage(bucket);
      while (pageNumber !== 0) {
        if (visited.has(pageNumber)) throw this.file.damaged(`page ${pageNumber} is linked twice`);
        visited.add(pageNumber);
        const page = await this.readPage(pageNumber);
        if (page.type !== PageType.hash && page.type !== PageType.hashUnsorted) {
          throw this.file.damaged(`page ${pageNumber} of bucket ${bucket} is not a hash page (type ${page.type})`);
        }
        yield* this.pageRecords(page);
        pageNumber = page.nextPage;
      }
    }
  }

  private bucketPage(bucket: number): number {
    const bits = bucket === 0 ? 0 : 32 - Math.clz32(bucket);
    return bucket + (this.meta.spares[bits] ?? 0);
  }

  private async readPage(pageNumber: number): Promise<Page> {
    if (pageNumber === 0 || pageNumber > this.meta.lastPage) {
      throw this.file.damaged(`link to page ${pageNumber}, outside pages 1..${this.meta.lastPage}`);
    }
    const { pageSize } = this.meta;
    const page = new Page(await this.file.read(pageNumber * pageSize, pageSize, `page ${pageNumber}`), this.meta.littleEndian);
    if (page.number !== pageNumber) throw this.file.damaged(`page ${pageNumber} says it is page ${page.number}`);
    return page;
  }

  private async *pageRecords(page: Page): AsyncGenerator<HashRecord> {
    const { pageSize } = this.meta;
    const count = page.entryCount;
    if (count % 2 !== 0 || PAGE_HEADER_SIZE + 2 * count > pageSize) {
      throw this.file.damaged(`page ${page.number} claims ${count} items`);
    }
    const offsetOf = (i: number) => page.u16(PAGE_HEADER_SIZE + 2 * i);
    for (let i = 0; i < count; i += 2) {
      const keyStart = offsetOf(i);
      const keyEnd = i === 0 ? pageSize : offsetOf(i - 1);
      const valueStart = offsetOf(i + 1);
      const key = await this.item(page, keyStart, keyEnd);
      const value = await this.item(page, valueStart, keyStart);
      yield { key, value };
    }
  }

  /** The bytes of the item occupying [start, end) of a hash page. */
  private async item(page: Page, start: number, end: number): Promise<Uint8Array> {
    const firstItemByte = PAGE_HEADER_SIZE + 2 * page.entryCount;
    if (start < firstItemByte || end > this.meta.pageSize || start >= end) {
      throw this.file.damaged(`page ${page.number} has an item at bytes ${start}..${end}`);
    }
    const type = page.bytes[start];
    if (type === ItemType.keyData) return page.bytes.subarray(start + 1, end);
    if (type === ItemType.offPage) {
      if (end - start !== 12) throw this.file.damaged(`page ${page.number} has an off-page item of ${end - start} bytes`);
      return this.readOverflow(page.u32(start + 4), page.u32(start + 8));
    }
    throw this.file.damaged(`page ${page.number} has an item of type ${type}; rpm stores none but plain and off-page items`);
  }

  /** Collects `length` bytes from the overflow page chain starting at `pageNumber`. */
  private async readOverflow(pageNumber: number, length: number): Promise<Uint8Array> {
    const { pageSize } = this.meta;
    if (length === 0 || length > this.file.size) throw this.file.damaged(`off-page item claims ${length} bytes`);
    const result = new Uint8Array(length);
    // Every page adds at least one byte and never more than are missing, so the loop ends.
    let filled = 0;
    while (filled < length) {
      if (pageNumber === 0) throw this.file.damaged(`overflow chain ends after ${filled} of ${length} bytes`);
      const page = await this.readPage(pageNumber);
      const held = page.overflowLength;
      if (page.type !== PageType.overflow || held === 0 || PAGE_HEADER_SIZE + held > pageSize || filled + held > length) {
        throw this.file.damaged(`overflow page ${pageNumber} is damaged`);
      }
      result.set(page.bytes.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + held), filled);
      filled += held;
      pageNumber = page.nextPage;
    }
    return result;
  }
}
