/**
 * The build, as a short list of steps: load compose.yaml, prepare the roots of imagesets that
 * name none (stage 1, src/prepare/), scan the roots, compare contents where metadata matches,
 * plan the images, produce them (from the image cache or compressed, staged), write the XML,
 * swap the staged images folder into place. `buildShard` stops after producing one shard's
 * images into the cache.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { type Encoder, FORMATS } from '../formats/registry.js';
import { IMAGES_XML } from '../model/names.js';
import { archiveFileName } from '../formats/registry.js';
import { FileDigestMemo } from '../cache/file-digests.js';
import { type CacheReport, ImageCache } from '../cache/store.js';
import { type ChecksumsStep, NO_KEY_WARNING, prepareChecksums, writeChecksums } from '../checksums/medium.js';
import { loadCompose } from '../config/load.js';
import type { ComposeOverrides } from '../config/overrides.js';
import { type ComposeSpec } from '../config/spec.js';
import { BudgetError, InputError, OutputError, describeSystemError } from '../errors.js';
import { type DetailsImage, type ImagesXmlImageset, detailsXml, imagesXml } from '../manifest/xml.js';
import { Staging, lockMedium } from '../medium/staging.js';
import type { FolderLock } from '../runtime/folder-lock.js';
import { plannedImageRpms, readRootOwners } from '../pkgdb/owners.js';
import { missingDatabaseWarnings } from '../pkgdb/presence.js';
import { type ImagesetScan, type MediumPlan, type PlannedImage, planMedium } from '../plan/plan.js';
import { checkBudget, describeOverBudget, fileWarning } from '../plan/budget.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import { type PrepareResult, prepareRoots } from '../prepare/prepare.js';
import { sampleMemory } from '../runtime/memory.js';
import type { Progress } from '../runtime/progress.js';
import { scanRoots } from './scan-roots.js';
import { ContentDigests } from '../scan/digests.js';
import { type ProducedImage, produceImages } from '../schedule/produce.js';
import type { ShardSpec } from '../schedule/shard.js';
import { ATTRIBUTES_NOT_CHECKED, attributeWarnings, canCheckAttributes, readRootAttributes } from '../scan/xattrs.js';

export interface BuildOptions extends ComposeOverrides {
  /** Encoder threads of all images at once (at most the available cores, which is the default). */
  readonly jobs?: number;
  /** The image cache: its folder and size bound; absent: every image is compressed. */
  readonly cache?: { readonly folder: string; readonly maxBytes: number };
  /** Compress only this shard's images into the cache; no medium is written. */
  readonly shard?: ShardSpec;
  readonly progress: Progress;
  /** Warnings about the roots (what the installer cannot restore) fail the build, exit 3. */
  readonly strict?: boolean;
  /** gpg key for the checksum list; overrides compose.yaml's checksums: key:. */
  readonly signKey?: string;
}

interface BuiltImage {
  readonly file: string;
  readonly kind: PlannedImage['kind'];
  readonly arch: string;
  readonly imagesets: readonly string[];
  readonly size: number;
  readonly files: number;
  readonly compressedSize: number;
  /** Taken from the image cache instead of compressed. */
  readonly cached: boolean;
}

export interface BuildResult {
  readonly medium: string;
  readonly images: readonly BuiltImage[];
  readonly imagesets: ReadonlyArray<{ name: string; arch: string; images: readonly string[] }>;
  readonly seconds: number;
  /** What the plan shares, stores twice and saves (as `plan` prints it). */
  readonly plan: PlanReport;
  /** The roots prepared from repositories before the build, or reused (empty when none). */
  readonly prepared: PrepareResult['roots'];
  /**
   * Where the time went, in seconds; `tar` (producing tar streams) overlaps with compression;
   * `digest` is the time of the digest workers (scan/digests.ts), for the comparison (within
   * `scan`) and the cache keys (overlapped with compression).
   */
  readonly timings: Timings;
  /** What compressed the images, e.g. { name: 'xz', version: '5.4.1' }. */
  readonly encoder: Encoder;
  /** Encoder threads allowed at once, and the most used at once. */
  readonly threads: { budget: number; peak: number };
  /** The image cache's figures for this build; null with --no-cache. */
  readonly cache: CacheReport | null;
  readonly digests: DigestFigures;
  /** Peak resident memory of the build and its compressors together, in bytes (runtime/memory.ts). */
  readonly peakMemory: number;
}

/** Reading content for digests: what was read, and how many files were not (unchanged since an earlier build). */
interface DigestFigures {
  readonly bytesRead: number;
  readonly filesRemembered: number;
}

interface Timings {
  scan: number;
  plan: number;
  write: number;
  tar: number;
  digest: number;
  /** Flushing the new images to disk before and after the swap. */
  sync: number;
}

/** What `build --shard K/N` did: the shard's images, now in the cache. */
export interface ShardResult {
  readonly shard: ShardSpec;
  readonly images: ReadonlyArray<{ file: string; size: number; compressedSize: number; cached: boolean }>;
  readonly seconds: number;
  readonly timings: Timings;
  readonly threads: { budget: number; peak: number };
  readonly cache: CacheReport;
  readonly digests: DigestFigures;
  readonly peakMemory: number;
}

/** `--jobs` as a thread budget: more encoder threads than cores add memory, not speed. */
function threadBudget(jobs: number | undefined): number {
  const cores = os.availableParallelism();
  return Math.max(1, Math.min(jobs ?? cores, cores));
}

function openCache(options: BuildOptions): ImageCache | undefined {
  return options.cache ? ImageCache.open(options.cache.folder, options.cache.maxBytes, (note) => options.progress.warn(note)) : undefined;
}

/**
 * Content digests for a build: with a cache, files unchanged since an earlier build on this host
 * are not read again (cache/file-digests.ts). Opened just before the scan, which the memo's
 * rule for recently changed files needs.
 */
async function withDigests<T>(cache: ImageCache | undefined, progress: Progress, work: (digests: ContentDigests) => Promise<T>): Promise<T> {
  const memo = cache ? FileDigestMemo.open(cache.folder, (note) => progress.warn(note)) : undefined;
  const digests = new ContentDigests(memo);
  try {
    return await work(digests);
  } finally {
    digests.close();
    // What was digested is true whether or not the build went on to succeed.
    memo?.save();
  }
}

function digestFigures(digests: ContentDigests): DigestFigures {
  return { bytesRead: digests.bytes, filesRemembered: digests.remembered };
}


/**
 * `build --shard K/N`: scans and plans like a build, then compresses the images of shard K that
 * the cache does not hold yet, into the cache. Takes no lock on the medium and writes nothing
 * there: N of these run at once, on one host or several.
 */
export async function buildShard(composeFile: string, options: BuildOptions & { shard: ShardSpec }): Promise<ShardResult> {
  const started = Date.now();
  const peakMemory = sampleMemory();
  const spec = loadCompose(composeFile, options);
  const cache = openCache(options)!;
  // Stage 1, when imagesets name no root: each worker needs the roots.
  await prepareRoots(spec, options.progress);
  const fileOf = fileNamer(spec);
  const threads = threadBudget(options.jobs);
  const { produced, timings, figures } = await withDigests(cache, options.progress, async (digests) => {
    const { plan, report, timings } = await scanAndPlan(spec, digests, options);
    const produced = await timed(timings, 'write', () =>
      produceImages(plan.images, undefined, {
        format: FORMATS[spec.compression], level: spec.level, threads, progress: options.progress,
        tarBytes: new Map(report.images.map((i, k) => [plan.images[k]!.stem, i.bytes])), fileOf, cache, digests, shard: options.shard,
      }),
    );
    timings.digest = digests.seconds;
    return { produced, timings, figures: digestFigures(digests) };
  });
  timings.tar = [...produced.images.values()].reduce((n, w) => n + w.tarSeconds, 0);
  options.progress.info(`shard ${options.shard.index}/${options.shard.count}: ${produced.images.size} images in the image cache ${cache.entries}`);
  return {
    shard: options.shard,
    images: produced.order.map((stem) => {
      const p = produced.images.get(stem)!;
      return { file: fileOf(stem), size: p.size, compressedSize: p.compressedSize, cached: p.cached };
    }),
    seconds: (Date.now() - started) / 1000,
    timings,
    threads: { budget: threads, peak: produced.peakThreads },
    cache: cache.report,
    digests: figures,
    peakMemory: peakMemory(),
  };
}

function fileNamer(spec: ComposeSpec): (stem: string) => string {
  return (stem) => archiveFileName(stem, spec.compression);
}

/** Scan, compare, check attributes and plan: what every build and shard build does first. */
async function scanAndPlan(
  spec: ComposeSpec,
  digests: ContentDigests,
  options: BuildOptions,
): Promise<{ scans: ImagesetScan[]; plan: MediumPlan; report: PlanReport; timings: Timings }> {
  const timings: Timings = { scan: 0, plan: 0, write: 0, tar: 0, digest: 0, sync: 0 };
  const rootWarnings = countingWarnings(options.progress);
  const scans = await timed(timings, 'scan', () => scanRoots(spec, digests, rootWarnings));
  await checkAttributes(spec, rootWarnings);
  for (const warning of await missingDatabaseWarnings(spec.imagesets)) rootWarnings.warn(warning);
  if (options.strict && rootWarnings.count > 0) throw strictFailure(spec.file, rootWarnings);
  const plan = timed(timings, 'plan', () => planMedium(spec, scans));
  const report = reportPlan(plan, scans, fileNamer(spec));
  return { scans, plan, report, timings };
}

export async function build(composeFile: string, options: BuildOptions): Promise<BuildResult> {
  const spec = loadCompose(composeFile, options);
  // The signing key is checked before roots are prepared, scanned or compressed.
  const checksums = await prepareChecksums(spec.file, spec.medium, spec.checksums, options.signKey, options.progress);
  // Stage 1, when imagesets name no root: install or reuse them (before the medium is locked).
  const prepared = await prepareRoots(spec, options.progress);
  // One build at a time per medium, from before the scan until the new images are in place.
  const lock = lockMedium(spec.medium, (note) => options.progress.warn(note));
  try {
    return { ...(await buildMedium(spec, lock, checksums, options)), prepared: prepared.roots };
  } finally {
    lock.release();
  }
}

async function buildMedium(spec: ComposeSpec, lock: FolderLock, checksums: ChecksumsStep, options: BuildOptions): Promise<Omit<BuildResult, 'prepared'>> {
  const started = Date.now();
  const peakMemory = sampleMemory();
  const { progress } = options;
  const threads = threadBudget(options.jobs);
  const cache = openCache(options);
  return withDigests(cache, progress, async (digests) => {
    const { plan, report, timings } = await scanAndPlan(spec, digests, options);
    const fileOf = fileNamer(spec);
    const owners = await readRootOwners(spec.imagesets.map((s) => s.root), progress);

    const staging = Staging.create(lock);
    try {
      const tarBytes = new Map(report.images.map((i, k) => [plan.images[k]!.stem, i.bytes]));
      const produced = await timed(timings, 'write', () =>
        produceImages(plan.images, staging.images, { format: FORMATS[spec.compression], level: spec.level, threads, progress, tarBytes, fileOf, cache, digests }),
      );
      const written = produced.images;
      timings.tar = [...written.values()].reduce((n, w) => n + w.tarSeconds, 0);
      timings.digest = digests.seconds;
      writeXml(plan, written, staging.images, fileOf, (image) => plannedImageRpms(image, plan, owners));
      const moves = await writeChecksums(checksums, staging.images, spec.medium, path.dirname(staging.images));
      // After the lists: the budget is for the whole images/ folder as it will be.
      enforceBudget(spec, staging.images, progress);
      timings.sync = staging.commit(moves);
      if (checksums.warnUnsigned) progress.warn(NO_KEY_WARNING);
      progress.info(`medium written: ${path.join(spec.medium, 'images')} (flushed to disk in ${timings.sync.toFixed(2)}s)`);
      return {
        medium: spec.medium,
        images: plan.images.map((image) => {
          const w = written.get(image.stem)!;
          return {
            file: fileOf(image.stem),
            kind: image.kind,
            arch: image.arch,
            imagesets: image.imagesets,
            size: w.size,
            files: w.files,
            compressedSize: w.compressedSize,
            cached: w.cached,
          };
        }),
        imagesets: plan.imagesets.map((s) => ({ name: s.spec.name, arch: s.spec.arch, images: s.images.map(fileOf) })),
        seconds: (Date.now() - started) / 1000,
        plan: report,
        timings,
        encoder: FORMATS[spec.compression].encoder(),
        threads: { budget: threads, peak: produced.peakThreads },
        cache: cache?.report ?? null,
        digests: digestFigures(digests),
        peakMemory: peakMemory(),
      };
    } finally {
      staging.discard();
    }
  });
}

/**
 * Checks the staged images folder against compose.yaml's budget before it replaces the previous
 * medium: over budget, the staging is discarded (the previous medium stays as it was) and the
 * error names the largest archives and how far over they are.
 */
function enforceBudget(spec: ComposeSpec, folder: string, progress: Progress): void {
  const files = fs.readdirSync(folder).map((file) => ({ file, bytes: fs.statSync(path.join(folder, file)).size }));
  const extension = `.${FORMATS[spec.compression].extension}`;
  const archives = files.filter((f) => f.file.endsWith(extension));
  const check = checkBudget(spec.budget, archives, files.reduce((n, f) => n + f.bytes, 0));
  for (const f of check.filesWarned) progress.warn(fileWarning(f));
  const over = describeOverBudget(spec.budget, check, archives);
  if (over !== undefined) {
    throw new BudgetError(spec.file, `over budget: ${over}`, 'the previous medium is kept; drop packages from the roots, share more, or raise the budget (mediacompose plan estimates before compressing)');
  }
}

/** Warns about what the installer's tar cannot restore: extended attributes and ACLs. */
async function checkAttributes(spec: ComposeSpec, progress: Progress): Promise<void> {
  if (!spec.checkAttributes) return;
  if (!canCheckAttributes()) {
    progress.warn(ATTRIBUTES_NOT_CHECKED);
    return;
  }
  const roots = [...new Set(spec.imagesets.map((s) => s.root))];
  for (const checked of await Promise.all(roots.map(readRootAttributes))) {
    for (const warning of attributeWarnings(checked)) progress.warn(warning);
  }
}

/** Passes warnings on and counts them, for --strict. */
function countingWarnings(progress: Progress): Progress & { count: number; first?: string } {
  const counter: Progress & { count: number; first?: string } = {
    count: 0,
    info: (message) => progress.info(message),
    warn: (message) => {
      counter.count++;
      counter.first ??= message;
      progress.warn(message);
    },
  };
  return counter;
}

function strictFailure(composeFile: string, warnings: { count: number; first?: string }): InputError {
  const many = warnings.count === 1 ? '1 warning' : `${warnings.count} warnings`;
  return new InputError(
    composeFile,
    `--strict: ${many} about the roots, the first: ${warnings.first}`,
    'fix the roots as the warnings say, or build without --strict',
  );
}

function writeXml(
  plan: MediumPlan,
  written: Map<string, ProducedImage>,
  folder: string,
  fileOf: (stem: string) => string,
  rpmsOf: (image: PlannedImage) => string[] | undefined,
): void {
  const images = new Map(plan.images.map((i) => [i.stem, i]));
  const sets: ImagesXmlImageset[] = plan.imagesets.map((set) => ({
    patterns: set.spec.patterns,
    arch: set.spec.arch,
    pkgImage: fileOf(set.pkgImage),
    images: set.images.map((stem) => ({ name: displayName(set.spec.title, images.get(stem)!), file: fileOf(stem) })),
  }));
  writeFile(path.join(folder, IMAGES_XML), imagesXml(sets));
  for (const arch of plan.archs) {
    const details: DetailsImage[] = plan.images
      .filter((i) => i.arch === arch)
      .map((i) => ({ file: fileOf(i.stem), files: written.get(i.stem)!.files, rpms: rpmsOf(i), size: written.get(i.stem)!.size }))
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    writeFile(path.join(folder, `details-${arch}.xml`), detailsXml(details));
  }
}

/** "<title> [<label>]" for shared images, "<title>" for the own image, "<title> [meta]". */
function displayName(title: string, image: PlannedImage): string {
  return image.kind === 'own' ? title : `${title} [${image.label}]`;
}

function writeFile(file: string, content: string): void {
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
  } catch (err) {
    throw new OutputError(file, `cannot write: ${describeSystemError(err)}`);
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
