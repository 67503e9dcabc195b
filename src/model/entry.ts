/**
 * What a scan records of one entry of a root.
 *
 * Paths are Linux file names, which are bytes. They are held as "binary strings": one UTF-16
 * code unit per byte (Buffer 'latin1' encoding). That keeps any name intact, makes JavaScript's
 * string comparison a byte-wise comparison, and costs nothing to convert at the fs boundary.
 */
export type BytePath = string;

export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface Entry {
  /** Relative to the root, no leading './' or '/', never empty (the root itself is not an entry). */
  readonly path: BytePath;
  readonly type: EntryType;
  /** Permission bits including setuid, setgid and sticky (st_mode & 07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Whole seconds since the epoch, rounded down (may be negative). */
  readonly mtime: number;
  /** Byte length for regular files, 0 otherwise. */
  readonly size: number;
  /** Device numbers for character and block devices, 0 otherwise. */
  readonly devmajor: number;
  readonly devminor: number;
  /** Symlink target bytes. */
  readonly target?: BytePath;
  /** `dev:ino` of a regular file with more than one link, to group hardlinks. */
  readonly inode?: string;
  /** For a regular file: what changes whenever its content may have (see FileStamp). */
  readonly stamp?: FileStamp;
}

/**
 * A regular file's identity and change times as lstat saw them. The kernel sets ctime to the
 * current time on every change of content or metadata, and nothing but the clock can set it
 * back: while the stamp is the same, so is the content (cache/file-digests.ts relies on this).
 */
export interface FileStamp {
  /** `dev:ino:size:mtime:ctime`, the times in nanoseconds. */
  readonly id: string;
  /** ctime in milliseconds since the epoch. */
  readonly changedMs: number;
}

/** Renders a byte path for people: UTF-8 where valid, with invalid bytes replaced. */
export function printable(path: BytePath): string {
  return Buffer.from(path, 'latin1').toString('utf8');
}

/** Joins a root (a normal string path) and a byte path into a Buffer path for fs calls. */
export function absoluteBytes(root: string, path: BytePath): Buffer {
  return Buffer.concat([Buffer.from(root, 'utf8'), Buffer.from('/' + path, 'latin1')]);
}

/**
 * Archive order: byte-wise, component by component, so that a directory comes before its
 * contents and its whole subtree is contiguous ("usr/bin", "usr/bin/x", "usr/bin-x"). Plain
 * byte-wise order would put "usr/bin-x" between "usr/bin" and "usr/bin/x", and GNU tar applies
 * a directory's delayed mtime and mode when it leaves the directory's subtree: a later member
 * inside it would then change that directory's mtime after it was set.
 */
export function comparePaths(a: BytePath, b: BytePath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca === 0x2f) return -1;
      if (cb === 0x2f) return 1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

/** The parent directories of a path, outermost first ("a/b/c" -> ["a", "a/b"]). */
export function parentsOf(path: BytePath): BytePath[] {
  const parents: BytePath[] = [];
  let i = path.indexOf('/');
  while (i !== -1) {
    parents.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return parents;
}

/** True when `path` is `prefix` or lies below it. */
export function isAtOrBelow(path: BytePath, prefix: BytePath): boolean {
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
}

/** Whole seconds of a nanosecond timestamp, rounded down (also before 1970). */
export function floorSeconds(ns: bigint): number {
  const s = ns / 1_000_000_000n;
  return Number(ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s);
}
