/**
 * What prepare does to a root's tree besides installing: the per-run state a signal must undo
 * (running children, staged roots), copying a tree as it is, SOURCE_DATE_EPOCH's clamp on mtimes,
 * and giving hardlinked metadata files an inode each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, OutputError } from '../errors.js';
import { runProgram } from '../runtime/command.js';

/**
 * One prepare run's children (zypper, cp) and staged roots: what its cleanup task ends and
 * removes when the run fails or a signal arrives.
 */
export class PrepareRun {
  private readonly stagings = new Set<string>();
  private readonly running = new Set<number>();

  /** The hooks a program run passes its pid to, so that discard() can end it. */
  readonly children = {
    onStart: (pid: number): void => void this.running.add(pid),
    onExit: (pid: number): void => void this.running.delete(pid),
  };

  /** A staging folder this run writes: removed by discard() unless committed first. */
  staged(folder: string): void {
    this.stagings.add(folder);
  }

  committed(folder: string): void {
    this.stagings.delete(folder);
  }

  /** Ends running zypper/cp children and removes staged roots (a cleanup task; idempotent). */
  discard(): void {
    for (const pid of this.running) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    this.running.clear();
    for (const stage of this.stagings) fs.rmSync(stage, { recursive: true, force: true });
    this.stagings.clear();
  }
}

/**
 * SOURCE_DATE_EPOCH, when set: the latest mtime a prepared root may hold. Files and folders
 * written while installing (zypper's state, the repository files, folders a package added to)
 * otherwise carry the time of the installation, so roots prepared at other times hold them
 * differently and share fewer of them, and a root prepared again differs where nothing changed.
 */
export function sourceDateEpoch(): number | undefined {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new InputError('SOURCE_DATE_EPOCH', `"${value}" is not a number of seconds since 1970`, 'set it to a whole number, e.g. SOURCE_DATE_EPOCH=$(date +%s), or unset it');
  return Number(value);
}

/** Every entry of `root` newer than `epoch` gets `epoch` as its mtime (links themselves, not their targets). */
export function clampMtimes(root: string, epoch: number): void {
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (fs.lstatSync(file).mtimeMs > epoch * 1000) fs.lutimesSync(file, epoch, epoch);
  }
  if (fs.lstatSync(root).mtimeMs > epoch * 1000) fs.utimesSync(root, epoch, epoch);
}

/**
 * libzypp hardlinks metadata from a dir:// repository on the same file system into the cache,
 * and touches the cached repomd.xml on every refresh: the repository's own file would change,
 * and a root whenever another root or the probe is refreshed. Each such file gets an inode of
 * its own (after the probe's refresh and after each installation).
 */
export function separateHardlinks(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = fs.statSync(file);
    if (stat.nlink < 2) continue;
    const copy = `${file}.mediacompose-copy`;
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, stat.mode & 0o7777);
    fs.chownSync(copy, stat.uid, stat.gid);
    fs.utimesSync(copy, stat.atime, stat.mtime);
    fs.renameSync(copy, file);
  }
}

/** `cp -a`: owners, modes, times, links, hardlinks and extended attributes as they are. */
export async function copyTree(from: string, to: string, run: PrepareRun): Promise<void> {
  const result = await runProgram(['cp', '-a', '--reflink=auto', '--', from, to], run.children);
  if (result.status !== 0) throw new OutputError(to, `cannot copy ${from}: ${result.stderr.trim().split('\n')[0] ?? ''}`, 'check free space in the roots folder');
}
