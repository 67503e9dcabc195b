/**
 * Builds rpm header blobs for tests: index entries in the order given, data laid out in the
 * same order with each type's alignment, optionally wrapped in a HEADERIMMUTABLE region.
 */
import { RpmTag, RpmType } from '../../src/pkgdb/header.js';

export type TestEntry =
  | { tag: number; type: typeof RpmType.string; value: string }
  | { tag: number; type: typeof RpmType.stringArray | typeof RpmType.i18nString; value: string[] }
  | { tag: number; type: typeof RpmType.int32; value: number[] }
  | { tag: number; type: typeof RpmType.bin; value: number[] };

export function buildHeaderBlob(entries: readonly TestEntry[], { region = true } = {}): Uint8Array {
  const data: number[] = [];
  const index: [number, number, number, number][] = [];
  for (const entry of entries) {
    const align = entry.type === RpmType.int32 ? 4 : 1;
    while (data.length % align !== 0) data.push(0);
    const offset = data.length;
    data.push(...encode(entry));
    const count = entry.type === RpmType.string ? 1 : entry.value.length;
    index.push([entry.tag, entry.type, offset, count]);
  }
  if (region) {
    const trailerOffset = data.length;
    const regionEntries = index.length + 1;
    data.push(...int32s([RpmTag.headerImmutable, RpmType.bin, -regionEntries * 16, 16]));
    index.unshift([RpmTag.headerImmutable, RpmType.bin, trailerOffset, 16]);
  }
  return Uint8Array.from([...int32s([index.length, data.length]), ...index.flatMap((e) => int32s(e)), ...data]);
}

function encode(entry: TestEntry): number[] {
  switch (entry.type) {
    case RpmType.string:
      return [...new TextEncoder().encode(entry.value), 0];
    case RpmType.stringArray:
    case RpmType.i18nString:
      return entry.value.flatMap((s) => [...new TextEncoder().encode(s), 0]);
    case RpmType.int32:
      return int32s(entry.value);
    case RpmType.bin:
      return entry.value;
  }
}

function int32s(values: readonly number[]): number[] {
  return values.flatMap((v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** The entries of a typical installed package header. */
export function samplePackageEntries(): TestEntry[] {
  return [
    { tag: RpmTag.name, type: RpmType.string, value: 'hello' },
    { tag: RpmTag.version, type: RpmType.string, value: '2.12.1' },
    { tag: RpmTag.release, type: RpmType.string, value: '1.1' },
    { tag: RpmTag.epoch, type: RpmType.int32, value: [3] },
    { tag: RpmTag.arch, type: RpmType.string, value: 'x86_64' },
    { tag: RpmTag.dirIndexes, type: RpmType.int32, value: [0, 1, 1] },
    { tag: RpmTag.baseNames, type: RpmType.stringArray, value: ['hello', 'hello', 'README'] },
    { tag: RpmTag.dirNames, type: RpmType.stringArray, value: ['/usr/bin/', '/usr/share/doc/hello/'] },
  ];
}
