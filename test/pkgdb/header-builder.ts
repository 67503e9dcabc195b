/** rpm header blobs for tests, by src/pkgdb/header-writer.ts, and a typical package's entries. */
import { RpmTag, RpmType } from '../../src/pkgdb/header.js';
import { type HeaderValue, encodeHeaderBlob } from '../../src/pkgdb/header-writer.js';

/** Entries as tests write them: the writer's (also in orders and forms rpm would not write). */
export type TestEntry = HeaderValue;

export const buildHeaderBlob = encodeHeaderBlob;

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
