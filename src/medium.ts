/**
 * The medium's images folder, replaced as a whole: a build stages every archive and XML file in
 * a private folder under the medium and swaps it in only when all are complete. A failed or
 * interrupted build removes its staging folder and leaves the previous images untouched.
 *
 * One build at a time writes a medium: it holds a lock file in the medium folder, created with
 * O_EXCL and naming the process that holds it, so that a lock left by a crashed build is
 * recognised as stale and taken over instead of blocking the medium forever.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError, OutputError, describeSystemError } from './errors.js';

export const IMAGES_DIR = 'images';
export const LOCK_FILE = '.mediacompose.lock';
const STAGING_PREFIX = '.mediacompose-staging-';

export class Staging {
  private constructor(
    readonly medium: string,
    /** Where the new images folder is assembled. */
    readonly images: string,
    private readonly folder: string,
  ) {}

  /** A staging folder for the medium whose lock the caller holds. */
  static create(lock: MediumLock): Staging {
    const medium = lock.medium;
    const folder = path.join(medium, `${STAGING_PREFIX}${process.pid}`);
    try {
      fs.mkdirSync(medium, { recursive: true });
      removeStale(medium);
      fs.rmSync(folder, { recursive: true, force: true });
      fs.mkdirSync(path.join(folder, IMAGES_DIR), { recursive: true });
    } catch (err) {
      throw new OutputError(folder, `cannot create the staging folder: ${describeSystemError(err)}`, 'check the medium folder, its permissions and free space');
    }
    const staging = new Staging(medium, path.join(folder, IMAGES_DIR), folder);
    liveStagings.add(staging);
    return staging;
  }

  /**
   * Moves the staged images folder into place, then removes the previous one. Durable: the
   * staged files and their folder are flushed to disk before the swap (a power loss after it
   * cannot leave empty or short archives), the medium folder after it (the renames themselves).
   * Returns the seconds spent flushing.
   */
  commit(): number {
    const target = path.join(this.medium, IMAGES_DIR);
    const previous = path.join(this.folder, 'previous');
    const started = process.hrtime.bigint();
    try {
      syncTree(this.images);
    } catch (err) {
      throw new OutputError(this.images, `cannot flush the new images to disk: ${describeSystemError(err)}`, 'check the file system of the medium');
    }
    let synced = Number(process.hrtime.bigint() - started) / 1e9;
    try {
      if (fs.existsSync(target)) fs.renameSync(target, previous);
      fs.renameSync(this.images, target);
    } catch (err) {
      if (!fs.existsSync(target) && fs.existsSync(previous)) fs.renameSync(previous, target);
      throw new OutputError(target, `cannot move the new images into place: ${describeSystemError(err)}`);
    }
    const after = process.hrtime.bigint();
    try {
      syncPath(this.medium);
      syncPath(this.folder);
    } catch (err) {
      throw new OutputError(this.medium, `cannot flush the swapped images folder to disk: ${describeSystemError(err)}`, 'check the file system of the medium');
    }
    synced += Number(process.hrtime.bigint() - after) / 1e9;
    this.discard();
    return synced;
  }

  /** Removes everything staged (idempotent). */
  discard(): void {
    fs.rmSync(this.folder, { recursive: true, force: true });
    liveStagings.delete(this);
  }
}

const liveStagings = new Set<Staging>();

/** fsync of a file or folder. */
export function syncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync of every file and folder below `dir`, folders after their contents. */
function syncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) syncTree(file);
    else if (entry.isFile()) syncPath(file);
  }
  syncPath(dir);
}

/** Removes what live stagings left, for signal handlers that end the process. */
export function discardAllStagings(): void {
  for (const s of [...liveStagings]) s.discard();
}

/**
 * Removes the staging folders that earlier builds left (killed with SIGKILL, or a crashed host).
 * The caller holds the medium's lock, so no other build is writing any of them.
 */
function removeStale(medium: string): void {
  for (const name of fs.readdirSync(medium)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    restoreInterruptedSwap(medium, path.join(medium, name));
    fs.rmSync(path.join(medium, name), { recursive: true, force: true });
  }
}

/** Puts back the images folder of every build killed in the middle of its swap. */
function restoreInterruptedSwaps(medium: string, note: (message: string) => void): void {
  const previous = interruptedSwap(medium);
  if (previous === undefined) return;
  fs.renameSync(previous, path.join(medium, IMAGES_DIR));
  note(`restored ${path.join(medium, IMAGES_DIR)}: a build was interrupted while swapping it (it was in ${previous})`);
}

/**
 * Where the previous images folder is when a build was killed between the two renames that swap
 * the new one in (MEDIUM/images missing, the old one in a staging folder); undefined otherwise.
 * Read-only commands report this state; every command that takes the lock repairs it.
 */
export function interruptedSwap(medium: string): string | undefined {
  if (fs.existsSync(path.join(medium, IMAGES_DIR))) return undefined;
  let names: string[];
  try {
    names = fs.readdirSync(medium);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => n.startsWith(STAGING_PREFIX)).sort()) {
    const previous = path.join(medium, name, 'previous');
    if (fs.existsSync(path.join(previous, 'images.xml'))) return previous;
  }
  return undefined;
}

/** The line read-only commands report for an interrupted swap. */
export function interruptedSwapProblem(medium: string, previous: string): { what: string; hint: string } {
  return {
    what: `no ${IMAGES_DIR}/: a build was interrupted while swapping it in, the previous images are in ${previous}`,
    hint: `run \`mediacompose build COMPOSE\` or \`mediacompose details ${medium}\` to put them back`,
  };
}

/** A build killed between the two renames of commit() left the previous images in its staging. */
function restoreInterruptedSwap(medium: string, stale: string): void {
  const target = path.join(medium, IMAGES_DIR);
  const previous = path.join(stale, 'previous');
  if (!fs.existsSync(target) && fs.existsSync(previous)) fs.renameSync(previous, target);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// The lock

/** What the lock file says about the build that holds it. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id: a pid means nothing across a reboot. */
  readonly boot?: string;
  /** The process's start time in clock ticks since boot: tells a reused pid from the holder. */
  readonly processStart?: string;
  /** Wall-clock time the lock was taken, ISO 8601, for people. */
  readonly started: string;
}

/** A lock file left unreadable (a crash between creating and writing it) is stale after this. */
const UNREADABLE_LOCK_GRACE_MS = 60_000;

export class MediumLock {
  private constructor(
    readonly medium: string,
    readonly file: string,
    private readonly content: string,
    /** The outermost folder this lock created for the medium, removed again if left empty. */
    private readonly createdFolder: string | undefined,
  ) {}

  /**
   * Takes the medium's lock, creating the medium folder if needed. A lock whose holder no longer
   * runs is taken over (`note` says so); a live one is an OutputError (exit 4).
   */
  static acquire(medium: string, note: (message: string) => void = () => {}): MediumLock {
    const file = path.join(medium, LOCK_FILE);
    let createdFolder: string | undefined;
    try {
      createdFolder = makeFolders(medium);
    } catch (err) {
      throw new OutputError(medium, `cannot create the medium folder: ${describeSystemError(err)}`, 'check the path and its permissions');
    }
    const content = `${JSON.stringify(currentOwner())}\n`;
    // A few rounds at most: each round either takes the lock, refuses, or removes a stale lock.
    for (let round = 0; round < 5; round++) {
      if (createExclusive(file, content)) {
        const lock = new MediumLock(medium, file, content, createdFolder);
        liveLocks.add(lock);
        // Whatever this command goes on to do, or fails at, the previous images are in place.
        try {
          restoreInterruptedSwaps(medium, note);
        } catch (err) {
          lock.release();
          throw new OutputError(path.join(medium, IMAGES_DIR), `cannot restore the images an interrupted build moved away: ${describeSystemError(err)}`, 'check the medium folder and its permissions');
        }
        return lock;
      }
      const held = readLock(file);
      if (held === undefined) continue; // released meanwhile: try again
      const verdict = judgeLock(held, file);
      if (verdict.live) throw refusal(verdict.owner, file);
      if (removeStaleLock(file, held.text)) note(`took over the lock of ${verdict.why} (${file})`);
    }
    throw new OutputError(file, 'cannot take the lock: other builds keep taking it', 'try again');
  }

  /** Removes the lock file if it is still this build's (idempotent). */
  release(): void {
    if (!liveLocks.delete(this)) return;
    try {
      if (fs.readFileSync(this.file, 'utf8') === this.content) fs.unlinkSync(this.file);
    } catch {
      // Already gone, or the folder went away: nothing left to release.
    }
    this.removeCreatedFolders();
  }

  /** A build that failed before writing anything leaves no empty medium folder behind. */
  private removeCreatedFolders(): void {
    if (this.createdFolder === undefined) return;
    const top = path.resolve(this.createdFolder);
    for (let dir = path.resolve(this.medium); ; dir = path.dirname(dir)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        return; // not empty (a medium was written) or not ours
      }
      if (dir === top || dir === path.dirname(dir)) return;
    }
  }
}

const liveLocks = new Set<MediumLock>();

/** Releases the locks this process holds, for signal handlers that end the process. */
export function releaseAllLocks(): void {
  for (const lock of [...liveLocks]) lock.release();
}

/**
 * `mkdir -p`, returning the outermost folder it created. One level at a time: a recursive
 * mkdirSync reports "no such file or directory" where the cause is a read-only file system.
 */
function makeFolders(dir: string): string | undefined {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) fs.mkdirSync(d);
  return missing[0];
}

function currentOwner(): LockOwner {
  const boot = readBootId();
  const processStart = processStartTime(process.pid);
  return {
    pid: process.pid,
    host: os.hostname(),
    ...(boot ? { boot } : {}),
    ...(processStart ? { processStart } : {}),
    started: new Date().toISOString(),
  };
}

/** Creates the lock file with O_EXCL and writes its content; false if it exists. */
function createExclusive(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new OutputError(path.dirname(file), `cannot lock the medium: ${describeSystemError(err)}`, lockHint(err));
  }
  try {
    fs.writeSync(fd, content);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw new OutputError(path.dirname(file), `cannot lock the medium: ${describeSystemError(err)}`, lockHint(err));
  }
  fs.closeSync(fd);
  return true;
}

function lockHint(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EROFS': return 'the medium is on a read-only file system; choose a writable medium folder';
    case 'ENOSPC': return 'free space on that file system';
    default: return 'check the medium folder and its permissions';
  }
}

interface HeldLock {
  text: string;
  owner?: LockOwner;
  /** Milliseconds since the lock file was last written. */
  age: number;
}

function readLock(file: string): HeldLock | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const age = Date.now() - fs.statSync(file).mtimeMs;
    return { text, owner: parseOwner(text), age };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OutputError(file, `cannot read the lock: ${describeSystemError(err)}`, 'check the medium folder and its permissions');
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (!Number.isInteger(o.pid) || typeof o.host !== 'string' || typeof o.started !== 'string') return undefined;
    return o as LockOwner;
  } catch {
    return undefined;
  }
}

type Verdict = { live: true; owner: LockOwner | undefined } | { live: false; why: string };

/**
 * Whether the build named in a lock still runs. Only a process on this host can be checked; a
 * lock of another host is treated as live (the medium folder may be shared over the network).
 */
function judgeLock(held: HeldLock, file: string): Verdict {
  const owner = held.owner;
  if (owner === undefined) {
    return held.age > UNREADABLE_LOCK_GRACE_MS ? { live: false, why: `an unreadable lock file` } : { live: true, owner };
  }
  const who = `pid ${owner.pid} (started ${owner.started})`;
  if (owner.host !== os.hostname()) return { live: true, owner };
  const boot = readBootId();
  if (owner.boot && boot && owner.boot !== boot) return { live: false, why: `${who}, from before the last reboot` };
  if (!isRunning(owner.pid)) return { live: false, why: `${who}, which no longer runs` };
  const start = processStartTime(owner.pid);
  if (owner.processStart && start && owner.processStart !== start) {
    return { live: false, why: `${who}, which no longer runs (its pid now belongs to another process)` };
  }
  return { live: true, owner };
}

/**
 * For read-only commands: the error to report when a live build holds the medium's lock (it may
 * swap images/ while they read), undefined when none does.
 */
export function buildWritingMedium(medium: string): InputError | undefined {
  const file = path.join(medium, LOCK_FILE);
  let held: HeldLock | undefined;
  try {
    held = readLock(file);
  } catch {
    return undefined;
  }
  if (held === undefined) return undefined;
  const verdict = judgeLock(held, file);
  if (!verdict.live) return undefined;
  const owner = verdict.owner;
  const who = owner ? ` (pid ${owner.pid}${owner.host === os.hostname() ? '' : ` on host ${owner.host}`}, started ${owner.started})` : '';
  return new InputError(medium, `a build is writing this medium${who}`, 'wait for it to finish, then run this again');
}

/** The identity of MEDIUM/images (device and inode), to tell whether a build swapped it meanwhile. */
export function imagesGeneration(medium: string): string | undefined {
  try {
    const st = fs.statSync(path.join(medium, IMAGES_DIR), { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function refusal(owner: LockOwner | undefined, file: string): OutputError {
  if (owner === undefined) {
    return new OutputError(path.dirname(file), 'another build is writing this medium (its lock file is being written)', `wait for it; if no build runs, remove ${file}`);
  }
  const where = owner.host === os.hostname() ? '' : ` on host ${owner.host}`;
  return new OutputError(
    path.dirname(file),
    `another build is writing this medium (pid ${owner.pid}${where}, started ${owner.started})`,
    `wait for it to finish; if it no longer runs, remove ${file}`,
  );
}

/**
 * Removes a stale lock without removing a fresh one that another build took meanwhile: the lock
 * is renamed aside (atomic), and put back if what was moved is not the stale lock judged.
 */
function removeStaleLock(file: string, staleText: string): boolean {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new OutputError(file, `cannot remove a stale lock: ${describeSystemError(err)}`, 'check the medium folder and its permissions');
  }
  const moved = fs.readFileSync(aside, 'utf8');
  if (moved !== staleText) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Another build holds a newer lock already; the one moved aside was taken after ours.
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

function readBootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (after the command name, which may hold spaces and parentheses). */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
