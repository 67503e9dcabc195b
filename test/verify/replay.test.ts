/**
 * The model of how GNU tar extracts (src/verify/replay.ts), on small archives made by GNU tar
 * itself: each case makes archives, reads them as verify does, replays them, then extracts them
 * with GNU tar as root into an empty folder, and asserts what the model says and what tar did.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentProgress } from '../../src/runtime/progress.js';
import { type Listing, readArchives } from '../../src/verify/archives.js';
import { DeployedTree } from '../../src/verify/replay.js';

let work: string;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mediacompose-replay-'));
});

afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

const OLD = 1_000_000_000; // 2001-09-09, far from "now"

/** A source tree for one archive: paths ending in '/' are folders; `link:` makes a hardlink. */
function source(name: string, entries: Record<string, string>): string {
  const dir = path.join(work, 'src', name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(entries)) {
    const p = path.join(dir, rel);
    if (rel.endsWith('/')) fs.mkdirSync(p, { recursive: true });
    else if (content.startsWith('link:')) fs.linkSync(path.join(dir, content.slice(5)), p);
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
  // Old mtimes everywhere, deepest first, so that setting a file's time leaves its folder's alone.
  const all = execFileSync('find', [dir, '-mindepth', '1'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  for (const p of all.sort((a, b) => b.length - a.length)) fs.lutimesSync(p, OLD, OLD);
  return dir;
}

/** An archive of `members` (in this order) of a source tree, made by GNU tar. */
function archive(name: string, dir: string, members: readonly string[]): string {
  const file = `${name}.tar`;
  execFileSync('tar', ['--format=gnu', '--no-recursion', '-C', dir, '-cf', path.join(work, file), ...members]);
  return file;
}

async function replay(files: readonly string[]): Promise<{ tree: DeployedTree; problems: string[] }> {
  const readings = await readArchives(work, files, 1, silentProgress);
  const problems: string[] = [];
  const tree = new DeployedTree((p, what) => problems.push(`${p}: ${what}`));
  for (const file of files) tree.extract(readings.get(file) as Listing);
  return { tree, problems };
}

/** Extracts the archives in order with GNU tar as the installer runs it; false when tar fails. */
function extract(files: readonly string[]): { target: string; ok: boolean } {
  const target = path.join(work, 'target');
  fs.mkdirSync(target, { recursive: true });
  let ok = true;
  for (const file of files) {
    try {
      execFileSync('tar', ['-xf', path.join(work, file), '-C', target], { stdio: 'pipe' });
    } catch {
      ok = false;
    }
  }
  return { target, ok };
}

const mtimeOf = (p: string): number => Math.floor(fs.lstatSync(p).mtimeMs / 1000);

describe('replay of GNU tar extraction', () => {
  it('applies a directory member\'s mtime after its subtree: the folder keeps the archived time', async () => {
    const dir = source('a', { 'etc/': '', 'etc/x': 'x', 'etc/y': 'y' });
    const files = [archive('a', dir, ['etc', 'etc/x', 'etc/y'])];
    const { tree, problems } = await replay(files);
    expect(problems).toEqual([]);
    expect(tree.nodes.get('etc')!.mtime).toBe(OLD);
    const { target, ok } = extract(files);
    expect(ok).toBe(true);
    expect(mtimeOf(path.join(target, 'etc'))).toBe(OLD);
  });

  it('a later archive adding to a folder it has no member for leaves that folder with the time of extraction', async () => {
    const first = source('a', { 'etc/': '', 'etc/x': 'x' });
    const second = source('b', { 'etc/': '', 'etc/y': 'y' });
    const files = [archive('a', first, ['etc', 'etc/x']), archive('b', second, ['etc/y'])];
    const { tree } = await replay(files);
    expect(tree.nodes.get('etc')!.mtime).toBeUndefined();
    const { target } = extract(files);
    expect(mtimeOf(path.join(target, 'etc'))).toBeGreaterThan(OLD + 1e8);
  });

  it('creates missing parents implicitly, with the time of extraction', async () => {
    const dir = source('a', { 'usr/lib/f': 'f' });
    const files = [archive('a', dir, ['usr/lib/f'])];
    const { tree } = await replay(files);
    expect(tree.nodes.get('usr')).toMatchObject({ type: 'dir', implicit: true, mtime: undefined });
    expect(tree.nodes.get('usr/lib')).toMatchObject({ type: 'dir', implicit: true });
    const { target } = extract(files);
    expect(fs.statSync(path.join(target, 'usr/lib')).isDirectory()).toBe(true);
    expect(mtimeOf(path.join(target, 'usr/lib'))).toBeGreaterThan(OLD + 1e8);
  });

  it('a hardlink to an earlier member shares its node; a file replacing the target later breaks the link', async () => {
    const first = source('a', { 'bin/': '', 'bin/a': 'same', 'bin/b': 'link:bin/a' });
    const second = source('b', { 'bin/': '', 'bin/a': 'new' });
    const files = [archive('a', first, ['bin', 'bin/a', 'bin/b']), archive('b', second, ['bin/a'])];
    const { tree, problems } = await replay(files.slice(0, 1));
    expect(problems).toEqual([]);
    expect(tree.nodes.get('bin/b')).toBe(tree.nodes.get('bin/a'));
    const after = await replay(files);
    expect(after.tree.nodes.get('bin/b')).not.toBe(after.tree.nodes.get('bin/a'));
    expect(after.tree.nodes.get('bin/b')!.size).toBe(4);
    const { target } = extract(files);
    expect(fs.readFileSync(path.join(target, 'bin/b'), 'utf8')).toBe('same');
    expect(fs.readFileSync(path.join(target, 'bin/a'), 'utf8')).toBe('new');
    expect(fs.statSync(path.join(target, 'bin/a')).ino).not.toBe(fs.statSync(path.join(target, 'bin/b')).ino);
  });

  it('a file replaces an empty directory of an earlier archive', async () => {
    const first = source('a', { 'opt/': '', 'opt/x/': '' });
    const second = source('b', { 'opt/': '', 'opt/x': 'file now' });
    const files = [archive('a', first, ['opt', 'opt/x']), archive('b', second, ['opt/x'])];
    const { tree, problems } = await replay(files);
    expect(problems).toEqual([]);
    expect(tree.nodes.get('opt/x')!.type).toBe('file');
    const { target, ok } = extract(files);
    expect(ok).toBe(true);
    expect(fs.readFileSync(path.join(target, 'opt/x'), 'utf8')).toBe('file now');
  });

  it('a file cannot replace a directory that is not empty: reported, and tar fails', async () => {
    const first = source('a', { 'opt/': '', 'opt/x/': '', 'opt/x/y': 'y' });
    const second = source('b', { 'opt/': '', 'opt/x': 'file now' });
    const files = [archive('a', first, ['opt', 'opt/x', 'opt/x/y']), archive('b', second, ['opt/x'])];
    const { tree, problems } = await replay(files);
    expect(problems).toEqual(['opt/x: a file from b.tar replaces a directory that is not empty (tar fails, the installer aborts)']);
    expect(tree.nodes.get('opt/x')!.type).toBe('dir');
    const { target, ok } = extract(files);
    expect(ok).toBe(false);
    expect(fs.statSync(path.join(target, 'opt/x')).isDirectory()).toBe(true);
  });

  it('a directory member over an existing directory keeps its content and takes the member\'s metadata', async () => {
    const first = source('a', { 'srv/': '', 'srv/old': 'o' });
    const second = source('b', { 'srv/': '' });
    fs.chmodSync(path.join(second, 'srv'), 0o700);
    const files = [archive('a', first, ['srv', 'srv/old']), archive('b', second, ['srv'])];
    const { tree } = await replay(files);
    expect(tree.nodes.get('srv')).toMatchObject({ type: 'dir', mode: 0o700, mtime: OLD, from: 'b.tar' });
    expect(tree.nodes.has('srv/old')).toBe(true);
    const { target } = extract(files);
    expect(fs.statSync(path.join(target, 'srv')).mode & 0o7777).toBe(0o700);
    expect(fs.existsSync(path.join(target, 'srv/old'))).toBe(true);
    expect(mtimeOf(path.join(target, 'srv'))).toBe(OLD);
  });

  it('a symlink replaces a file, and its permission bits are 0777', async () => {
    const first = source('a', { 'lib': 'a file' });
    const second = path.join(work, 'src', 'b');
    fs.mkdirSync(second, { recursive: true });
    fs.symlinkSync('usr/lib', path.join(second, 'lib'));
    const files = [archive('a', first, ['lib']), archive('b', second, ['lib'])];
    const { tree } = await replay(files);
    expect(tree.nodes.get('lib')).toMatchObject({ type: 'symlink', mode: 0o777, target: 'usr/lib' });
    const { target } = extract(files);
    expect(fs.readlinkSync(path.join(target, 'lib'))).toBe('usr/lib');
  });

  it('never extracts below a symlink: reported', async () => {
    const first = path.join(work, 'src', 'a');
    fs.mkdirSync(first, { recursive: true });
    fs.symlinkSync('/tmp', path.join(first, 'data'));
    const second = source('b', { 'data/': '', 'data/f': 'f' });
    const files = [archive('a', first, ['data']), archive('b', second, ['data/f'])];
    const { tree, problems } = await replay(files);
    expect(problems).toEqual(['data/f: not extracted from b.tar: its parent data is a symlink, which tar would follow out of place']);
    expect(tree.nodes.has('data/f')).toBe(false);
  });

  it('a hardlink to a member that is not there is reported and not applied (synthetic listing)', () => {
    const header = { path: 'y', type: 'link' as const, typeflag: '1', mode: 0o644, uid: 0, gid: 0, mtime: OLD, size: 0, linkname: 'x', devmajor: 0, devminor: 0 };
    const listing: Listing = { kind: 'listing', file: 'l.tar', format: 'tar', size: 10240, count: 1, members: [{ header, path: 'y', linkTarget: 'x' }], refused: [] };
    const problems: string[] = [];
    const tree = new DeployedTree((p, what) => problems.push(`${p}: ${what}`));
    tree.extract(listing);
    expect(problems).toEqual(['y: hard link to x, which is not there when it is extracted (tar fails, the installer aborts)']);
    expect(tree.nodes.has('y')).toBe(false);
  });
});
