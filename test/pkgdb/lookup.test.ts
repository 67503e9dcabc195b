/** Where readPackageDatabase looks, and how it follows symlinks without leaving the root. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readPackageDatabase } from '../../src/pkgdb/index.js';
import { resolveInsideRoot } from '../../src/pkgdb/root-path.js';

const SAMPLES = join(import.meta.dirname, '../fixtures/rpmdb-samples');
const SQLITE = join(SAMPLES, 'cbl-mariner-2.0/rpmdb.sqlite');
const NDB = join(SAMPLES, 'sle15-bci/Packages.db');
const BDB = join(SAMPLES, 'libuuid/Packages');

const scratch = mkdtempSync(join(tmpdir(), 'pkgdb-lookup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let roots = 0;

/** A new root with `files` copied in (relative path → source) and `links` (path → target). */
function makeRoot(files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = join(scratch, `root-${roots++}`);
  mkdirSync(root);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    copyFileSync(source, join(root, path));
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return root;
}

describe('readPackageDatabase', () => {
  it('returns undefined for a root without a package database', async () => {
    expect(await readPackageDatabase(makeRoot({}))).toBeUndefined();
  });

  it.each([
    ['rpm-sqlite', 'usr/lib/sysimage/rpm/rpmdb.sqlite', SQLITE, 129],
    ['rpm-ndb', 'usr/lib/sysimage/rpm/Packages.db', NDB, 35],
    ['rpm-bdb', 'var/lib/rpm/Packages', BDB, 1],
  ])('finds %s at %s', async (kind, path, source, count) => {
    const root = makeRoot({ [path]: source });
    const db = await readPackageDatabase(root);
    expect(db?.kind).toBe(kind);
    expect(db?.file).toBe(join(root, path));
    expect(db?.packages).toHaveLength(count);
  });

  it('prefers usr/lib/sysimage/rpm over var/lib/rpm, and sqlite over ndb over Berkeley DB', async () => {
    const root = makeRoot({
      'var/lib/rpm/rpmdb.sqlite': SQLITE,
      'usr/lib/sysimage/rpm/Packages': BDB,
      'usr/lib/sysimage/rpm/Packages.db': NDB,
    });
    expect((await readPackageDatabase(root))?.kind).toBe('rpm-ndb');
  });

  it('prefers rpm over dpkg', async () => {
    const root = makeRoot({ 'var/lib/rpm/Packages': BDB });
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    expect((await readPackageDatabase(root))?.kind).toBe('rpm-bdb');
  });

  it('follows var/lib/rpm -> ../../usr/lib/sysimage/rpm style links', async () => {
    const root = makeRoot({ 'data/rpmdb/Packages.db': NDB }, { 'var/lib/rpm': '../../data/rpmdb' });
    const db = await readPackageDatabase(root);
    expect(db?.file).toBe(join(root, 'data/rpmdb/Packages.db'));
  });

  it('resolves absolute link targets inside the root', async () => {
    const root = makeRoot({ 'data/rpmdb/Packages.db': NDB }, { 'var/lib/rpm': '/data/rpmdb' });
    expect((await readPackageDatabase(root))?.file).toBe(join(root, 'data/rpmdb/Packages.db'));
  });

  it('never follows a link out of the root', async () => {
    const outside = makeRoot({ 'rpmdb.sqlite': SQLITE });
    const up = '../'.repeat(20);
    const relative = makeRoot({}, { 'var/lib/rpm': `${up}${outside.slice(1)}` });
    const absolute = makeRoot({}, { 'var/lib/rpm': outside });
    const file = makeRoot({}, { 'var/lib/rpm/rpmdb.sqlite': join(outside, 'rpmdb.sqlite') });
    for (const root of [relative, absolute, file]) expect(await readPackageDatabase(root)).toBeUndefined();
  });

  it('gives up on symlink loops', async () => {
    const root = makeRoot({}, { 'var/lib/rpm': 'loop', 'var/lib/loop': 'rpm' });
    expect(await readPackageDatabase(root)).toBeUndefined();
  });

  it('ignores a directory where a database file is expected', async () => {
    const root = makeRoot({ 'var/lib/rpm/Packages': BDB });
    mkdirSync(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'), { recursive: true });
    expect((await readPackageDatabase(root))?.kind).toBe('rpm-bdb');
  });

  it('reports a damaged database it finds as an InputError naming it', async () => {
    const root = makeRoot({});
    const path = join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'not a database at all, just text');
    const error = await readPackageDatabase(root).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`${path}: damaged rpm sqlite database: no SQLite header; not an SQLite database`);
  });
});

describe('resolveInsideRoot', () => {
  it('clamps .. at the root', async () => {
    const root = makeRoot({ 'etc/x': BDB });
    expect(await resolveInsideRoot(root, '../../../etc/x')).toBe(join(root, 'etc/x'));
    expect(await resolveInsideRoot(root, 'etc/./../etc/x')).toBe(join(root, 'etc/x'));
  });

  it('returns undefined through a regular file used as a directory', async () => {
    const root = makeRoot({ 'etc/x': BDB });
    expect(await resolveInsideRoot(root, 'etc/x/y')).toBeUndefined();
  });

  it('resolves chains of links', async () => {
    const root = makeRoot({ 'real/db': BDB }, { a: 'b', b: '/c', c: 'real' });
    expect(await resolveInsideRoot(root, 'a/db')).toBe(join(root, 'real/db'));
  });
});
