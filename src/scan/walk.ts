/**
 * Walks a root without following symlinks: every entry by lstat, in archive order (see
 * comparePaths), names read as bytes. Synchronous on purpose: per-call promise overhead makes an
 * async walk about ten times slower (docs/measured.md), and nothing else runs during a scan.
 */
import type { Warning } from '../model/warnings.js';
import fs from 'node:fs';
import { InputError, describeSystemError } from '../errors.js';
import { type BytePath, type Entry, type EntryType, absoluteBytes, printable } from '../model/entry.js';
import { floorSeconds } from '../model/entry.js';
import { signalCheckpoint } from '../runtime/signal-checkpoint.js';

export interface RootScan {
  /** Absolute path of the root (already symlink-resolved). */
  readonly root: string;
  /** Every entry of the root, in archive order. */
  readonly entries: readonly Entry[];
  /** Things the installer cannot restore, each a printable line. */
  readonly warnings: readonly Warning[];
}

const S_IFMT = 0o170000n;
const TYPES: ReadonlyMap<bigint, EntryType | 'socket'> = new Map([
  [0o100000n, 'file'],
  [0o040000n, 'dir'],
  [0o120000n, 'symlink'],
  [0o020000n, 'char'],
  [0o060000n, 'block'],
  [0o010000n, 'fifo'],
  [0o140000n, 'socket'],
]);

export async function scanRoot(root: string): Promise<RootScan> {
  const entries: Entry[] = [];
  const warnings: Warning[] = [];
  const canRead = readabilityCheck();
  const rootDevice = rootDeviceOf(root);
  const mountedOn = mountPointTest(root);

  // A signal checkpoint per folder: a walk of a million entries takes seconds (runtime/signal-checkpoint.ts).
  const walk = async (dir: BytePath): Promise<void> => {
    await signalCheckpoint();
    const names = readNames(root, dir);
    for (const name of names) {
      const path = dir === '' ? name : `${dir}/${name}`;
      checkPathLength(root, path);
      const entry = statEntry(root, path, { rootDevice, mountedOn, warn: (message) => warnings.push({ code: 'MC-W-SPARSE', message }) });
      if (entry === 'socket') {
        warnings.push({ code: 'MC-W-SOCKET', message: `${root}/${printable(path)}: socket skipped (sockets cannot be archived)` });
        continue;
      }
      if (entry.type === 'file' && !canRead(entry)) {
        throw new InputError(`${root}/${printable(path)}`, 'file is not readable', 'run as root, or fix its permissions');
      }
      entries.push(entry);
      if (entry.type === 'dir') await walk(path);
    }
  };
  await walk('');
  return { root, entries, warnings };
}

/** PATH_MAX of Linux, with its terminating NUL: the longest path a system call takes. */
const PATH_MAX = 4096;

/**
 * A path the system calls cannot take (PATH_MAX) is one short error naming its start, not a
 * message as long as the path.
 */
function checkPathLength(root: string, path: BytePath): void {
  const bytes = Buffer.byteLength(root) + 1 + Buffer.byteLength(path, 'latin1');
  if (bytes < PATH_MAX) return;
  const shown = printable(path);
  throw new InputError(
    `${root}/${shown.length > 60 ? `${shown.slice(0, 60)}...` : shown}`,
    `path of ${bytes} bytes is longer than PATH_MAX (${PATH_MAX - 1} bytes)`,
    'mediacompose archives paths up to PATH_MAX; move the deep folders to a shorter place',
  );
}

/** Directory entry names as byte strings, sorted byte-wise. */
function readNames(root: string, dir: BytePath): BytePath[] {
  const abs = dir === '' ? Buffer.from(root, 'utf8') : absoluteBytes(root, dir);
  let names: Buffer[];
  try {
    names = fs.readdirSync(abs, { encoding: 'buffer' });
  } catch (err) {
    throw new InputError(`${root}/${printable(dir)}`, `cannot read directory: ${describeSystemError(err)}`, 'run as root, or fix its permissions');
  }
  return names.map((n) => n.toString('latin1')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The device of the root folder itself; undefined when it cannot be read (reported later). */
function rootDeviceOf(root: string): bigint | undefined {
  try {
    return fs.statSync(root, { bigint: true }).dev;
  } catch {
    return undefined;
  }
}

/**
 * A folder on another file system than its root is a mount point (a bind-mounted /dev, /proc,
 * a tmpfs): archiving it would store the host's devices or kernel files. GNU tar's
 * --one-file-system would skip it silently; here it is an error. A folder is judged by its
 * device alone; another entry on another device only when /proc/self/mountinfo lists it (on
 * overlay file systems files may report the device of a lower layer). A file bind-mounted from
 * /proc or /sys would otherwise be archived empty (such files report a size of 0).
 */
function checkSameFileSystem(root: string, path: BytePath, type: EntryType, st: fs.BigIntStats, on: ScanDevices): void {
  if (on.rootDevice === undefined || st.dev === on.rootDevice) return;
  if (type !== 'dir' && !on.mountedOn(path)) return;
  const mountPoint = `${root}/${printable(path)}`;
  throw new InputError(mountPoint, 'a mount point: another file system is mounted here inside the root', `unmount it first (umount ${mountPoint}); the build archives one file system per root`);
}

interface ScanDevices {
  readonly rootDevice: bigint | undefined;
  /** Whether something is mounted on this path of the root. */
  readonly mountedOn: (path: BytePath) => boolean;
}

/** Whether a path of `root` is a mount point, from /proc/self/mountinfo, read once when first asked. */
function mountPointTest(root: string): (path: BytePath) => boolean {
  let points: Set<string> | undefined;
  let realRoot = root;
  return (path) => {
    if (points === undefined) {
      try {
        realRoot = fs.realpathSync(Buffer.from(root, 'latin1'), { encoding: 'buffer' }).toString('latin1');
        // Field 5 is the mount point, with space, tab, newline and backslash as octal escapes.
        const lines = fs.readFileSync('/proc/self/mountinfo', 'latin1').split('\n');
        points = new Set(lines.map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))));
      } catch {
        points = new Set();
      }
    }
    return points.has(`${realRoot}/${path}`);
  };
}

function statEntry(root: string, path: BytePath, scan: ScanDevices & { warn: (line: string) => void }): Entry | 'socket' {
  const abs = absoluteBytes(root, path);
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(abs, { bigint: true });
  } catch (err) {
    throw new InputError(`${root}/${printable(path)}`, `cannot stat: ${describeSystemError(err)}`);
  }
  const type = TYPES.get(st.mode & S_IFMT);
  if (type === undefined) throw new InputError(`${root}/${printable(path)}`, 'unknown file type');
  if (type === 'socket') return 'socket';
  checkSameFileSystem(root, path, type, st, scan);
  if (type === 'file' && isSparse(st)) {
    scan.warn(
      `${root}/${printable(path)}: sparse file of ${st.size} bytes with ${st.blocks * 512n} allocated ` +
        '(archived as all its bytes; the installer writes it dense, using the full size on the installed disk)',
    );
  }

  const isDevice = type === 'char' || type === 'block';
  const entry: Entry = {
    path,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: floorSeconds(st.mtimeNs),
    size: type === 'file' ? Number(st.size) : 0,
    devmajor: isDevice ? major(st.rdev) : 0,
    devminor: isDevice ? minor(st.rdev) : 0,
    ...(type === 'symlink' ? { target: readTarget(abs, root, path) } : {}),
    ...(type === 'file' && st.nlink > 1n ? { inode: `${st.dev}:${st.ino}` } : {}),
    ...(type === 'file' ? { stamp: { id: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedMs: Number(st.ctimeNs / 1_000_000n) } } : {}),
  };
  return entry;
}

function readTarget(abs: Buffer, root: string, path: BytePath): BytePath {
  try {
    return fs.readlinkSync(abs, { encoding: 'buffer' }).toString('latin1');
  } catch (err) {
    throw new InputError(`${root}/${printable(path)}`, `cannot read symlink: ${describeSystemError(err)}`);
  }
}

/**
 * A file with holes: at least 1 MiB, with less than half of it allocated (small files may
 * have no blocks of their own on some file systems, so they are not judged).
 */
function isSparse(st: fs.BigIntStats): boolean {
  return st.size >= 1n << 20n && st.blocks * 512n * 2n < st.size;
}

/** Linux's dev_t encoding (glibc gnu_dev_major / gnu_dev_minor). */
function major(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function minor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

/**
 * Whether the process can read a regular file, decided from its mode and owner without a system
 * call per file. Root reads everything; for other users ACLs may still say no, and the archive
 * writer then reports the file when it fails to open it.
 */
function readabilityCheck(): (e: Entry) => boolean {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return () => true;
  const groups = new Set([process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])]);
  return (e) => {
    if (e.uid === uid) return (e.mode & 0o400) !== 0;
    if (groups.has(e.gid)) return (e.mode & 0o040) !== 0;
    return (e.mode & 0o004) !== 0;
  };
}
