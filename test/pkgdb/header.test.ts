import { describe, expect, it } from 'vitest';
import { HeaderFormatError, packageFromHeaderBlob, parseHeaderBlob, RpmTag, RpmType } from '../../src/pkgdb/header.js';
import { buildHeaderBlob, samplePackageEntries, type TestEntry } from './header-builder.js';

function withEntry(tag: number, replacement: TestEntry | undefined): TestEntry[] {
  return samplePackageEntries().flatMap((e) => (e.tag === tag ? (replacement ? [replacement] : []) : [e]));
}

/** Big-endian int32 write into a copy of `blob`. */
function patched(blob: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(blob);
  new DataView(copy.buffer).setInt32(offset, value, false);
  return copy;
}

describe('rpm header blobs', () => {
  it('yields name, epoch, version, release, arch and the joined file paths', () => {
    expect(packageFromHeaderBlob(buildHeaderBlob(samplePackageEntries()))).toEqual({
      name: 'hello',
      epoch: 3,
      version: '2.12.1',
      release: '1.1',
      arch: 'x86_64',
      files: ['/usr/bin/hello', '/usr/share/doc/hello/hello', '/usr/share/doc/hello/README'],
    });
  });

  it('reads headers without a region, and without epoch', () => {
    const pkg = packageFromHeaderBlob(buildHeaderBlob(withEntry(RpmTag.epoch, undefined), { region: false }));
    expect(pkg.name).toBe('hello');
    expect(pkg).not.toHaveProperty('epoch');
  });

  it('reads legacy OLDFILENAMES', () => {
    const entries: TestEntry[] = [
      ...samplePackageEntries().filter((e) => e.tag < RpmTag.oldFilenames),
      { tag: RpmTag.oldFilenames, type: RpmType.stringArray, value: ['/bin/a', '/etc/b.conf'] },
    ];
    expect(packageFromHeaderBlob(buildHeaderBlob(entries)).files).toEqual(['/bin/a', '/etc/b.conf']);
  });

  it('gives no files for a package without any (and arch "" when ARCH is missing)', () => {
    const entries = samplePackageEntries().filter((e) => e.tag <= RpmTag.epoch);
    expect(packageFromHeaderBlob(buildHeaderBlob(entries))).toMatchObject({ arch: '', files: [] });
  });

  it('accepts an I18NSTRING where a string is expected', () => {
    const blob = buildHeaderBlob(withEntry(RpmTag.name, { tag: RpmTag.name, type: RpmType.i18nString, value: ['hi', 'salut'] }));
    expect(packageFromHeaderBlob(blob).name).toBe('hi');
  });

  describe('malformed blobs throw a HeaderFormatError', () => {
    const good = buildHeaderBlob(samplePackageEntries());
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /too short/],
      ['truncated', good.subarray(0, good.length - 1), /make \d+/],
      ['one byte too many', Uint8Array.from([...good, 0]), /make \d+/],
      ['absurd index count', patched(good, 0, 0x7fffffff), /index entries/],
      ['absurd data length', patched(good, 4, 0x7fffffff), /bytes of data/],
      // entry 1 is NAME (entry 0 the region); its offset field is at 8 + 16 + 8
      ['offset past the store', patched(good, 8 + 16 + 8, 100000), /outside the \d+-byte data store/],
      ['negative offset', patched(good, 8 + 16 + 8, -4), /outside/],
      ['unknown type', patched(good, 8 + 16 + 4, 42), /unknown data type 42/],
      ['zero count', patched(good, 8 + 16 + 12, 0), /implausible count/],
      ['reserved tag', patched(good, 8 + 16, 17), /reserved tag/],
      ['region trailer mismatch', patched(good, 8 + 16 * 0 + 8, 0), /region tag 63/],
    ];
    for (const [label, blob, message] of cases) {
      it(label, () => {
        expect(() => packageFromHeaderBlob(blob)).toThrow(HeaderFormatError);
        expect(() => packageFromHeaderBlob(blob)).toThrow(message);
      });
    }

    it('a string without its NUL terminator', () => {
      const blob = buildHeaderBlob([{ tag: RpmTag.name, type: RpmType.string, value: 'x' }], { region: false });
      blob[blob.length - 1] = 0x41;
      expect(() => parseHeaderBlob(blob)).toThrow(/runs past the end/);
    });

    it('a string array with fewer strings than its count', () => {
      const blob = patched(buildHeaderBlob(samplePackageEntries()), 8 + 16 * 7 + 12, 4); // BASENAMES count
      expect(() => packageFromHeaderBlob(blob)).toThrow(HeaderFormatError);
    });

    it('overlapping entries', () => {
      const blob = buildHeaderBlob(samplePackageEntries(), { region: false });
      const versionOffsetField = 8 + 16 * 1 + 8;
      expect(() => parseHeaderBlob(patched(blob, versionOffsetField, 0))).toThrow(/overlaps/);
    });

    it('misaligned int32 data', () => {
      const blob = buildHeaderBlob(samplePackageEntries(), { region: false });
      const epochOffsetField = 8 + 16 * 3 + 8;
      const epochOffset = new DataView(blob.buffer).getInt32(epochOffsetField, false);
      expect(() => parseHeaderBlob(patched(blob, epochOffsetField, epochOffset + 1))).toThrow(/misaligned/);
    });

    it('a DIRINDEXES entry pointing past DIRNAMES', () => {
      const blob = buildHeaderBlob(withEntry(RpmTag.dirIndexes, { tag: RpmTag.dirIndexes, type: RpmType.int32, value: [0, 1, 7] }));
      expect(() => packageFromHeaderBlob(blob)).toThrow(/points at directory 7 of 2/);
    });

    it('BASENAMES and DIRINDEXES of different lengths', () => {
      const blob = buildHeaderBlob(withEntry(RpmTag.dirIndexes, { tag: RpmTag.dirIndexes, type: RpmType.int32, value: [0, 1] }));
      expect(() => packageFromHeaderBlob(blob)).toThrow(/3 BASENAMES but 2 DIRINDEXES/);
    });

    it('a tag of the wrong type', () => {
      const blob = buildHeaderBlob(withEntry(RpmTag.name, { tag: RpmTag.name, type: RpmType.int32, value: [1] }));
      expect(() => packageFromHeaderBlob(blob)).toThrow(/tag 1000 has data type 4/);
    });

    it('no NAME', () => {
      expect(() => packageFromHeaderBlob(buildHeaderBlob(withEntry(RpmTag.name, undefined)))).toThrow(/no NAME/);
    });
  });
});
