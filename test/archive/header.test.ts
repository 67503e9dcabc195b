import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MemberHeader, encodeHeader, encodePaxRecords, splitUstarName } from '../../src/model/tar-header.js';

const base: MemberHeader = { path: 'etc/motd', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, size: 0 };

/** A whole archive of header-only members, as GNU tar lists it verbosely. */
function gnuList(headers: MemberHeader[]): { stdout: string; stderr: string; status: number | null } {
  const blocks = headers.map((h) => encodeHeader({ ...h, size: 0 }));
  const archive = Buffer.concat([...blocks, Buffer.alloc(1024)]);
  const r = spawnSync('tar', ['--warning=all', '--quoting-style=literal', '--numeric-owner', '--full-time', '-tvf', '-'], { input: archive, encoding: 'latin1', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** The names GNU tar creates when it extracts header-only members, as byte strings. */
function extractedNames(headers: MemberHeader[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-names-'));
  const archive = Buffer.concat([...headers.map((h) => encodeHeader(h)), Buffer.alloc(1024)]);
  const r = spawnSync('tar', ['--warning=all', '-C', dir, '-xf', '-'], { input: archive, encoding: 'latin1' });
  expect(r.stderr).toBe('');
  const names = fs.readdirSync(dir, { encoding: 'buffer' }).map((n) => n.toString('latin1')).sort();
  fs.rmSync(dir, { recursive: true });
  return names;
}

function field(block: Buffer, offset: number, length: number): string {
  return block.subarray(offset, offset + length).toString('latin1').replace(/\0.*$/s, '');
}

describe('ustar header', () => {
  it('keeps mode 0 and setuid bits exactly, and leaves user and group names empty', () => {
    const b = encodeHeader({ ...base, mode: 0 });
    expect(b.length).toBe(512);
    expect(field(b, 100, 8)).toBe('0000000');
    expect(field(encodeHeader({ ...base, mode: 0o4755 }), 100, 8)).toBe('0004755');
    expect(field(b, 265, 32)).toBe('');
    expect(field(b, 297, 32)).toBe('');
    expect(field(b, 257, 8)).toBe('ustar');
  });

  it('has a checksum GNU tar accepts, for every type', () => {
    const all: MemberHeader[] = [
      { ...base, path: 'd', type: 'dir', mode: 0o1777 },
      { ...base, path: 'd/f', mode: 0 },
      { ...base, path: 'd/l', type: 'symlink', linkname: '../target' },
      { ...base, path: 'd/h', type: 'link', linkname: 'd/f' },
      { ...base, path: 'd/c', type: 'char', devmajor: 1, devminor: 3 },
      { ...base, path: 'd/b', type: 'block', devmajor: 7, devminor: 0 },
      { ...base, path: 'd/p', type: 'fifo' },
    ];
    const r = gnuList(all);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.slice(0, 10))).toEqual([
      'drwxrwxrwt', '----------', 'lrw-r--r--', 'hrw-r--r--', 'crw-r--r--', 'brw-r--r--', 'prw-r--r--',
    ]);
  });

  it('splits a long name at a slash into prefix and name when it can', () => {
    const name = `${'a'.repeat(120)}/${'b'.repeat(90)}`;
    expect(splitUstarName(name)).toEqual({ prefix: 'a'.repeat(120), name: 'b'.repeat(90) });
    expect(splitUstarName('x'.repeat(101))).toBeUndefined();
    expect(splitUstarName(`${'a'.repeat(160)}/b`)).toBeUndefined();
    expect(encodeHeader({ ...base, path: name }).length).toBe(512);
  });
});

describe('pax extended headers', () => {
  it('computes record lengths that count their own digits', () => {
    for (let n = 80; n < 120; n++) {
      const record = encodePaxRecords([['path', 'p'.repeat(n)]]);
      expect(Number(record.toString('latin1').split(' ')[0])).toBe(record.length);
    }
  });

  it('carries what ustar cannot: long and non-UTF-8 names, long targets, big ids, old and far mtimes', () => {
    const nonUtf8 = Buffer.from([0x6e, 0xff, 0xfe]).toString('latin1');
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}/${'g'.repeat(69)}`; // 252 bytes
    const r = gnuList([
      { ...base, path: long },
      { ...base, path: nonUtf8 },
      { ...base, path: `${'x'.repeat(150)}${nonUtf8}` },
      { ...base, path: 'l', type: 'symlink', linkname: 't'.repeat(300) },
      { ...base, path: 'ids', uid: 3_000_000_000, gid: 4_000_000_000 },
      { ...base, path: 'old', mtime: -86_400 },
      { ...base, path: 'far', mtime: 10_000_000_000 },
    ]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines[0]).toContain(long);
    expect(extractedNames([{ ...base, path: nonUtf8 }, { ...base, path: `${'x'.repeat(150)}${nonUtf8}` }])).toEqual(
      [nonUtf8, `${'x'.repeat(150)}${nonUtf8}`].sort(),
    );
    expect(lines[3]).toContain(`l -> ${'t'.repeat(300)}`);
    expect(lines[4]).toContain('3000000000/4000000000');
    expect(lines[5]).toContain('1969-12-31 00:00:00');
    expect(lines[6]).toContain('2286-11-20 17:46:40');
  });

  it('carries sizes past 8 GiB (GNU tar lists a sparse archive holding one)', () => {
    const size = 9 * 2 ** 30 + 5;
    const header = encodeHeader({ ...base, path: 'huge', size });
    expect(header.length).toBeGreaterThan(512);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-big-')), 'big.tar');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, header);
    const end = header.length + size + (512 - (size % 512));
    fs.writeSync(fd, Buffer.alloc(1024), 0, 1024, end);
    fs.closeSync(fd);
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' });
    expect(listing).toContain(` ${size} `);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
