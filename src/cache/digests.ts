/**
 * Content digests for the cache keys, taken in a worker thread in the order asked for: the
 * build asks for its images largest first, so the first image's key is ready after digesting
 * that image alone, and the others are digested while it compresses.
 */
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { Member } from '../plan/plan.js';
import type { DigestReply, DigestRequest } from './digest-worker.js';
import { hasContent } from './key.js';

export class ContentDigests {
  private worker: Worker | undefined;
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
    const reply = await this.ask(todo.map((i) => [members[i]!.root, members[i]!.entry.path, members[i]!.entry.size] as const));
    if ('error' in reply) throw new InputError(reply.error.file, reply.error.what, reply.error.hint);
    this.seconds += reply.seconds;
    const out = [...members];
    todo.forEach((memberIndex, k) => {
      this.bytes += members[memberIndex]!.entry.size;
      out[memberIndex] = { ...members[memberIndex]!, digest: reply.digests[k]! };
    });
    return out;
  }

  private ask(files: DigestRequest['files']): Promise<DigestReply> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, files } satisfies DigestRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./digest-worker.js', import.meta.url));
    worker.on('message', (reply: DigestReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      w?.resolve(reply);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new Error('the digest worker stopped')));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
  }
}
