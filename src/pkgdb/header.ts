/**
 * Reader for rpm header blobs, the per-package records every rpm database backend stores.
 *
 * Layout (all integers big-endian), as written by rpm's headerExport (lib/header.c):
 *
 *   int32 il                      number of index entries
 *   int32 dl                      size of the data store in bytes
 *   il × { int32 tag, int32 type, int32 offset, int32 count }   the index
 *   dl bytes                      the data store; `offset` is relative to its start
 *
 * The blob is exactly 8 + 16·il + dl bytes long. In installed headers the first index entry is
 * usually a "region" tag (HEADERIMMUTABLE, 63) whose data is a 16-byte trailer entry marking the
 * part of the header that came unchanged from the package file; entries that rpm added at
 * install time follow it. Data of the other entries must lie inside the store, aligned for its
 * type, in ascending non-overlapping order, and must not overlap the region trailer.
 */
import type { InstalledPackage } from './package.js';

/** A header blob that does not follow the layout above. */
export class HeaderFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderFormatError';
  }
}

/** rpm tag numbers used here (rpmtag.h). */
export const RpmTag = {
  headerImage: 61,
  headerSignatures: 62,
  headerImmutable: 63,
  /** Tags below this are reserved for regions and the like; real data tags start here. */
  i18nTable: 100,
  name: 1000,
  version: 1001,
  release: 1002,
  epoch: 1003,
  arch: 1022,
  oldFilenames: 1027,
  dirIndexes: 1116,
  baseNames: 1117,
  dirNames: 1118,
} as const;

/** rpm tag data types (rpmTagType). */
export const RpmType = {
  null: 0,
  char: 1,
  int8: 2,
  int16: 3,
  int32: 4,
  int64: 5,
  string: 6,
  bin: 7,
  stringArray: 8,
  i18nString: 9,
} as const;

/** Size in bytes of one element of each fixed-size type; strings are variable. */
const FIXED_TYPE_SIZE: Readonly<Record<number, number>> = {
  [RpmType.null]: 0,
  [RpmType.char]: 1,
  [RpmType.int8]: 1,
  [RpmType.int16]: 2,
  [RpmType.int32]: 4,
  [RpmType.int64]: 8,
  [RpmType.bin]: 1,
};

const PREAMBLE_SIZE = 8;
const INDEX_ENTRY_SIZE = 16;
/** rpm's own sanity limits (lib/header.c). */
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_SIZE = 0x0fffffff;
const MAX_ARRAY_COUNT = 0x000fffff;

interface HeaderEntry {
  tag: number;
  type: number;
  /** Offset into the data store. */
  offset: number;
  count: number;
  /** Bytes of data, as checked against the store. */
  length: number;
}

/** A parsed and checked header blob; entries are looked up by tag. */
class RpmHeader {
  private readonly entries = new Map<number, HeaderEntry>();

  constructor(
    private readonly store: Uint8Array,
    entries: readonly HeaderEntry[],
  ) {
    // A tag may in theory appear twice (region copy and install-time addition); keep the first.
    for (const entry of entries) {
      if (!this.entries.has(entry.tag)) this.entries.set(entry.tag, entry);
    }
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  /** A STRING (or the first element of an I18NSTRING / STRING_ARRAY) tag. */
  string(tag: number): string | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    if (!isStringType(entry.type)) throw wrongType(entry, 'a string');
    return this.decodeStrings(entry, 1)[0];
  }

  stringArray(tag: number): string[] | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    if (!isStringType(entry.type)) throw wrongType(entry, 'a string array');
    return this.decodeStrings(entry, entry.count);
  }

  /** An INT32 tag's values, read as unsigned. */
  uint32Array(tag: number): number[] | undefined {
    const entry = this.entries.get(tag);
    if (!entry) return undefined;
    if (entry.type !== RpmType.int32) throw wrongType(entry, 'an int32 array');
    const view = new DataView(this.store.buffer, this.store.byteOffset + entry.offset, entry.count * 4);
    const values: number[] = [];
    for (let i = 0; i < entry.count; i++) values.push(view.getUint32(i * 4, false));
    return values;
  }

  private decodeStrings(entry: HeaderEntry, wanted: number): string[] {
    const strings: string[] = [];
    let position = entry.offset;
    for (let i = 0; i < wanted; i++) {
      const end = this.store.indexOf(0, position); // bounds were checked when parsing
      strings.push(utf8.decode(this.store.subarray(position, end)));
      position = end + 1;
    }
    return strings;
  }
}

const utf8 = new TextDecoder('utf-8');

function isStringType(type: number): boolean {
  return type === RpmType.string || type === RpmType.stringArray || type === RpmType.i18nString;
}

function wrongType(entry: HeaderEntry, expected: string): HeaderFormatError {
  return new HeaderFormatError(`tag ${entry.tag} has data type ${entry.type}, expected ${expected}`);
}

/** Parses a header blob, checking every index entry against the data store. */
export function parseHeaderBlob(blob: Uint8Array): RpmHeader {
  if (blob.length < PREAMBLE_SIZE) {
    throw new HeaderFormatError(`header blob is ${blob.length} bytes, too short for its 8-byte preamble`);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const indexCount = view.getUint32(0, false);
  const dataLength = view.getUint32(4, false);
  if (indexCount < 1 || indexCount > MAX_INDEX_ENTRIES) {
    throw new HeaderFormatError(`header claims ${indexCount} index entries`);
  }
  if (dataLength > MAX_DATA_SIZE) {
    throw new HeaderFormatError(`header claims ${dataLength} bytes of data`);
  }
  const dataStart = PREAMBLE_SIZE + indexCount * INDEX_ENTRY_SIZE;
  if (blob.length !== dataStart + dataLength) {
    throw new HeaderFormatError(
      `header blob is ${blob.length} bytes, but its ${indexCount} index entries and ` +
        `${dataLength} data bytes make ${dataStart + dataLength}`,
    );
  }
  const store = blob.subarray(dataStart);
  const rawEntries = readIndex(view, indexCount);
  const region = checkRegion(view, dataStart, dataLength, rawEntries);
  const entries = checkEntries(store, region ? rawEntries.slice(1) : rawEntries, region);
  return new RpmHeader(store, entries);
}

type RawEntry = Omit<HeaderEntry, 'length'>;

function readIndex(view: DataView, indexCount: number): RawEntry[] {
  const entries: RawEntry[] = [];
  for (let i = 0; i < indexCount; i++) {
    const at = PREAMBLE_SIZE + i * INDEX_ENTRY_SIZE;
    entries.push({
      tag: view.getUint32(at, false),
      type: view.getUint32(at + 4, false),
      offset: view.getInt32(at + 8, false),
      count: view.getUint32(at + 12, false),
    });
  }
  return entries;
}

interface Region {
  /** Data bytes covered by the region, its trailer included. */
  dataLength: number;
}

/**
 * When the first entry is a region tag, its data is a 16-byte trailer (tag, type BIN, negative
 * offset = -16·(entries in the region), count 16) placed right after the region's data.
 */
function checkRegion(
  view: DataView,
  dataStart: number,
  dataLength: number,
  entries: readonly RawEntry[],
): Region | undefined {
  const first = entries[0];
  if (!first || !isRegionTag(first.tag)) return undefined;
  const bad = (what: string) => new HeaderFormatError(`header region tag ${first.tag}: ${what}`);
  if (first.type !== RpmType.bin || first.count !== INDEX_ENTRY_SIZE) throw bad('wrong type or count');
  if (first.offset < 0 || first.offset + INDEX_ENTRY_SIZE > dataLength) {
    throw bad(`trailer offset ${first.offset} lies outside the ${dataLength}-byte data store`);
  }
  const at = dataStart + first.offset;
  const trailerTag = view.getUint32(at, false);
  const trailerType = view.getUint32(at + 4, false);
  const regionIndexBytes = -view.getInt32(at + 8, false);
  const trailerCount = view.getUint32(at + 12, false);
  if (trailerTag !== first.tag || trailerType !== RpmType.bin || trailerCount !== INDEX_ENTRY_SIZE) {
    throw bad('its trailer does not match');
  }
  if (regionIndexBytes <= 0 || regionIndexBytes % INDEX_ENTRY_SIZE !== 0 ||
      regionIndexBytes / INDEX_ENTRY_SIZE > entries.length) {
    throw bad(`its trailer claims ${regionIndexBytes / INDEX_ENTRY_SIZE} entries of ${entries.length}`);
  }
  return { dataLength: first.offset + INDEX_ENTRY_SIZE };
}

function isRegionTag(tag: number): boolean {
  return tag === RpmTag.headerImage || tag === RpmTag.headerSignatures || tag === RpmTag.headerImmutable;
}

/** rpm's hdrblobVerifyInfo checks: valid tag and type, aligned, in range, in order. */
function checkEntries(store: Uint8Array, entries: readonly RawEntry[], region: Region | undefined): HeaderEntry[] {
  const checked: HeaderEntry[] = [];
  let previousEnd = 0;
  for (const [i, entry] of entries.entries()) {
    const bad = (what: string) =>
      new HeaderFormatError(`header index entry ${i + (region ? 1 : 0)} (tag ${entry.tag}): ${what}`);
    if (entry.tag < RpmTag.i18nTable) throw bad('reserved tag number');
    if (entry.type > RpmType.i18nString) throw bad(`unknown data type ${entry.type}`);
    if (entry.count < 1 || entry.count > store.length) throw bad(`implausible count ${entry.count}`);
    if (entry.type !== RpmType.bin && entry.count > MAX_ARRAY_COUNT) throw bad(`too many elements (${entry.count})`);
    if (entry.offset < 0 || entry.offset > store.length) {
      throw bad(`offset ${entry.offset} lies outside the ${store.length}-byte data store`);
    }
    if (entry.offset % alignment(entry.type) !== 0) throw bad(`offset ${entry.offset} is misaligned`);
    if (entry.offset < previousEnd) throw bad('its data overlaps the previous entry');
    const length = measureData(store, entry);
    if (length === undefined || length <= 0) throw bad('its data runs past the end of the data store');
    const end = entry.offset + length;
    if (region && end > region.dataLength - INDEX_ENTRY_SIZE && entry.offset < region.dataLength) {
      throw bad('its data overlaps the region trailer');
    }
    checked.push({ ...entry, length });
    previousEnd = end;
  }
  return checked;
}

function alignment(type: number): number {
  return type === RpmType.int16 ? 2 : type === RpmType.int32 ? 4 : type === RpmType.int64 ? 8 : 1;
}

/** Bytes taken by an entry's data, or undefined when it does not fit in the store. */
function measureData(store: Uint8Array, entry: RawEntry): number | undefined {
  if (isStringType(entry.type)) {
    if (entry.type === RpmType.string && entry.count !== 1) return undefined;
    let position = entry.offset;
    for (let i = 0; i < entry.count; i++) {
      const nul = store.indexOf(0, position);
      if (nul < 0) return undefined;
      position = nul + 1;
    }
    return position - entry.offset;
  }
  const length = (FIXED_TYPE_SIZE[entry.type] ?? 0) * entry.count;
  return entry.offset + length <= store.length ? length : undefined;
}

/** Name, version, arch and file list of the package a header blob describes. */
export function packageFromHeaderBlob(blob: Uint8Array): InstalledPackage {
  const header = parseHeaderBlob(blob);
  const pkg: InstalledPackage = {
    name: requiredString(header, RpmTag.name, 'NAME'),
    version: requiredString(header, RpmTag.version, 'VERSION'),
    release: requiredString(header, RpmTag.release, 'RELEASE'),
    arch: header.string(RpmTag.arch) ?? '',
    files: filePaths(header),
  };
  const epoch = header.uint32Array(RpmTag.epoch)?.[0];
  if (epoch !== undefined) pkg.epoch = epoch;
  return pkg;
}

function requiredString(header: RpmHeader, tag: number, tagName: string): string {
  const value = header.string(tag);
  if (value === undefined) throw new HeaderFormatError(`header has no ${tagName} tag`);
  return value;
}

/**
 * Paths are stored split: BASENAMES[i] lives in DIRNAMES[DIRINDEXES[i]] (dirnames end in '/').
 * Packages built before rpm 4.0 and not rewritten since carry whole OLDFILENAMES instead.
 */
function filePaths(header: RpmHeader): string[] {
  const baseNames = header.stringArray(RpmTag.baseNames);
  if (!baseNames) return header.stringArray(RpmTag.oldFilenames) ?? [];
  const dirNames = header.stringArray(RpmTag.dirNames) ?? [];
  const dirIndexes = header.uint32Array(RpmTag.dirIndexes) ?? [];
  if (dirIndexes.length !== baseNames.length) {
    throw new HeaderFormatError(
      `header has ${baseNames.length} BASENAMES but ${dirIndexes.length} DIRINDEXES`,
    );
  }
  return baseNames.map((baseName, i) => {
    const dirName = dirNames[dirIndexes[i] ?? -1];
    if (dirName === undefined) {
      throw new HeaderFormatError(`header file ${i} points at directory ${dirIndexes[i]} of ${dirNames.length}`);
    }
    return dirName + baseName;
  });
}
