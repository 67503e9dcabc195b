/**
 * The readers on databases written by real rpm installations (test/fixtures/rpmdb-samples), and
 * on damaged copies of them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  readBdbDatabase,
  readNdbDatabase,
  readSqliteDatabase,
  type InstalledPackage,
} from '../../src/pkgdb/index.js';

const SAMPLES = join(import.meta.dirname, '../fixtures/rpmdb-samples');

interface ExpectedPackage {
  name: string;
  version: string;
  release: string;
  arch: string;
}
interface Expected {
  package?: ExpectedPackage;
  files?: string[];
  packages?: ExpectedPackage[];
}

function expected(sample: string): Expected {
  return JSON.parse(readFileSync(join(SAMPLES, sample, 'expected.json'), 'utf8')) as Expected;
}

function nevra(p: ExpectedPackage | InstalledPackage): ExpectedPackage {
  return { name: p.name, version: p.version, release: p.release ?? '', arch: p.arch };
}

function byName(a: ExpectedPackage, b: ExpectedPackage): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const scratch = mkdtempSync(join(tmpdir(), 'pkgdb-samples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let copies = 0;

/** A writable copy of a sample, changed by `damage`. */
function damagedCopy(sample: string, fileName: string, damage: (bytes: Uint8Array) => Uint8Array): string {
  const path = join(scratch, `${copies++}-${fileName}`);
  writeFileSync(path, damage(Uint8Array.from(readFileSync(join(SAMPLES, sample, fileName)))));
  return path;
}

function truncated(fraction: number) {
  return (bytes: Uint8Array) => bytes.subarray(0, Math.floor(bytes.length * fraction));
}

async function expectInputErrorNaming(path: string, read: (path: string) => Promise<unknown>, message?: RegExp) {
  const error = await read(path).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).message).toContain(path);
  if (message) expect((error as InputError).message).toMatch(message);
}

/** Flips single bytes at pseudo-random places; every outcome must be a result or an InputError. */
async function fuzz(sample: string, fileName: string, read: (path: string) => Promise<unknown>, rounds: number) {
  const original = readFileSync(join(SAMPLES, sample, fileName));
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const path = join(scratch, `fuzz-${fileName}`);
  let rejected = 0;
  for (let round = 0; round < rounds; round++) {
    const bytes = Uint8Array.from(original);
    const at = Math.floor(random() * bytes.length);
    bytes[at] = bytes[at]! ^ (1 + Math.floor(random() * 255));
    writeFileSync(path, bytes);
    try {
      await read(path);
    } catch (err) {
      if (!(err instanceof InputError)) throw new Error(`byte ${at} flipped: ${String(err)}`, { cause: err });
      expect(err.message).toContain(path);
      rejected++;
    }
  }
  return rejected;
}

describe('ndb (SLE 15 BCI Packages.db)', () => {
  const file = join(SAMPLES, 'sle15-bci/Packages.db');

  it('yields all 35 packages of expected.json, in installation order', async () => {
    const packages = await readNdbDatabase(file);
    expect(packages.map(nevra)).toEqual(expected('sle15-bci').packages!.map(nevra));
    const bash = packages.find((p) => p.name === 'bash')!;
    expect(bash.files).toContain('/usr/bin/bash');
    expect(bash.files.every((f) => f.startsWith('/'))).toBe(true);
  });

  it('reports a truncated copy as an InputError naming the file', async () => {
    await expectInputErrorNaming(damagedCopy('sle15-bci', 'Packages.db', truncated(0.5)), readNdbDatabase, /truncated/);
    await expectInputErrorNaming(damagedCopy('sle15-bci', 'Packages.db', truncated(0.001)), readNdbDatabase);
    await expectInputErrorNaming(damagedCopy('sle15-bci', 'Packages.db', truncated(0)), readNdbDatabase);
  });

  it('reports a flipped byte inside a package record (checksum)', async () => {
    const path = damagedCopy('sle15-bci', 'Packages.db', (bytes) => {
      const firstSlotBlock = new DataView(bytes.buffer).getUint32(32 + 8, true);
      bytes[firstSlotBlock * 16 + 100]! ^= 0x20;
      return bytes;
    });
    await expectInputErrorNaming(path, readNdbDatabase, /checksum mismatch/);
  });

  it('reports a file that is not an ndb database', async () => {
    await expectInputErrorNaming(join(SAMPLES, 'libuuid/Packages'), readNdbDatabase, /not an ndb/);
  });

  it('never fails other than with an InputError on flipped bytes', async () => {
    expect(await fuzz('sle15-bci', 'Packages.db', readNdbDatabase, 150)).toBeGreaterThan(0);
  });
});

describe('sqlite (CBL-Mariner 2.0 rpmdb.sqlite)', () => {
  const file = join(SAMPLES, 'cbl-mariner-2.0/rpmdb.sqlite');

  it('yields all 129 packages of expected.json and the file list of curl', async () => {
    const packages = await readSqliteDatabase(file);
    const want = expected('cbl-mariner-2.0');
    expect(packages.map(nevra).sort(byName)).toEqual(want.packages!.map(nevra).sort(byName));
    const curl = packages.filter((p) => p.name === want.package!.name);
    expect(curl.map(nevra)).toEqual([nevra(want.package!)]);
    expect(curl[0]!.files).toEqual(want.files);
  });

  it('reports a truncated copy as an InputError naming the file', async () => {
    await expectInputErrorNaming(damagedCopy('cbl-mariner-2.0', 'rpmdb.sqlite', truncated(0.5)), readSqliteDatabase);
    await expectInputErrorNaming(damagedCopy('cbl-mariner-2.0', 'rpmdb.sqlite', truncated(0.01)), readSqliteDatabase);
    await expectInputErrorNaming(damagedCopy('cbl-mariner-2.0', 'rpmdb.sqlite', truncated(0)), readSqliteDatabase, /not an SQLite/);
  });

  it('reports scrambled pages', async () => {
    const path = damagedCopy('cbl-mariner-2.0', 'rpmdb.sqlite', (bytes) => {
      for (let page = 1; page * 4096 < bytes.length; page++) bytes[page * 4096]! ^= 0x5a;
      return bytes;
    });
    await expectInputErrorNaming(path, readSqliteDatabase, /sqlite/);
  });

  it('never fails other than with an InputError on flipped bytes', async () => {
    await fuzz('cbl-mariner-2.0', 'rpmdb.sqlite', readSqliteDatabase, 25);
  });

  it.skipIf(!hasPython())('sees transactions committed to the -wal file but not yet checkpointed (needs python3)', async () => {
    const live = join(scratch, 'wal-live');
    const snapshot = join(scratch, 'wal-snapshot');
    execFileSync('mkdir', ['-p', live, snapshot]);
    copyFileSync(file, join(live, 'rpmdb.sqlite'));
    // Delete the first package in a committed transaction, then copy the database and its log
    // while the connection is still open, before SQLite folds the log back into the file.
    execFileSync('python3', ['-c', WAL_SCRIPT, live, snapshot]);
    expect(readFileSync(join(snapshot, 'rpmdb.sqlite-wal')).length).toBeGreaterThan(0);

    const all = await readSqliteDatabase(file);
    const withLog = await readSqliteDatabase(join(snapshot, 'rpmdb.sqlite'));
    expect(withLog.map(nevra)).toEqual(all.slice(1).map(nevra));

    rmSync(join(snapshot, 'rpmdb.sqlite-wal'));
    expect(await readSqliteDatabase(join(snapshot, 'rpmdb.sqlite'))).toHaveLength(all.length);
  });
});

const WAL_SCRIPT = `
import shutil, sqlite3, sys
live, snapshot = sys.argv[1], sys.argv[2]
db = sqlite3.connect(live + '/rpmdb.sqlite')
db.execute('PRAGMA wal_autocheckpoint = 0')
db.execute('DELETE FROM Packages WHERE hnum = (SELECT min(hnum) FROM Packages)')
db.commit()
for name in ('rpmdb.sqlite', 'rpmdb.sqlite-wal'):
    shutil.copyfile(live + '/' + name, snapshot + '/' + name)
db.close()
`;

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import sqlite3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('Berkeley DB (RHEL 8 libuuid Packages)', () => {
  const file = join(SAMPLES, 'libuuid/Packages');

  it('yields libuuid and its file list (record spread over overflow pages)', async () => {
    const packages = await readBdbDatabase(file);
    const want = expected('libuuid');
    expect(packages.map(nevra)).toEqual([nevra(want.package!)]);
    expect(packages[0]!.files).toEqual(want.files);
  });

  it('reads a big-endian copy the same', async () => {
    const path = damagedCopy('libuuid', 'Packages', byteSwappedHashDatabase);
    expect(await readBdbDatabase(path)).toEqual(await readBdbDatabase(file));
  });

  it('reports a truncated copy as an InputError naming the file', async () => {
    await expectInputErrorNaming(damagedCopy('libuuid', 'Packages', truncated(0.5)), readBdbDatabase, /truncated/);
    await expectInputErrorNaming(damagedCopy('libuuid', 'Packages', truncated(0.001)), readBdbDatabase);
  });

  it('reports flipped bytes in a page header', async () => {
    const path = damagedCopy('libuuid', 'Packages', (bytes) => {
      bytes[3 * 4096 + 8]! ^= 0x40; // page number field of page 3
      return bytes;
    });
    await expectInputErrorNaming(path, readBdbDatabase, /page 3 says it is page 67/);
  });

  it('reports a file that is not a Berkeley DB hash database', async () => {
    await expectInputErrorNaming(join(SAMPLES, 'sle15-bci/Packages.db'), readBdbDatabase, /not a Berkeley DB/);
  });

  it('never fails other than with an InputError on flipped bytes', async () => {
    expect(await fuzz('libuuid', 'Packages', readBdbDatabase, 300)).toBeGreaterThan(0);
  });
});

/**
 * The libuuid database as a big-endian machine would have written it: every integer of the
 * metadata and page headers, item offsets and off-page references byte-swapped (as rpm's
 * bdb_ro.c does when reading a foreign-endian file); keys (package numbers) too.
 */
function byteSwappedHashDatabase(bytes: Uint8Array): Uint8Array {
  const le = new DataView(bytes.buffer.slice(0));
  const out = new DataView(bytes.buffer);
  const swap32 = (at: number) => out.setUint32(at, le.getUint32(at, true), false);
  const swap16 = (at: number) => out.setUint16(at, le.getUint16(at, true), false);
  for (let at = 8; at < 224; at += 4) swap32(at); // hash metadata page
  const pageSize = le.getUint32(20, true);
  for (let page = 1; (page + 1) * pageSize <= bytes.length; page++) {
    const base = page * pageSize;
    [8, 12, 16].forEach((field) => swap32(base + field));
    swap16(base + 20);
    swap16(base + 22);
    const type = bytes[base + 25];
    if (type !== 13 && type !== 2) continue;
    const count = le.getUint16(base + 20, true);
    for (let i = 0; i < count; i++) {
      swap16(base + 26 + 2 * i);
      const item = base + le.getUint16(base + 26 + 2 * i, true);
      if (bytes[item] === 3) [4, 8].forEach((field) => swap32(item + field));
      else if (i % 2 === 0) swap32(item + 1); // a key: the 4-byte package number
    }
  }
  return bytes;
}

describe('a readable sample exists', () => {
  it.each(['sle15-bci/Packages.db', 'cbl-mariner-2.0/rpmdb.sqlite', 'libuuid/Packages'])('%s', (f) => {
    expect(existsSync(join(SAMPLES, f))).toBe(true);
  });
});
