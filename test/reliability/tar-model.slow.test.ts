/**
 * The tar decoder (src/archive/tar-decode.ts) against GNU tar itself: hand-made archives,
 * extracted by GNU tar as the installer extracts an image (`tar --numeric-owner
 * --record-size=10240 -xf`, as root), and read by the decoder. Where tar extracts, the decoder
 * reports what tar made (path, type, uid, gid, mtime, size); where tar fails (exit 2, which aborts
 * the installation), the decoder refuses the archive.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { readArchive } from '../../src/archive/reader.js';
import type { DecodedMember } from '../../src/archive/tar-decode.js';
import { InputError } from '../../src/errors.js';
import { describeIf, unmet } from '../support/needs.js';
import { type TarMember, paxData, tarHeader, tarStream } from './hostile.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-tar-model-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** What a member became on disk, in the decoder's terms. */
interface Made {
  path: string;
  type: string;
  uid: number;
  gid: number;
  mtime: number;
  /** Content bytes of a regular file, 0 for the rest. */
  size: number;
}

let serial = 0;

/** GNU tar's extraction of `stream`: its exit status, stderr and what it made, by path. */
function extractWithTar(stream: Buffer): { status: number; stderr: string; made: Map<string, Made>; dir: string } {
  const dir = path.join(work, `x${++serial}`);
  fs.mkdirSync(dir);
  const file = `${dir}.tar`;
  fs.writeFileSync(file, stream);
  const r = spawnSync('tar', ['--numeric-owner', '--record-size=10240', '-xf', file, '-C', dir], { encoding: 'utf8' });
  const made = new Map<string, Made>();
  const walk = (rel: string): void => {
    // Names as bytes (latin1 strings), as the decoder reports them.
    for (const name of fs.readdirSync(Buffer.from(path.join(dir, rel), 'latin1'), { encoding: 'latin1' })) {
      const p = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(Buffer.from(path.join(dir, p), 'latin1'), { bigint: true });
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'fifo';
      // Whole seconds, rounded down (a pax mtime may have a fraction).
      const mtime = Number(st.mtimeNs >= 0n ? st.mtimeNs / 1_000_000_000n : -((-st.mtimeNs + 999_999_999n) / 1_000_000_000n));
      made.set(p, { path: p, type, uid: Number(st.uid), gid: Number(st.gid), mtime, size: type === 'file' ? Number(st.size) : 0 });
      if (type === 'dir') walk(p);
    }
  };
  walk('');
  return { status: r.status ?? -1, stderr: r.stderr, made, dir };
}

/** The decoder's members of `stream` (gzip-compressed, as readArchive takes it), or its refusal. */
async function decode(stream: Buffer): Promise<DecodedMember[] | InputError> {
  const file = path.join(work, `d${++serial}.tar.gz`);
  fs.writeFileSync(file, gzipSync(stream));
  const members: DecodedMember[] = [];
  try {
    await readArchive(file, 'follow', (m) => void members.push(m));
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  return members;
}

/** The decoder's members as tar makes them: the last member of a path wins; a hard link is a file. */
function asMade(members: readonly DecodedMember[]): Map<string, Made> {
  const out = new Map<string, Made>();
  for (const m of members) {
    const target = m.type === 'link' ? out.get(m.linkname) : undefined;
    if (target) out.set(m.path, { ...target, path: m.path });
    else {
      const type = m.type === 'other' ? 'file' : m.type;
      out.set(m.path, { path: m.path, type, uid: m.uid, gid: m.gid, mtime: m.mtime, size: type === 'file' ? m.size : 0 });
    }
  }
  return out;
}

/**
 * Extracts `members` with GNU tar and decodes them: both must agree on every member made. Tar
 * exits 0, with the `warnings` given (lines of its stderr) and no other.
 */
async function agree(members: readonly TarMember[], warnings: readonly string[] = []): Promise<Map<string, Made>> {
  const stream = tarStream(members);
  const tar = extractWithTar(stream);
  expect(tar.stderr).toBe(warnings.map((w) => `tar: ${w}\n`).join(''));
  expect(tar.status).toBe(0);
  const decoded = await decode(stream);
  if (decoded instanceof InputError) throw decoded;
  const model = asMade(decoded);
  // Every path tar made is a member, or a parent folder of one that tar created on its way.
  for (const p of tar.made.keys()) {
    if (!model.has(p)) expect([...model.keys()].some((m) => m.startsWith(`${p}/`)), `tar made ${p}`).toBe(true);
  }
  for (const [p, made] of model) expect(tar.made.get(p), p).toEqual(made);
  return model;
}

/** GNU tar fails on `members` (exit 2), and the decoder refuses them with one line naming `what`. */
async function bothRefuse(members: readonly TarMember[], what: RegExp): Promise<void> {
  const stream = tarStream(members);
  const tar = extractWithTar(stream);
  expect(tar.status).toBe(2);
  const decoded = await decode(stream);
  expect(decoded).toBeInstanceOf(InputError);
  expect((decoded as InputError).message).toMatch(what);
}

const pax = (type: 'g' | 'x' | 'X', ...records: Array<[string, string]>): TarMember => ({ name: type === 'g' ? 'GlobalHead.0' : 'PaxHeaders/x', type, data: paxData(records) });
const file = (name: string, extra: Partial<TarMember> = {}): TarMember => ({ name, data: Buffer.from(`${name}\n`), uid: 1000, gid: 1000, ...extra });

describeIf(unmet({ root: true }), 'the tar decoder reads headers as GNU tar 1.34 extracts them', () => {
  it('a global pax header applies to every later member; the next one replaces it whole', async () => {
    const model = await agree([
      pax('g', ['uid', '4242'], ['mtime', '1']),
      file('a'),
      { name: 'd/', type: '5', uid: 1000 },
      file('d/b'),
      pax('g', ['gid', '77']),
      file('c'),
    ]);
    expect(model.get('a')).toMatchObject({ uid: 4242, gid: 1000, mtime: 1 });
    expect(model.get('d/b')).toMatchObject({ uid: 4242, mtime: 1 });
    expect(model.get('c')).toMatchObject({ uid: 1000, gid: 77, mtime: 1_700_000_000 });
  });

  it('a global path or size applies to every later member too', async () => {
    const model = await agree([pax('g', ['path', 'same'], ['size', '3']), { name: 'one', data: Buffer.from('one') }, { name: 'two', data: Buffer.from('two') }]);
    expect([...model.keys()]).toEqual(['same']);
    expect(model.get('same')!.size).toBe(3);
  });

  it("a local pax header ('x' or 'X') applies to the next member only and wins over the global one; a second replaces the first", async () => {
    const model = await agree([
      pax('g', ['uid', '4242']),
      pax('x', ['uid', '5'], ['mtime', '2']),
      file('a'),
      file('b'),
      pax('X', ['gid', '9']),
      file('c'),
      pax('x', ['uid', '6']),
      pax('x', ['gid', '8']),
      file('e'),
    ]);
    expect(model.get('a')).toMatchObject({ uid: 5, mtime: 2 });
    expect(model.get('b')).toMatchObject({ uid: 4242, gid: 1000, mtime: 1_700_000_000 });
    expect(model.get('c')).toMatchObject({ uid: 4242, gid: 9 });
    expect(model.get('e')).toMatchObject({ uid: 4242, gid: 8 });
  });

  it('pax path and size apply; a fractional or negative mtime is rounded down; unknown keywords, atime, uname are without effect', async () => {
    const model = await agree([
      pax('x', ['path', 'renamed'], ['size', '3'], ['mtime', '-1.5'], ['atime', '5.25'], ['uname', 'nobody'], ['vendor.thing', 'x']),
      { name: 'original', data: Buffer.from('abc') },
      pax('x', ['mtime', '1234.999']),
      file('f'),
    ], ["Ignoring unknown extended header keyword 'vendor.thing'", 'renamed: implausibly old time stamp 1969-12-31 23:59:59.5']);
    expect(model.get('renamed')).toMatchObject({ size: 3, mtime: -2, uid: 0 });
    expect(model.has('original')).toBe(false);
    expect(model.get('f')!.mtime).toBe(1234);
  });

  it("GNU long names ('L', 'K'): the last one applies; a pax path or linkpath wins over them", async () => {
    const long = `${'n'.repeat(150)}`;
    const model = await agree([
      { name: '././@LongLink', type: 'L', data: Buffer.from(`first\0`) },
      { name: '././@LongLink', type: 'L', data: Buffer.from(`${long}\0`) },
      file('short'),
      { name: '././@LongLink', type: 'L', data: Buffer.from(`fromL\0`) },
      pax('x', ['path', 'frompax']),
      file('ustar'),
    ]);
    expect([...model.keys()].sort()).toEqual(['frompax', long]);
    const symlinks = tarStream([
      { name: '././@LongLink', type: 'K', data: Buffer.from(`${long}\0`) },
      { name: 'sym', type: '2', linkname: 'ustar-target' },
      { name: '././@LongLink', type: 'K', data: Buffer.from('fromK\0') },
      pax('x', ['linkpath', 'frompax']),
      { name: 'sym2', type: '2', linkname: 'ustar-target' },
    ]);
    const tar = extractWithTar(symlinks);
    expect(tar.status).toBe(0);
    expect([fs.readlinkSync(path.join(tar.dir, 'sym')), fs.readlinkSync(path.join(tar.dir, 'sym2'))]).toEqual([long, 'frompax']);
    const links = await decode(symlinks);
    expect((links as DecodedMember[]).map((m) => m.linkname)).toEqual([long, 'frompax']);
  });

  it('numbers: leading NUL and blanks, base-256; an invalid number makes tar fail and is refused', async () => {
    const model = await agree([
      file('blanks', { raw: { 108: Buffer.from('\0  1750\0', 'latin1') } }),
      file('base256', { raw: { 116: Buffer.from([0x80, 0, 0, 0, 0, 0, 0x10, 0]) } }),
    ]);
    expect(model.get('blanks')!.uid).toBe(0o1750);
    expect(model.get('base256')!.gid).toBe(4096);
    await bothRefuse([file('bad', { raw: { 108: Buffer.from('12x4567\0', 'latin1') } })], /where the uid number is expected/);
  });

  it('a malformed or invalid pax record makes tar fail and is refused', async () => {
    await bothRefuse([{ name: 'PaxHeaders/x', type: 'x', data: Buffer.from('9 uid=5\n') }, file('a')], /malformed pax record/);
    await bothRefuse([pax('x', ['uid', 'abc']), file('a')], /invalid pax record uid=abc/);
  });

  it('the ustar prefix is part of the name with the POSIX magic only, not with GNU\'s "ustar  "', async () => {
    const model = await agree([file('b', { prefix: 'pre' }), file('c', { prefix: 'gnu', magic: 'ustar  \0' })]);
    expect(model.has('pre/b')).toBe(true);
    expect(model.has('c')).toBe(true);
  });

  it("a regular file named with a trailing '/' is a directory; a directory or symlink claiming a size has no content", async () => {
    const model = await agree([
      { name: 'slash/', type: '0', uid: 3 },
      { name: 'sized', type: '5', size: 512 },
      { name: 'link', type: '2', linkname: 'a', size: 512 },
      file('a'),
      { name: 'hard', type: '1', linkname: 'a', raw: { 124: Buffer.from('not a size', 'latin1') } },
    ]);
    expect(model.get('slash')).toMatchObject({ type: 'dir', uid: 3 });
    expect(model.get('sized')!.type).toBe('dir');
    expect(model.get('a')!.size).toBe(2);
  });

  it('device numbers: read with a ustar magic, 0 without any (V7)', async () => {
    const devices = tarStream([
      { name: 'null', type: '3', devmajor: 1, devminor: 3 },
      { name: 'v7', type: '3', devmajor: 1, devminor: 5, magic: '\0'.repeat(8) },
    ]);
    const tar = extractWithTar(devices);
    expect(tar.status).toBe(0);
    expect(tar.made.get('v7')!.type).toBe('char');
    const rdev = (name: string): number => fs.lstatSync(path.join(tar.dir, name)).rdev;
    const decoded = (await decode(devices)) as DecodedMember[];
    expect(decoded.map((m) => [m.type, m.devmajor, m.devminor])).toEqual([['char', 1, 3], ['char', 0, 0]]);
    expect([rdev('null'), rdev('v7')]).toEqual([(1 << 8) | 3, 0]);
  });

  it("'M' (continued from another volume): tar fails, the decoder refuses", async () => {
    await bothRefuse([file('m', { type: 'M' })], /continued from another volume/);
  });

  it('an unknown type is extracted as a regular file with its content; the decoder reports it as "other"', async () => {
    const members = [file('q', { type: 'Q' })];
    await agree(members, ["q: Unknown file type 'Q', extracted as normal file"]);
    const decoded = (await decode(tarStream(members))) as DecodedMember[];
    expect(decoded.map((m) => [m.type, m.typeflag, m.size])).toEqual([['other', 'Q', 2]]);
  });

  it('a volume label (V) makes nothing, a dumpdir (D) a directory; the decoder reports both as "other"', async () => {
    const stream = tarStream([{ name: 'label', type: 'V' }, { name: 'dd', type: 'D', data: Buffer.from('Yfoo\0\0') }]);
    const tar = extractWithTar(stream);
    expect(tar.status).toBe(0);
    expect([...tar.made.values()].map((m) => [m.path, m.type])).toEqual([['dd', 'dir']]);
    const decoded = (await decode(stream)) as DecodedMember[];
    expect(decoded.map((m) => [m.path, m.type, m.typeflag])).toEqual([['label', 'other', 'V'], ['dd', 'other', 'D']]);
  });

  it('a lone zero block: tar stops there (with a warning, exit 0) and extracts nothing after it; the decoder refuses the archive', async () => {
    // The header after a's (a's data is one block) zeroed.
    const stream = tarStream([file('a'), { name: 'zeroed' }, file('b')]);
    stream.fill(0, 1024, 1536);
    const tar = extractWithTar(stream);
    expect(tar.status).toBe(0);
    expect(tar.stderr).toBe('tar: A lone zero block at 3\n');
    expect([...tar.made.keys()]).toEqual(['a']);
    const decoded = await decode(stream);
    expect(decoded).toBeInstanceOf(InputError);
    expect((decoded as InputError).message).toContain('a lone zero block inside the archive');
  });

  it('a checksum holding the signed sum of the block (old Sun tar) is accepted, as tar accepts it', async () => {
    const header = tarHeader(file('\xe9t\xe9', { data: Buffer.alloc(0) }));
    let signed = 0;
    for (let i = 0; i < 512; i++) signed += i >= 148 && i < 156 ? 0x20 : header[i]! > 127 ? header[i]! - 256 : header[i]!;
    header.write(`${signed.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    const stream = Buffer.concat([header, Buffer.alloc(10240 - 512)]);
    const tar = extractWithTar(stream);
    expect(tar.status).toBe(0);
    const decoded = (await decode(stream)) as DecodedMember[];
    expect(decoded.map((m) => m.path)).toEqual([...tar.made.keys()]);
    expect(decoded.map((m) => m.path)).toEqual(['\xe9t\xe9']);
  });
});
