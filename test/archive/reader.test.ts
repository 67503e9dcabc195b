import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedMember } from '../../src/archive/tar-decode.js';
import { readArchive } from '../../src/archive/reader.js';
import { InputError } from '../../src/errors.js';

let work: string;
let tree: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-reader-'));
  tree = path.join(work, 'tree');
  const long = path.join(tree, 'a'.repeat(90), 'b'.repeat(90), 'c'.repeat(90));
  fs.mkdirSync(long, { recursive: true });
  fs.writeFileSync(path.join(long, 'file'), 'x'.repeat(5000));
  fs.writeFileSync(Buffer.from(`${tree}/name-\xff`, 'latin1'), 'latin-1\n');
  fs.symlinkSync('t'.repeat(200), path.join(tree, 'link'));
  fs.writeFileSync(path.join(tree, 'one'), 'hard\n');
  fs.linkSync(path.join(tree, 'one'), path.join(tree, 'two'));
  execFileSync('touch', ['-h', '-d', '@-100', path.join(tree, 'one')]);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Packs the tree with GNU tar in a format, compressed with a program. */
function pack(format: string, compress: string[] | undefined, name: string): { file: string; raw: Buffer } {
  const raw = execFileSync('tar', [`--format=${format}`, '--numeric-owner', '--sort=name', '-C', tree, '-cf', '-', '.'], { maxBuffer: 1 << 28 });
  const file = path.join(work, name);
  fs.writeFileSync(file, compress ? execFileSync(compress[0]!, compress.slice(1), { input: raw, maxBuffer: 1 << 28 }) : raw);
  return { file, raw };
}

async function members(file: string): Promise<{ list: DecodedMember[]; digests: Map<string, string>; totals: Awaited<ReturnType<typeof readArchive>> }> {
  const list: DecodedMember[] = [];
  const digests = new Map<string, string>();
  const totals = await readArchive(file, 'follow', (m) => {
    list.push(m);
    if (m.type !== 'file') return undefined;
    const hash = createHash('sha256');
    return { update: (chunk) => { hash.update(chunk); digests.set(m.path, hash.copy().digest('hex')); } };
  });
  return { list, digests, totals };
}

describe('readArchive', () => {
  it('refuses an .lzma archive whose stream ends before the file: lzmadec would deploy only its first part', async () => {
    const { file } = pack('gnu', ['xz', '--format=lzma', '-1'], 'first.tar.lzma');
    const joined = path.join(work, 'joined.tar.lzma');
    fs.writeFileSync(joined, Buffer.concat([fs.readFileSync(file), fs.readFileSync(file)]));
    await expect(members(file)).resolves.toBeDefined();
    const size = fs.statSync(file).size;
    await expect(members(joined)).rejects.toThrow(new RegExp(`the LZMA stream ends at byte ${size} of ${2 * size}: lzmadec stops there`));
    await expect(members(joined)).rejects.toBeInstanceOf(InputError);
  });

  it.each([
    ['gnu', ['xz', '-1'], 'g.tar.xz', 'xz'],
    ['posix', ['xz', '--format=lzma', '-1'], 'p.tar.lzma', 'lzma'],
    ['posix', ['gzip', '-1'], 'p.tar.gz', 'gzip'],
    ['gnu', ['bzip2', '-1'], 'g.tar.bzip2', 'bzip2'],
    ['posix', undefined, 'p.tar', 'tar'],
  ])('reads GNU tar\'s %s format compressed as %s: names, links, times, sizes', async (format, compress, name, detected) => {
    const { file, raw } = pack(format, compress, name);
    const { list, digests, totals } = await members(file);
    expect(totals.format).toBe(detected);
    expect(totals.size).toBe(raw.length);
    const listed = execFileSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: raw, encoding: 'latin1' }).split('\n').filter(Boolean);
    expect(totals.members).toBe(listed.length);
    expect(list.map((m) => m.path)).toEqual(listed.map((p) => p.replace(/\/$/, '')));
    const byPath = new Map(list.map((m) => [m.path, m]));
    const deep = `./${'a'.repeat(90)}/${'b'.repeat(90)}/${'c'.repeat(90)}/file`;
    expect(byPath.get(deep)).toMatchObject({ type: 'file', size: 5000 });
    expect(digests.get(deep)).toBe(createHash('sha256').update('x'.repeat(5000)).digest('hex'));
    expect(byPath.get('./name-\xff')).toMatchObject({ type: 'file', size: 8 });
    expect(byPath.get('./link')).toMatchObject({ type: 'symlink', linkname: 't'.repeat(200) });
    expect(byPath.get('./two')).toMatchObject({ type: 'link', linkname: './one' });
    expect(byPath.get('./one')!.mtime).toBe(-100);
  });

  it.each(['xz', 'gzip', 'bzip2'])('reports a truncated %s archive as damaged input naming the file', async (compressor) => {
    const { file } = pack('posix', [compressor, '-1'], `t.tar.${compressor}`);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await readArchive(file, 'follow', () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(file);
  });

  it('reports a flipped header byte as a bad checksum', async () => {
    const { file, raw } = pack('posix', undefined, 'flip.tar');
    raw[1030] = raw[1030]! ^ 0xff;
    fs.writeFileSync(file, raw);
    await expect(readArchive(file, 'follow', () => undefined)).rejects.toThrow(/bad header checksum|damaged/);
  });

  it('refuses a file that is not an archive', async () => {
    const file = path.join(work, 'text.tar.xz');
    fs.writeFileSync(file, 'hello\n');
    await expect(readArchive(file, 'follow', () => undefined)).rejects.toThrow(/not a tar archive/);
  });
});
