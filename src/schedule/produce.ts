/**
 * Producing a build's images: each one is taken from the image cache when it holds the image's
 * key, else compressed (and added to the cache). The encoder threads of all images at once stay
 * within one budget. For a shard build, only the shard's images are produced, into the cache
 * alone.
 *
 * Keys need a digest of every file's content. The digests are taken in worker threads in
 * compression order (largest image first), so only the first image waits for its own; the rest
 * are digested while it compresses. Files the memo remembers are not read at all. The same
 * workers check cached archives against their recorded digests.
 */
import path from 'node:path';
import { type CompressionFormat, encoderId } from '../formats/registry.js';
import { type WrittenImage, writeImage } from '../archive/image-writer.js';
import { imageKey } from '../cache/key.js';
import type { CachedImage, ImageCache } from '../cache/store.js';
import { MediaComposeError } from '../errors.js';
import type { Member } from '../model/member.js';
import { formatMB, secondsSince } from '../runtime/format.js';
import type { ImageMeter, Progress } from '../runtime/progress.js';
import type { ContentDigests } from '../scan/digests.js';
import { type ImageJob, compressionOrder } from './order.js';
import type { ShardSpec } from './shard.js';
import { ThreadBudget } from './threads.js';

export interface ProducedImage {
  readonly size: number;
  readonly files: number;
  readonly compressedSize: number;
  /** Taken from the image cache (not compressed by this build). */
  readonly cached: boolean;
  /** The image's cache key (absent without a cache). */
  readonly key?: string;
  /** Seconds producing its tar stream, overlapped with compression (0 for a cached image). */
  readonly tarSeconds: number;
}

export interface ProduceContext {
  readonly format: CompressionFormat;
  readonly level: number;
  /** The thread budget. */
  readonly threads: number;
  readonly progress: Progress;
  readonly cache?: ImageCache;
  /** Takes the content digests for the cache keys (and checks cached archives). */
  readonly digests: ContentDigests;
  /** Produce only this shard's images, into the cache; nothing goes to `folder`. */
  readonly shard?: ShardSpec;
}

export interface Produced {
  /** By stem; for a shard build only the shard's images. */
  readonly images: Map<string, ProducedImage>;
  /** Their stems in the order taken on: largest first. */
  readonly order: readonly string[];
  /** Most encoder threads at once. */
  readonly peakThreads: number;
}

export async function produceImages(jobs: readonly ImageJob[], folder: string | undefined, ctx: ProduceContext): Promise<Produced> {
  const { cache, progress } = ctx;
  const order = compressionOrder(jobs, ctx.shard);
  const encoding = { format: ctx.format.name, level: ctx.level, encoder: cache ? encoderId(ctx.format) : '' };
  const digests = cache ? ctx.digests : undefined;
  if (cache) cache.digester = (file, size) => ctx.digests.ofFile(file, size);
  // Asked for all at once, answered one after the other in this order.
  const keyed = order.map((image) =>
    digests ? digests.withDigests(image.members).then((members) => ({ members, key: imageKey(members, encoding) })) : Promise.resolve({ members: image.members as readonly Member[], key: undefined }),
  );
  // A failure elsewhere must not leave these rejected and unobserved.
  for (const k of keyed) k.catch(() => undefined);
  const budget = new ThreadBudget(ctx.threads);
  const produced = new Map<string, ProducedImage>();
  const wants = (image: ImageJob): number => ctx.format.usefulThreads(ctx.level, image.tarBytes);
  progress.compressionStarted?.({
    threads: budget.total,
    images: order.map((image) => ({
      file: image.file,
      bytes: image.tarBytes,
      threads: Math.min(wants(image), budget.total),
      ...(ctx.format.blockBytes ? { blockBytes: ctx.format.blockBytes(ctx.level) } : {}),
      holds: ctx.format.heldInput(ctx.level, Math.min(wants(image), budget.total)),
    })),
  });

  // Threads are asked for in `order` (its index is the image's turn), largest first, whatever
  // order the keys and cache look-ups finish in: a small image that asked first would leave a
  // large one a single thread for all of its compression.
  const one = async (image: ImageJob, turn: number): Promise<void> => {
    try {
      await produceOne(image, turn);
    } finally {
      budget.pass(turn);
    }
  };
  const produceOne = async (image: ImageJob, i: number): Promise<void> => {
    const file = image.file;
    const { members, key } = await keyed[i]!;
    const dest = folder ? path.join(folder, file) : undefined;
    if (cache && key) {
      const hit = await cache.take(key, dest);
      if (hit) {
        produced.set(image.stem, { size: hit.size, files: hit.files, compressedSize: hit.compressedSize, cached: true, key, tarSeconds: 0 });
        progress.info(`${dest ? 'took' : 'found'} ${file} in the image cache: ${formatMB(hit.size)} -> ${formatMB(hit.compressedSize)}`);
        progress.imageFinished?.(file, hit.compressedSize, true);
        return;
      }
    }
    const threads = await budget.acquireInTurn(i, wants(image));
    // Its own time: from when it got its threads, not from when it was queued.
    const t = Date.now();
    let written: WrittenImage;
    try {
      progress.imageStarted?.(file, threads);
      const options = { format: ctx.format, level: ctx.level, threads, onProgress: (meter: ImageMeter) => progress.imageProgress?.(file, meter) };
      if (dest) {
        written = await writeImage(members, dest, options);
        if (cache && key) await addToCache(cache, dest, key, ctx.format.name, written, progress);
      } else {
        const pending = cache!.begin();
        try {
          written = await writeImage(members, pending.archive, options);
          cache!.commit(pending, key!, ctx.format.name, written);
        } finally {
          cache!.discard(pending);
        }
      }
    } finally {
      budget.release(threads);
    }
    produced.set(image.stem, { size: written.size, files: written.files, compressedSize: written.compressedSize, cached: false, key, tarSeconds: written.tarSeconds });
    progress.info(`wrote ${file}${threads > 1 ? ` (${threads} threads)` : ''}: ${written.files} members, ${formatMB(written.size)} -> ${formatMB(written.compressedSize)} in ${secondsSince(t)}`);
    progress.imageFinished?.(file, written.compressedSize, false);
  };

  await Promise.all(order.map((image, i) => one(image, i)));
  cache?.evict(new Set([...produced.values()].map((p) => p.key!).filter(Boolean)));
  return { images: produced, order: order.map((i) => i.stem), peakThreads: budget.peak };
}

/** A full cache folder or disk does not fail the build: the medium is what was asked for. */
async function addToCache(cache: ImageCache, file: string, key: string, format: string, image: CachedImage, progress: Progress): Promise<void> {
  try {
    await cache.add(file, key, format, image);
  } catch (err) {
    const what = err instanceof MediaComposeError ? err.message : (err as Error).message;
    progress.warn(`not added to the image cache: ${what}`, 'MC-W-CACHE');
  }
}
