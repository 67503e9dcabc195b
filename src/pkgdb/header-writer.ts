/**
 * Writes rpm header blobs in the layout header.ts reads (rpm's headerExport): index entries in
 * the order given, data laid out in the same order with each type's alignment, wrapped in a
 * HEADERIMMUTABLE region as installed headers are. For the demo roots' package database.
 */
import { RpmTag, RpmType } from './header.js';

export type HeaderValue =
  | { tag: number; type: typeof RpmType.string; value: string }
  | { tag: number; type: typeof RpmType.stringArray | typeof RpmType.i18nString; value: readonly string[] }
  | { tag: number; type: typeof RpmType.int16 | typeof RpmType.int32; value: readonly number[] }
  | { tag: number; type: typeof RpmType.bin | typeof RpmType.char; value: readonly number[] };

const ALIGN: Readonly<Record<number, number>> = { [RpmType.int16]: 2, [RpmType.int32]: 4 };

/** The blob of `entries`; `region: false` leaves the region out (as very old headers have it). */
export function encodeHeaderBlob(entries: readonly HeaderValue[], { region = true } = {}): Uint8Array {
  const data: number[] = [];
  const index: Array<[number, number, number, number]> = [];
  for (const entry of entries) {
    const align = ALIGN[entry.type] ?? 1;
    while (data.length % align !== 0) data.push(0);
    const offset = data.length;
    data.push(...encode(entry));
    index.push([entry.tag, entry.type, offset, entry.type === RpmType.string ? 1 : entry.value.length]);
  }
  if (region) {
    const trailerOffset = data.length;
    data.push(...int32s([RpmTag.headerImmutable, RpmType.bin, -(index.length + 1) * 16, 16]));
    index.unshift([RpmTag.headerImmutable, RpmType.bin, trailerOffset, 16]);
  }
  return Uint8Array.from([...int32s([index.length, data.length]), ...index.flatMap((e) => int32s(e)), ...data]);
}

function encode(entry: HeaderValue): number[] {
  switch (entry.type) {
    case RpmType.string:
      return [...Buffer.from(entry.value, 'utf8'), 0];
    case RpmType.stringArray:
    case RpmType.i18nString:
      return entry.value.flatMap((s) => [...Buffer.from(s, 'utf8'), 0]);
    case RpmType.int16:
      return entry.value.flatMap((v) => [(v >>> 8) & 0xff, v & 0xff]);
    case RpmType.int32:
      return int32s(entry.value);
    case RpmType.bin:
    case RpmType.char:
      return [...entry.value];
  }
}

function int32s(values: readonly number[]): number[] {
  return values.flatMap((v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}
