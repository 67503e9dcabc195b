/**
 * Generates roots holding every edge the archives must carry (needs root: devices, large ids).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const T = 1_500_000_000; // a fixed mtime for everything not set otherwise

function write(root: string, rel: string | Buffer, content: string | Buffer, mode = 0o644): Buffer {
  const abs = Buffer.concat([Buffer.from(`${root}/`), Buffer.isBuffer(rel) ? rel : Buffer.from(rel)]);
  fs.mkdirSync(path.dirname(abs.toString('latin1')), { recursive: true });
  fs.writeFileSync(abs, content);
  fs.chmodSync(abs, mode);
  return abs;
}

/** The first root: every edge case. */
export function makeEdgeRoot(root: string): void {
  fs.mkdirSync(root, { recursive: true });
  write(root, 'modes/zero', 'no permissions at all\n', 0o000);
  write(root, 'modes/setuid', '#!/bin/sh\n', 0o4755);
  write(root, 'modes/setgid', '#!/bin/sh\n', 0o2711);
  fs.mkdirSync(`${root}/modes/sticky`);
  fs.chmodSync(`${root}/modes/sticky`, 0o1777);
  fs.mkdirSync(`${root}/modes/closed`);
  write(root, 'modes/closed/inside', 'in a closed directory\n');
  fs.chmodSync(`${root}/modes/closed`, 0o000);

  // A 250-byte path, a 300-byte symlink target, a non-UTF-8 name.
  const deep = ['long', 'd'.repeat(60), 'e'.repeat(60), 'f'.repeat(60)].join('/');
  write(root, `${deep}/${'g'.repeat(250 - deep.length - 1)}`, 'deep\n');
  fs.symlinkSync('t'.repeat(300), `${root}/long/link`);
  write(root, Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x2d, 0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e]), 'latin-1 name\n');
  fs.mkdirSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x64, 0x69, 0x72, 0xe9])]));
  write(root, Buffer.concat([Buffer.from(`long/${'n'.repeat(120)}`), Buffer.from([0xff, 0xfe])]), 'long and not UTF-8\n');

  // Ownership: a huge uid and gid, and an ordinary one.
  const owned = write(root, 'owners/huge', 'big ids\n');
  fs.lchownSync(owned, 3_000_000_000, 3_000_000_001);
  fs.lchownSync(write(root, 'owners/user', 'user\n'), 1000, 100);

  // A three-way hardlink group, and a pair.
  const first = write(root, 'links/one', 'linked three times\n');
  fs.linkSync(first, `${root}/links/two`);
  fs.mkdirSync(`${root}/links/sub`);
  fs.linkSync(first, `${root}/links/sub/three`);
  fs.linkSync(write(root, 'links/pair-a', 'pair\n'), `${root}/links/pair-b`);

  // Special files.
  fs.mkdirSync(`${root}/dev`);
  execFileSync('mkfifo', [`${root}/dev/fifo`]);
  execFileSync('mknod', ['-m', '0666', `${root}/dev/null`, 'c', '1', '3']);
  execFileSync('mknod', ['-m', '0660', `${root}/dev/loop0`, 'b', '7', '0']);
  execFileSync('mknod', ['-m', '0600', `${root}/dev/big`, 'c', '4095', '1048575']);

  // Sorting: "a/bin-x" must not split "a/bin" from "a/bin/tool".
  write(root, 'a/bin/tool', 'tool\n', 0o755);
  write(root, 'a/bin-x', 'sibling\n');
  write(root, 'a/bin.d/conf', 'conf\n');

  // Content shared with the second root, big enough to matter.
  write(root, 'usr/share/data.bin', Buffer.alloc(300_000, 'abcdefgh'));
  write(root, 'var/lib/dpkg/status', 'Package: demo\n');

  setTimes(root, T);
  // Times: the epoch, before 1970, after 2106, after 2242 (past the octal field).
  time(root, 'modes/setuid', 0);
  time(root, 'owners/user', -86400 * 365 - 0.5);
  time(root, 'owners', 4_500_000_000);
  time(root, 'a/bin-x', 10_000_000_000);
  time(root, 'dev/fifo', -1);
}

/**
 * The second root: a copy of the first where some paths differ in content, mode, mtime, type or
 * hardlink grouping, and some exist only here.
 */
export function makeEdgeVariant(from: string, root: string): void {
  execFileSync('cp', ['-a', from, root]);
  fs.unlinkSync(`${root}/links/pair-b`);
  write(root, 'links/pair-b', 'pair\n');
  fs.writeFileSync(`${root}/owners/user`, 'other content\n');
  fs.chmodSync(`${root}/modes/setgid`, 0o755);
  fs.rmSync(`${root}/a/bin-x`);
  fs.mkdirSync(`${root}/a/bin-x`);
  write(root, 'a/bin-x/now-a-directory', 'type changed\n');
  write(root, 'only-here/file', 'variant only\n');
  fs.rmSync(`${root}/dev/fifo`);
  fs.symlinkSync('null', `${root}/dev/fifo`);
  setTimes(`${root}/a`, T);
  setTimes(`${root}/only-here`, T);
  time(root, '', T);
  time(root, 'links', T);
  time(root, 'links/pair-b', T);
  time(root, 'dev', T);
  time(root, 'dev/fifo', T);
  time(root, 'usr/share/data.bin', T + 1);
  time(root, 'modes/setgid', T);
}

/** Sets one mtime (touch, since Node turns negative times into "now"). */
function time(root: string, rel: string, seconds: number): void {
  execFileSync('touch', ['-h', '-d', `@${seconds}`, rel ? `${root}/${rel}` : root]);
}

/** Sets every mtime under `dir` (deepest first, so directories keep theirs). */
function setTimes(dir: string, seconds: number): void {
  execFileSync('find', [dir, '-depth', '-exec', 'touch', '-h', '-d', `@${seconds}`, '{}', '+']);
}
