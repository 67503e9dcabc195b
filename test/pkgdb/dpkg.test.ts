import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readDpkgDatabase, readPackageDatabase } from '../../src/pkgdb/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'pkgdb-dpkg-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const STATUS = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy
 .
 and a few important files.
Conffiles:
 /etc/debian_version 0f9e2d8e3d3b6b2c0c0d0c0f0a0b0c0d
 /etc/issue 8f0e2d8e3d3b6b2c0c0d0c0f0a0b0c0d

Package: libfoo1:amd64
Status: install ok installed
Multi-Arch: same
Architecture: amd64
Version: 1:2.0-3

Package: libfoo1:i386
Status: hold ok installed
Multi-Arch: same
Architecture: i386
Version: 1:2.0-3

Package: removed-but-configured
Status: deinstall ok config-files
Architecture: all
Version: 1.0

Package: never-unpacked
Status: install ok not-installed
Architecture: all

Package: half-gone
Status: purge reinstreq half-installed
Architecture: all
Version: 2

Package: awaiting-triggers
Status: install ok triggers-pending
Architecture: amd64
Version: 5.1

Package: doc-only
Status: install ok installed
Architecture: all
Version: 0.1-1
`;

const LISTS: Record<string, string> = {
  'base-files.list': '/.\n/etc\n/etc/debian_version\n/etc/issue\n/usr/share/doc/base-files\n',
  'libfoo1:amd64.list': '/.\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n',
  'libfoo1:i386.list': '/.\n/usr/lib/i386-linux-gnu/libfoo.so.1\n',
  'removed-but-configured.list': '/etc/removed.conf\n',
  'half-gone.list': '/usr/bin/half\n',
  'awaiting-triggers.list': '/.\n/usr/bin/awaiting',
};

function makeRoot(name: string, status: string, lists: Record<string, string>): string {
  const root = join(scratch, name);
  const admin = join(root, 'var/lib/dpkg');
  mkdirSync(join(admin, 'info'), { recursive: true });
  writeFileSync(join(admin, 'status'), status);
  for (const [file, text] of Object.entries(lists)) writeFileSync(join(admin, 'info', file), text);
  return root;
}

describe('dpkg status and file lists', () => {
  it('reads packages whose files are unpacked, with their files, skipping the root entry "/."', async () => {
    const root = makeRoot('handmade', STATUS, LISTS);
    const db = await readPackageDatabase(root);
    expect(db).toEqual({
      kind: 'dpkg',
      file: join(root, 'var/lib/dpkg/status'),
      packages: [
        {
          name: 'base-files',
          version: '12.4+deb12u5',
          arch: 'amd64',
          files: ['/etc', '/etc/debian_version', '/etc/issue', '/usr/share/doc/base-files'],
        },
        { name: 'libfoo1', version: '1:2.0-3', arch: 'amd64', files: ['/usr/lib/x86_64-linux-gnu/libfoo.so.1'] },
        { name: 'libfoo1', version: '1:2.0-3', arch: 'i386', files: ['/usr/lib/i386-linux-gnu/libfoo.so.1'] },
        { name: 'awaiting-triggers', version: '5.1', arch: 'amd64', files: ['/usr/bin/awaiting'] },
        { name: 'doc-only', version: '0.1-1', arch: 'all', files: [] },
      ],
    });
  });

  it('copes with CRLF line ends and a missing final newline', async () => {
    const root = makeRoot('crlf', STATUS.replace(/\n/g, '\r\n').trimEnd(), LISTS);
    const packages = await readDpkgDatabase(join(root, 'var/lib/dpkg/status'));
    expect(packages.map((p) => p.name)).toEqual(['base-files', 'libfoo1', 'libfoo1', 'awaiting-triggers', 'doc-only']);
  });

  it('reports a damaged status file as an InputError naming it', async () => {
    const noVersion = makeRoot('no-version', 'Package: x\nStatus: install ok installed\nArchitecture: all\n', {});
    const status = join(noVersion, 'var/lib/dpkg/status');
    await expect(readDpkgDatabase(status)).rejects.toThrow(InputError);
    await expect(readDpkgDatabase(status)).rejects.toThrow(`${status}: damaged dpkg database: x (line 1) has no Version field`);

    const garbage = join(makeRoot('garbage', ' leading continuation\n', {}), 'var/lib/dpkg/status');
    await expect(readDpkgDatabase(garbage)).rejects.toThrow(garbage);
    const binary = join(makeRoot('binary', 'Package: x\n\u0000\u0001\u0002\n', {}), 'var/lib/dpkg/status');
    await expect(readDpkgDatabase(binary)).rejects.toThrow(binary);
  });
});

const MINIMAL_ROOT = '/var/tmp/mediacompose-roots/minimal';
const HAVE_MINIMAL = existsSync(join(MINIMAL_ROOT, 'var/lib/dpkg/status')) && hasDpkgQuery();

function hasDpkgQuery(): boolean {
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!HAVE_MINIMAL)(`a debootstrap root (${MINIMAL_ROOT})`, () => {
  const admin = join(MINIMAL_ROOT, 'var/lib/dpkg');
  const query = (...args: string[]) =>
    execFileSync('dpkg-query', [`--admindir=${admin}`, ...args], { encoding: 'utf8' });

  it('has the same packages as dpkg-query -W', async () => {
    const db = await readPackageDatabase(MINIMAL_ROOT);
    expect(db?.kind).toBe('dpkg');
    expect(db?.file).toBe(join(admin, 'status'));
    const fromDpkg = query('-W', '-f', '${Package} ${Version} ${Architecture}\\n').trim().split('\n').sort();
    expect(db!.packages.map((p) => `${p.name} ${p.version} ${p.arch}`).sort()).toEqual(fromDpkg);
  });

  it.each(['dpkg', 'libc6', 'base-files'])('has the files dpkg-query -L %s lists', async (name) => {
    const db = await readPackageDatabase(MINIMAL_ROOT);
    const pkg = db!.packages.find((p) => p.name === name)!;
    const fromDpkg = query('-L', pkg.arch === 'all' ? name : `${name}:${pkg.arch}`)
      .split('\n')
      .filter((line) => line.startsWith('/') && line !== '/.');
    expect(pkg.files).toEqual(fromDpkg);
  });
});

if (!HAVE_MINIMAL) {
  describe('a debootstrap root', () => {
    it.skip(`skipped: ${MINIMAL_ROOT} or dpkg-query is absent`, () => {});
  });
}
