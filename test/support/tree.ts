/**
 * Test oracle: what a tree holds, listed by GNU find (not by mediacompose's scanner), with
 * content digests, and a comparison of two such listings that names every difference.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';

interface TreeEntry {
  type: string;
  mode: string;
  uid: string;
  gid: string;
  mtime: string;
  size: string;
  target: string;
  device: string;
  digest: string;
}

export interface Tree {
  entries: Map<string, TreeEntry>;
  /** Hardlink groups of two or more paths, each sorted and joined by NUL, sorted. */
  hardlinkGroups: string[];
}

const FIELDS = '%P\\0%y\\0%m\\0%U\\0%G\\0%T@\\0%s\\0%l\\0%D:%i\\0%n\\0';

export function listTree(root: string): Tree {
  const out = execFileSync('find', [root, '-mindepth', '1', '-printf', FIELDS], { maxBuffer: 1 << 30 });
  const parts = out.toString('latin1').split('\0');
  const entries = new Map<string, TreeEntry>();
  const inodes = new Map<string, string[]>();
  for (let i = 0; i + 10 <= parts.length; i += 10) {
    const [path, type, mode, uid, gid, , size, target, inode, nlink] = parts.slice(i, i + 10) as [string, string, string, string, string, string, string, string, string, string];
    const abs = Buffer.concat([Buffer.from(`${root}/`), Buffer.from(path, 'latin1')]);
    const isDevice = type === 'c' || type === 'b';
    entries.set(path, {
      type,
      mode,
      uid,
      gid,
      mtime: mtimeSeconds(abs),
      size: type === 'f' ? size : '',
      target: type === 'l' ? target : '',
      device: isDevice ? deviceOf(abs) : '',
      digest: type === 'f' ? digestOf(abs) : '',
    });
    if (type === 'f' && Number(nlink) > 1) inodes.set(inode, [...(inodes.get(inode) ?? []), path]);
  }
  const hardlinkGroups = [...inodes.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort().join('\0'))
    .sort();
  return { entries, hardlinkGroups };
}

/** Whole seconds, rounded down (find's %T@ is ambiguous for negative fractional times). */
function mtimeSeconds(abs: Buffer): string {
  const ns = fs.lstatSync(abs, { bigint: true }).mtimeNs;
  const s = ns / 1_000_000_000n;
  return String(ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s);
}

function deviceOf(abs: Buffer): string {
  const st = fs.lstatSync(abs, { bigint: true });
  return String(st.rdev);
}

function digestOf(abs: Buffer): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(abs, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Every difference between two trees, one line each ("path: field a != b"). */
export function diffTrees(expected: Tree, actual: Tree): string[] {
  const problems: string[] = [];
  const show = (p: string): string => Buffer.from(p, 'latin1').toString('utf8');
  for (const [path, e] of expected.entries) {
    const a = actual.entries.get(path);
    if (!a) {
      problems.push(`${show(path)}: missing`);
      continue;
    }
    for (const key of Object.keys(e) as (keyof TreeEntry)[]) {
      if (e[key] !== a[key]) problems.push(`${show(path)}: ${key} ${e[key]} != ${a[key]}`);
    }
  }
  for (const path of actual.entries.keys()) {
    if (!expected.entries.has(path)) problems.push(`${show(path)}: unexpected`);
  }
  const groups = new Set(actual.hardlinkGroups);
  for (const g of expected.hardlinkGroups) if (!groups.has(g)) problems.push(`hardlink group missing: ${show(g).replaceAll('\0', ' = ')}`);
  const wanted = new Set(expected.hardlinkGroups);
  for (const g of actual.hardlinkGroups) if (!wanted.has(g)) problems.push(`hardlink group unexpected: ${show(g).replaceAll('\0', ' = ')}`);
  return problems;
}

/** Deterministic bytes that do not compress: a sha256 chain seeded with `seed`. */
export function incompressible(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Leaves a Unix socket file at `file`: a process binds it and exits without closing it. */
export function makeSocket(file: string): void {
  execFileSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.exit(0))", file]);
}
