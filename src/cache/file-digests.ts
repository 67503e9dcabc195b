/**
 * Content digests remembered from one build to the next, so that a rebuild reads only the files
 * that changed. A digest is reused for a file whose stamp (device, inode, size, mtime and ctime
 * to the nanosecond; model/entry.ts) is the one it was recorded with.
 *
 * Why an unchanged stamp means unchanged content: the kernel sets ctime to the current time on
 * every change of a file's content or metadata, and no system call sets it to anything else.
 * The trap is a change within the same tick of the clock as the recorded ctime (git's "racy"
 * files): a digest is remembered only for a file whose ctime is at least RACY_MS before the
 * build started. Any change made after that start gets a later ctime, so it can never keep a
 * remembered stamp. (Bazel trusts the same stamp for the same reason; git compares the index
 * time the same way.) Setting the clock back could in theory repeat a ctime; `--no-cache`
 * reads everything.
 *
 * Stored in the cache folder, one file per host (device and inode numbers mean nothing on
 * another): `file-digests/<host>`. A header line carries the sha256 of the rest; a file that
 * does not match is ignored with a warning. Each build rewrites it whole (temporary file,
 * rename): the stamps it used, then older ones, at most max(MAX_KEPT, twice the used) in all.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeSystemError } from '../errors.js';
import type { FileStamp } from '../model/entry.js';
import { readInput } from '../runtime/input-file.js';
import type { DigestMemo } from '../scan/digests.js';

const FOLDER = 'file-digests';
const HEADER = 'mediacompose file digests 1';
/** A file changed less than this before the build started may still change within its ctime's tick. */
const RACY_MS = 2000;
const MAX_KEPT = 200_000;
const LINE = /^(\d+:\d+:\d+:-?\d+:-?\d+) ([0-9a-f]{64})$/;

export class FileDigestMemo implements DigestMemo {
  private readonly known = new Map<string, string>();
  private readonly used = new Map<string, string>();
  /** Files whose digest was reused. */
  reused = 0;

  private constructor(
    private readonly file: string,
    /** When this build started: only files changed RACY_MS before it are remembered. */
    private readonly startedMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** The memo of this host in `cacheFolder`; call before the roots are scanned. */
  static open(cacheFolder: string, warn: (message: string) => void): FileDigestMemo {
    const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
    const memo = new FileDigestMemo(path.join(cacheFolder, FOLDER, host), Date.now(), warn);
    memo.load();
    return memo;
  }

  private load(): void {
    let text: string;
    try {
      text = readInput(this.file, 'digestMemo', 'none').toString('latin1');
    } catch {
      return;
    }
    const newline = text.indexOf('\n');
    const body = text.slice(newline + 1);
    if (newline < 0 || text.slice(0, newline) !== `${HEADER} ${sha256(body)}`) {
      this.warn(`${this.file}: damaged (its checksum does not match): ignored, every file is read again`);
      return;
    }
    for (const line of body.split('\n')) {
      const m = LINE.exec(line);
      if (m) this.known.set(m[1]!, m[2]!);
    }
  }

  lookup(stamp: FileStamp): string | undefined {
    const digest = this.known.get(stamp.id);
    if (digest !== undefined) {
      this.reused++;
      this.used.set(stamp.id, digest);
    }
    return digest;
  }

  remember(stamp: FileStamp, digest: string): void {
    if (stamp.changedMs < this.startedMs - RACY_MS) this.used.set(stamp.id, digest);
  }

  /** Writes the memo back; a failure only costs the next build some reading (a warning). */
  save(): void {
    const lines: string[] = [];
    for (const [id, digest] of this.used) lines.push(`${id} ${digest}\n`);
    const limit = Math.max(MAX_KEPT, 2 * this.used.size);
    for (const [id, digest] of this.known) {
      if (lines.length >= limit) break;
      if (!this.used.has(id)) lines.push(`${id} ${digest}\n`);
    }
    const body = lines.join('');
    const temp = `${this.file}.tmp-${process.pid}`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(temp, `${HEADER} ${sha256(body)}\n${body}`, 'latin1');
      fs.renameSync(temp, this.file);
    } catch (err) {
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // Its folder could not be made: there is no temporary file.
      }
      this.warn(`${this.file}: not written (${describeSystemError(err)}): the next build reads every file again`);
    }
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'latin1').digest('hex');
}
