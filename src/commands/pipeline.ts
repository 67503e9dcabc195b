/**
 * The one build pipeline: scan the roots, check them, plan, turn the plan into image jobs (each
 * with its file name and exact tar bytes), produce the images (from the image cache or
 * compressed, within one thread budget) into a destination, and let the destination finish. A
 * medium build and a shard build are this pipeline with different destinations (build.ts).
 */
import os from 'node:os';
import { FileDigestMemo } from '../cache/file-digests.js';
import { ImageCache } from '../cache/store.js';
import type { ComposeSpec } from '../config/spec.js';
import { FORMATS, archiveFileName } from '../formats/registry.js';
import { missingDatabaseWarnings } from '../pkgdb/presence.js';
import { type ImagesetScan, type MediumPlan, planMedium } from '../plan/plan.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import { sampleMemory } from '../runtime/memory.js';
import type { Progress } from '../runtime/progress.js';
import { ContentDigests } from '../scan/digests.js';
import { ATTRIBUTES_NOT_CHECKED, attributeWarnings, canCheckAttributes, readRootAttributes } from '../scan/xattrs.js';
import type { ImageJob } from '../schedule/order.js';
import { type Produced, produceImages } from '../schedule/produce.js';
import type { ShardSpec } from '../schedule/shard.js';
import { StrictWarnings, warnAll } from '../runtime/warnings.js';
import { scanRoots } from './scan-roots.js';

export interface PipelineOptions {
  /** Encoder threads of all images at once (at most the available cores, which is the default). */
  readonly jobs?: number;
  /** The image cache: its folder and size bound; absent: every image is compressed. */
  readonly cache?: { readonly folder: string; readonly maxBytes: number };
  readonly progress: Progress;
  /** Warnings about the roots (what the installer cannot restore) fail the build, exit 3. */
  readonly strict?: boolean;
}

export interface Timings {
  scan: number;
  plan: number;
  write: number;
  tar: number;
  digest: number;
  /** Flushing the new images to disk before and after the swap. */
  sync: number;
}

/** Reading content for digests: what was read, and how many files were not (unchanged since an earlier build). */
export interface DigestFigures {
  readonly bytesRead: number;
  readonly filesRemembered: number;
}

/** What the pipeline knows once the plan is made. */
interface PlannedRun {
  readonly spec: ComposeSpec;
  readonly scans: readonly ImagesetScan[];
  readonly plan: MediumPlan;
  readonly report: PlanReport;
  /** The plan's images in plan order, each with its file name and tar bytes. */
  readonly jobs: readonly ImageJob[];
  /** An image's file name from its stem: the one namer of the build. */
  readonly fileOf: (stem: string) => string;
  readonly timings: Timings;
  /** The thread budget. */
  readonly threads: number;
  readonly cache: ImageCache | undefined;
}

/** What the pipeline hands the destination at the end. */
interface ProducedRun extends PlannedRun {
  readonly produced: Produced;
  readonly seconds: number;
  readonly digests: DigestFigures;
  readonly peakMemory: number;
}

/** Where the images go. */
export interface Destination<T> {
  /** After the plan: the folder the archives are written into; undefined: the image cache alone (a shard). */
  open(run: PlannedRun): Promise<string | undefined>;
  /** Every image is produced. */
  finish(run: ProducedRun): Promise<T>;
  /** Last, whatever happened. */
  close(): void;
  /** Produce only this shard's images. */
  readonly shard?: ShardSpec;
}

export async function runPipeline<T>(spec: ComposeSpec, options: PipelineOptions, destination: Destination<T>): Promise<T> {
  const started = Date.now();
  const peakMemory = sampleMemory();
  const { progress } = options;
  const threads = threadBudget(options.jobs);
  const cache = options.cache ? ImageCache.open(options.cache.folder, options.cache.maxBytes, (note) => progress.warn(note, 'MC-W-CACHE')) : undefined;
  return withDigests(cache, progress, async (digests) => {
    const fileOf = (stem: string): string => archiveFileName(stem, spec.compression);
    const timings: Timings = { scan: 0, plan: 0, write: 0, tar: 0, digest: 0, sync: 0 };
    const { scans, plan } = await scanAndPlan(spec, digests, options, timings);
    const report = reportPlan(plan, scans, fileOf);
    const jobs = plan.images.map((image, k) => ({ stem: image.stem, file: fileOf(image.stem), tarBytes: report.images[k]!.bytes, members: image.members }));
    const planned: PlannedRun = { spec, scans, plan, report, jobs, fileOf, timings, threads, cache };
    try {
      const folder = await destination.open(planned);
      const produced = await timed(timings, 'write', () =>
        produceImages(jobs, folder, { format: FORMATS[spec.compression], level: spec.level, threads, progress, cache, digests, ...(destination.shard ? { shard: destination.shard } : {}) }),
      );
      timings.tar = [...produced.images.values()].reduce((n, w) => n + w.tarSeconds, 0);
      timings.digest = digests.seconds;
      const figures = { bytesRead: digests.bytes, filesRemembered: digests.remembered };
      return await destination.finish({ ...planned, produced, seconds: (Date.now() - started) / 1000, digests: figures, peakMemory: peakMemory() });
    } finally {
      destination.close();
    }
  });
}

/** `--jobs` as a thread budget: more encoder threads than cores add memory, not speed. */
function threadBudget(jobs: number | undefined): number {
  const cores = os.availableParallelism();
  return Math.max(1, Math.min(jobs ?? cores, cores));
}

/**
 * Content digests for a build: with a cache, files unchanged since an earlier build on this host
 * are not read again (cache/file-digests.ts). Opened just before the scan, which the memo's
 * rule for recently changed files needs.
 */
async function withDigests<T>(cache: ImageCache | undefined, progress: Progress, work: (digests: ContentDigests) => Promise<T>): Promise<T> {
  const memo = cache ? FileDigestMemo.open(cache.folder, (note) => progress.warn(note, 'MC-W-CACHE')) : undefined;
  const digests = new ContentDigests(memo);
  try {
    return await work(digests);
  } finally {
    digests.close();
    // What was digested is true whether or not the build went on to succeed.
    memo?.save();
  }
}

/** Scan, compare, check the roots (--strict makes their warnings errors) and plan. */
async function scanAndPlan(spec: ComposeSpec, digests: ContentDigests, options: PipelineOptions, timings: Timings): Promise<{ scans: ImagesetScan[]; plan: MediumPlan }> {
  const rootWarnings = new StrictWarnings(options.progress, 'about the roots');
  const scans = await timed(timings, 'scan', () => scanRoots(spec, digests, rootWarnings));
  await checkAttributes(spec, rootWarnings);
  warnAll(rootWarnings, await missingDatabaseWarnings(spec.imagesets));
  if (options.strict) rootWarnings.enforce(spec.file, 'fix the roots as the warnings say, or build without --strict');
  const plan = timed(timings, 'plan', () => planMedium(spec, scans));
  return { scans, plan };
}

/** Warns about what the installer's tar cannot restore: extended attributes and ACLs. */
async function checkAttributes(spec: ComposeSpec, progress: Progress): Promise<void> {
  if (!spec.checkAttributes) return;
  if (!canCheckAttributes()) {
    warnAll(progress, [ATTRIBUTES_NOT_CHECKED]);
    return;
  }
  const roots = [...new Set(spec.imagesets.map((s) => s.root))];
  for (const checked of await Promise.all(roots.map(readRootAttributes))) {
    warnAll(progress, attributeWarnings(checked));
  }
}

/** Runs a step and adds its seconds to `timings[name]` (also for a step that returns a promise). */
function timed<T>(timings: Timings, name: keyof Timings, step: () => T): T {
  const started = performance.now();
  const add = (): void => {
    timings[name] += (performance.now() - started) / 1000;
  };
  const result = step();
  if (result instanceof Promise) return result.finally(add) as T;
  add();
  return result;
}
