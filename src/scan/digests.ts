/**
 * Content digests of the roots' files, taken in worker threads (two at most), for the scan's
 * comparison of files across roots and for the image cache's keys. The main thread only waits,
 * so SIGINT and SIGTERM are handled at once however large the files are.
 *
 * With a memo (cache/file-digests.ts), a file whose stamp is unchanged since an earlier build is
 * not read again: a rebuild of unchanged roots reads no content at all.
 *
 * Requests are answered in the order asked: the build asks for its images' keys largest first,
 * so the first image's key is ready after digesting that image alone, and the others are
 * digested while it compresses. Each batch goes to the worker with the fewest bytes to read.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { Entry, FileStamp } from '../model/entry.js';
import { type Member, hasContent } from '../model/member.js';
import type { DigestReply, DigestRequest } from './digest-worker.js';

/** Digests remembered across builds, by file stamp. */
export interface DigestMemo {
  /** Files whose digest it has given. */
  readonly reused: number;
  lookup(stamp: FileStamp): string | undefined;
  remember(stamp: FileStamp, digest: string): void;
}

interface DigestWorker {
  readonly worker: Worker;
  /** Bytes asked for and not yet answered. */
  pending: number;
}

const MAX_WORKERS = Math.min(2, os.availableParallelism());
/** A batch sent to one worker: small enough to spread a root over both. */
const BATCH_BYTES = 16 << 20;
const BATCH_FILES = 1024;

export class ContentDigests {
  private readonly workers: DigestWorker[] = [];
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: DigestReply) => void; reject: (e: Error) => void }>();
  /** Seconds the workers spent digesting. */
  seconds = 0;
  /** Bytes of the roots' files the workers read (not counting archives). */
  bytes = 0;
  constructor(private readonly memo?: DigestMemo) {}

  /** Files whose digest came from the memo (not read). */
  get remembered(): number {
    return this.memo?.reused ?? 0;
  }

  /** The sha256 of each of these regular files of `root`, in order. */
  async ofEntries(root: string, entries: readonly Entry[]): Promise<string[]> {
    const out = new Array<string>(entries.length);
    // Hardlinks of one file are read once.
    const firstOf = new Map<string, number>();
    const todo: number[] = [];
    const sameAs: Array<[number, number]> = [];
    entries.forEach((entry, i) => {
      const id = entry.stamp?.id ?? entry.inode;
      const first = id === undefined ? undefined : firstOf.get(id);
      if (first !== undefined) {
        sameAs.push([i, first]);
        return;
      }
      if (id !== undefined) firstOf.set(id, i);
      const known = entry.size === 0 ? EMPTY : entry.stamp && this.memo?.lookup(entry.stamp);
      if (known !== undefined) out[i] = known;
      else todo.push(i);
    });
    const batches: number[][] = [];
    let batch: number[] = [];
    let batchBytes = 0;
    for (const i of todo) {
      batch.push(i);
      batchBytes += entries[i]!.size;
      if (batchBytes >= BATCH_BYTES || batch.length >= BATCH_FILES) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) batches.push(batch);
    await Promise.all(
      batches.map(async (indexes) => {
        const digests = await this.read(indexes.map((i) => [root, entries[i]!.path, entries[i]!.size] as const));
        indexes.forEach((entryIndex, k) => {
          const entry = entries[entryIndex]!;
          out[entryIndex] = digests[k]!;
          if (entry.stamp) this.memo?.remember(entry.stamp, digests[k]!);
        });
      }),
    );
    for (const [i, first] of sameAs) out[i] = out[first]!;
    return out;
  }

  /**
   * The members with `digest` set on every one that has content. Digests the scan already took
   * are kept; the tar writer checks all of them again while archiving, so that content changed
   * after keying can never be stored under the key of the old content.
   */
  async withDigests(members: readonly Member[]): Promise<Member[]> {
    const out = [...members];
    const byRoot = new Map<string, number[]>();
    members.forEach((m, i) => {
      if (!hasContent(m) || m.digest !== undefined) return;
      const indexes = byRoot.get(m.root);
      if (indexes) indexes.push(i);
      else byRoot.set(m.root, [i]);
    });
    await Promise.all(
      [...byRoot].map(async ([root, indexes]) => {
        const digests = await this.ofEntries(root, indexes.map((i) => members[i]!.entry));
        indexes.forEach((memberIndex, k) => (out[memberIndex] = { ...members[memberIndex]!, digest: digests[k]! }));
      }),
    );
    return out;
  }

  /** sha256 of a whole file of `size` bytes (an archive), read in a worker. */
  async ofFile(file: string, size: number): Promise<string> {
    return (await this.read([[path.dirname(file), path.basename(file), size]], false))[0]!;
  }

  private async read(files: DigestRequest['files'], content = true): Promise<string[]> {
    const bytes = files.reduce((n, f) => n + f[2], 0);
    const reply = await this.ask(files, bytes);
    if ('error' in reply) throw new InputError(reply.error.file, reply.error.what, reply.error.hint);
    this.seconds += reply.seconds;
    if (content) this.bytes += bytes;
    return reply.digests;
  }

  private ask(files: DigestRequest['files'], bytes: number): Promise<DigestReply> {
    const target = this.pick();
    const id = this.nextId++;
    target.pending += bytes;
    return new Promise<DigestReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      target.worker.postMessage({ id, files } satisfies DigestRequest);
    }).finally(() => (target.pending -= bytes));
  }

  /** An idle worker, a new one while there may be more, else the least loaded. */
  private pick(): DigestWorker {
    const idle = this.workers.find((w) => w.pending === 0);
    if (idle) return idle;
    if (this.workers.length < MAX_WORKERS) {
      const worker = new Worker(new URL('./digest-worker.js', import.meta.url));
      worker.on('message', (reply: DigestReply) => {
        const w = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        w?.resolve(reply);
      });
      worker.on('error', (err) => this.failAll(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`a digest worker stopped (exit ${code})`));
      });
      const added = { worker, pending: 0 };
      this.workers.push(added);
      return added;
    }
    return this.workers.reduce((a, b) => (b.pending < a.pending ? b : a));
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  close(): void {
    for (const w of this.workers.splice(0)) void w.worker.terminate();
  }
}

/** sha256 of no bytes. */
const EMPTY = createHash('sha256').digest('hex');
