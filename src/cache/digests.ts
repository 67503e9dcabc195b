/**
 * Content digests for the cache keys, taken in worker threads (two at most) in the order asked
 * for: the build asks for its images largest first, so the first image's key is ready after
 * digesting that image alone, and the others are digested while it compresses. Each request
 * goes to the worker with the fewest bytes still to read.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { Member } from '../model/member.js';
import type { DigestReply, DigestRequest } from './digest-worker.js';
import { hasContent } from './key.js';

interface DigestWorker {
  readonly worker: Worker;
  /** Bytes asked for and not yet answered. */
  pending: number;
}

const MAX_WORKERS = Math.min(2, os.availableParallelism());

export class ContentDigests {
  private readonly workers: DigestWorker[] = [];
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: DigestReply) => void; reject: (e: Error) => void }>();
  /** Seconds the worker spent digesting (overlapped with compression). */
  seconds = 0;
  /** Bytes digested by the worker. */
  bytes = 0;

  /**
   * The members with `digest` set on every one that has content. Digests the scan already took
   * are kept; the tar writer checks all of them again while archiving, so that content changed
   * after keying can never be stored under the key of the old content.
   */
  async withDigests(members: readonly Member[]): Promise<Member[]> {
    const todo: number[] = [];
    members.forEach((m, i) => {
      if (hasContent(m) && m.digest === undefined) todo.push(i);
    });
    if (todo.length === 0) return [...members];
    const bytes = todo.reduce((n, i) => n + members[i]!.entry.size, 0);
    const reply = await this.ask(todo.map((i) => [members[i]!.root, members[i]!.entry.path, members[i]!.entry.size] as const), bytes);
    if ('error' in reply) throw new InputError(reply.error.file, reply.error.what, reply.error.hint);
    this.seconds += reply.seconds;
    const out = [...members];
    todo.forEach((memberIndex, k) => {
      this.bytes += members[memberIndex]!.entry.size;
      out[memberIndex] = { ...members[memberIndex]!, digest: reply.digests[k]! };
    });
    return out;
  }

  /** sha256 of a whole file of `size` bytes (an archive), read in a worker. */
  async ofFile(file: string, size: number): Promise<string> {
    const reply = await this.ask([[path.dirname(file), path.basename(file), size]], size);
    if ('error' in reply) throw new InputError(reply.error.file, reply.error.what, reply.error.hint);
    return reply.digests[0]!;
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
