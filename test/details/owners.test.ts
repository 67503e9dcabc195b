/**
 * The `<rpms>` rule on hand-made package lists: non-directory members only, sorted, one entry
 * per installed instance (deduplicated across roots, not within one), paths compared as bytes.
 */
import { describe, expect, it } from 'vitest';
import type { InstalledPackage } from '../../src/pkgdb/index.js';
import { PathOwners, imageRpms, memberPathOf } from '../../src/pkgdb/owners.js';

function pkg(name: string, files: string[], more: Partial<InstalledPackage> = {}): InstalledPackage {
  return { name, version: '1.0', release: '1', arch: 'x86_64', files, ...more };
}

const member = (path: string, isDirectory = false) => ({ path, isDirectory });

describe('imageRpms', () => {
  it('counts a package only for a non-directory member it owns', () => {
    const db = PathOwners.fromPackages('db', [
      pkg('filesystem', ['/usr', '/usr/bin']),
      pkg('coreutils', ['/usr/bin', '/usr/bin/ls']),
      pkg('unrelated', ['/opt/x']),
    ]);
    expect(imageRpms([member('usr', true), member('usr/bin', true)], [db])).toEqual([]);
    expect(imageRpms([member('usr', true), member('usr/bin', true), member('usr/bin/ls')], [db])).toEqual(['coreutils']);
  });

  it('sorts byte-wise and lists two installed instances of one name twice', () => {
    const db = PathOwners.fromPackages('db', [
      pkg('zlib', ['/usr/lib64/libz.so.1']),
      pkg('glibc', ['/usr/share/locale/x', '/lib64/libc.so.6']),
      pkg('glibc', ['/usr/share/locale/x', '/lib/libc.so.6'], { arch: 'i686' }),
      pkg('Xorg', ['/usr/bin/Xorg']),
    ]);
    const members = ['usr/share/locale/x', 'usr/lib64/libz.so.1', 'usr/bin/Xorg'].map((p) => member(p));
    expect(imageRpms(members, [db])).toEqual(['Xorg', 'glibc', 'glibc', 'zlib']);
  });

  it('lists a package installed in several roots once, and different versions of it each', () => {
    const roots = [
      PathOwners.fromPackages('a', [pkg('bash', ['/bin/bash']), pkg('tool', ['/usr/bin/tool'], { version: '1' })]),
      PathOwners.fromPackages('b', [pkg('bash', ['/bin/bash']), pkg('tool', ['/usr/bin/tool'], { version: '2' })]),
      PathOwners.fromPackages('c', [pkg('bash', ['/bin/bash']), pkg('tool', ['/usr/bin/tool'], { version: '2' })]),
    ];
    expect(imageRpms([member('bin/bash'), member('usr/bin/tool')], roots)).toEqual(['bash', 'tool', 'tool']);
  });

  it('takes an owner from any of the roots', () => {
    const roots = [PathOwners.fromPackages('a', [pkg('only-a', ['/etc/a'])]), PathOwners.fromPackages('b', [pkg('only-b', ['/etc/b'])])];
    expect(imageRpms([member('etc/b'), member('etc/a')], roots)).toEqual(['only-a', 'only-b']);
  });

  it('is absent when no root has a database, empty when they have one owning nothing', () => {
    expect(imageRpms([member('etc/a')], [undefined, undefined])).toBeUndefined();
    expect(imageRpms([member('etc/a')], [undefined, PathOwners.fromPackages('b', [])])).toEqual([]);
  });

  it('matches UTF-8 package paths against byte-string member paths', () => {
    const db = PathOwners.fromPackages('db', [pkg('fonts', ['/usr/share/fonts/café.ttf'])]);
    const bytes = Buffer.from('usr/share/fonts/café.ttf', 'utf8').toString('latin1');
    expect(memberPathOf('/usr/share/fonts/café.ttf')).toBe(bytes);
    expect(imageRpms([member(bytes)], [db])).toEqual(['fonts']);
    // The same name decoded as Latin-1 is another byte sequence: no match.
    expect(imageRpms([member('usr/share/fonts/café.ttf')], [db])).toEqual([]);
  });
});
