/**
 * One command at a time writes a folder (a medium, a folder of prepared roots): it holds a lock
 * file in the folder, created with O_EXCL and naming the process that holds it, so that a lock
 * left by a crashed build is recognised as stale and taken over instead of blocking the folder
 * forever. A held lock is registered with the cleanup registry (cleanup.ts). What a writer must
 * repair after taking the lock is its own business (medium/staging.ts lockMedium).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError, OutputError, describeSystemError } from '../errors.js';
import { onCleanup } from './cleanup.js';
import { makeFolders } from './folders.js';
import { readInputText } from './input-file.js';

export const LOCK_FILE = '.mediacompose.lock';
/** What the lock file says about the build that holds it. */
interface LockOwner {
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

export class FolderLock {
  private constructor(
    /** The folder locked. */
    readonly folder: string,
    readonly file: string,
    private readonly content: string,
    /** The outermost folder this lock created for the medium, removed again if left empty. */
    private readonly createdFolder: string | undefined,
  ) {
    this.unregister = onCleanup(() => this.release());
  }

  private readonly unregister: () => void;
  private released = false;

  /**
   * Takes the folder's lock, creating the folder if needed. A lock whose holder no longer runs
   * is taken over (`note` says so); a live one is an OutputError (exit 4).
   */
  static acquire(folder: string, noun: string, note: (message: string) => void = () => {}): FolderLock {
    const file = path.join(folder, LOCK_FILE);
    let createdFolder: string | undefined;
    try {
      createdFolder = makeFolders(folder);
    } catch (err) {
      throw new OutputError(folder, `cannot create the ${noun} folder: ${describeSystemError(err)}`, 'check the path and its permissions');
    }
    const content = `${JSON.stringify(currentOwner())}\n`;
    // A few rounds at most: each round either takes the lock, refuses, or removes a stale lock.
    for (let round = 0; round < 5; round++) {
      if (createExclusive(file, content, noun)) return new FolderLock(folder, file, content, createdFolder);
      const held = readLock(file);
      if (held === undefined) continue; // released meanwhile: try again
      const verdict = judgeLock(held, file);
      if (verdict.live) throw refusal(verdict.owner, file, noun);
      if (removeStaleLock(file, held.text)) note(`took over the lock of ${verdict.why} (${file})`);
    }
    throw new OutputError(file, 'cannot take the lock: other builds keep taking it', 'try again');
  }

  /** Removes the lock file if it is still this build's (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.unregister();
    try {
      if (readInputText(this.file, 'lock', 'none') === this.content) fs.unlinkSync(this.file);
    } catch {
      // Already gone, or the folder went away: nothing left to release.
    }
    this.removeCreatedFolders();
  }

  /** A command that failed before writing anything leaves no empty folder behind. */
  private removeCreatedFolders(): void {
    if (this.createdFolder === undefined) return;
    const top = path.resolve(this.createdFolder);
    for (let dir = path.resolve(this.folder); ; dir = path.dirname(dir)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        return; // not empty (a medium was written) or not ours
      }
      if (dir === top || dir === path.dirname(dir)) return;
    }
  }
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
function createExclusive(file: string, content: string, noun: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new OutputError(path.dirname(file), `cannot lock the ${noun}: ${describeSystemError(err)}`, lockHint(err, noun));
  }
  try {
    fs.writeSync(fd, content);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw new OutputError(path.dirname(file), `cannot lock the ${noun}: ${describeSystemError(err)}`, lockHint(err, noun));
  }
  fs.closeSync(fd);
  return true;
}

function lockHint(err: unknown, noun: string): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EROFS': return `the ${noun} is on a read-only file system; choose a writable ${noun} folder`;
    case 'ENOSPC': return 'free space on that file system';
    default: return `check the ${noun} folder and its permissions`;
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
    const text = readInputText(file, 'lock', 'none');
    const age = Date.now() - fs.statSync(file).mtimeMs;
    return { text, owner: parseOwner(text), age };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof InputError) throw err;
    throw new OutputError(file, `cannot read the lock: ${describeSystemError(err)}`, 'check the folder and its permissions');
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
 * For read-only commands: the error to report when a live command holds the folder's lock (a
 * build may swap images/ while they read), undefined when none does.
 */
export function lockHolderError(folder: string, noun: string): InputError | undefined {
  const file = path.join(folder, LOCK_FILE);
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
  return new InputError(folder, `a build is writing this ${noun}${who}`, 'wait for it to finish, then run this again');
}

function refusal(owner: LockOwner | undefined, file: string, noun: string): OutputError {
  if (owner === undefined) {
    return new OutputError(path.dirname(file), `another build is writing this ${noun} (its lock file is being written)`, `wait for it; if no build runs, remove ${file}`);
  }
  const where = owner.host === os.hostname() ? '' : ` on host ${owner.host}`;
  return new OutputError(
    path.dirname(file),
    `another build is writing this ${noun} (pid ${owner.pid}${where}, started ${owner.started})`,
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
    throw new OutputError(file, `cannot remove a stale lock: ${describeSystemError(err)}`, 'check the folder and its permissions');
  }
  const moved = readInputText(aside, 'lock', 'none');
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

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses), from field 3 (the state) on. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat: the start time in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/**
 * Whether the process exists and is not a zombie: a process killed (SIGKILL) stays a zombie
 * (state Z) until its parent reaps it, and holds nothing meanwhile.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = procStat(pid)?.[0];
  return state !== 'Z' && state !== 'X';
}
