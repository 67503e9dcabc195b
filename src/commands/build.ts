/**
 * The build, as a short list of steps: load compose.yaml, prepare the roots of imagesets that
 * name none (stage 1, src/prepare/), then the pipeline (pipeline.ts: scan, compare, plan,
 * produce) into a destination: the medium (a staging folder, the XML, the checksum list, the
 * budget check, the swap) or, for `buildShard`, the image cache alone.
 */
import path from 'node:path';
import fs from 'node:fs';
import type { CacheReport } from '../cache/store.js';
import { type ChecksumsStep, NO_KEY_WARNING, prepareChecksums, writeChecksums } from '../checksums/medium.js';
import { loadCompose } from '../config/load.js';
import type { ComposeOverrides } from '../config/overrides.js';
import type { ComposeSpec } from '../config/spec.js';
import { BudgetError } from '../errors.js';
import { type Encoder, FORMATS } from '../formats/registry.js';
import { type DetailsImage, type ImagesXmlImageset, detailsXml, imagesXml } from '../manifest/xml.js';
import { Staging, lockMedium } from '../medium/staging.js';
import { IMAGES_XML } from '../model/names.js';
import { type PathOwners, plannedImageRpms, readRootOwners } from '../pkgdb/owners.js';
import { checkBudget, describeOverBudget, fileWarning } from '../plan/budget.js';
import type { MediumPlan, PlannedImage } from '../plan/plan.js';
import type { PlanReport } from '../plan/report.js';
import { type PrepareResult, prepareRoots } from '../prepare/prepare.js';
import type { FolderLock } from '../runtime/folder-lock.js';
import type { Progress } from '../runtime/progress.js';
import type { ProducedImage } from '../schedule/produce.js';
import type { ShardSpec } from '../schedule/shard.js';
import { writeOutput } from '../runtime/write-file.js';
import { type Destination, type DigestFigures, type PipelineOptions, type Timings, runPipeline } from './pipeline.js';

export interface BuildOptions extends ComposeOverrides, PipelineOptions {
  /** Compress only this shard's images into the cache; no medium is written. */
  readonly shard?: ShardSpec;
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

/**
 * `build --shard K/N`: scans and plans like a build, then compresses the images of shard K that
 * the cache does not hold yet, into the cache. Takes no lock on the medium and writes nothing
 * there: N of these run at once, on one host or several.
 */
export async function buildShard(composeFile: string, options: BuildOptions & { shard: ShardSpec }): Promise<ShardResult> {
  const spec = loadCompose(composeFile, options);
  // Stage 1, when imagesets name no root: each worker needs the roots.
  await prepareRoots(spec, options.progress);
  const { shard } = options;
  return runPipeline(spec, options, {
    shard,
    open: async () => undefined,
    close: () => undefined,
    finish: async (run) => {
      const cache = run.cache!;
      options.progress.info(`shard ${shard.index}/${shard.count}: ${run.produced.images.size} images in the image cache ${cache.entries}`);
      return {
        shard,
        images: run.produced.order.map((stem) => {
          const p = run.produced.images.get(stem)!;
          return { file: run.fileOf(stem), size: p.size, compressedSize: p.compressedSize, cached: p.cached };
        }),
        seconds: run.seconds,
        timings: run.timings,
        threads: { budget: run.threads, peak: run.produced.peakThreads },
        cache: cache.report,
        digests: run.digests,
        peakMemory: run.peakMemory,
      };
    },
  });
}

export async function build(composeFile: string, options: BuildOptions): Promise<BuildResult> {
  const spec = loadCompose(composeFile, options);
  // The signing key is checked before roots are prepared, scanned or compressed.
  const checksums = await prepareChecksums(spec.file, spec.medium, spec.checksums, options.signKey, options.progress);
  // Stage 1, when imagesets name no root: install or reuse them (before the medium is locked).
  const prepared = await prepareRoots(spec, options.progress);
  // One build at a time per medium, from before the scan until the new images are in place.
  const lock = lockMedium(spec.medium, (note) => options.progress.warn(note, 'MC-W-LOCK'));
  try {
    return { ...(await runPipeline(spec, options, mediumDestination(lock, checksums, options.progress))), prepared: prepared.roots };
  } finally {
    lock.release();
  }
}

/** The medium as the destination: a staging folder, then the XML, the checksum list, the budget check and the swap. */
function mediumDestination(lock: FolderLock, checksums: ChecksumsStep, progress: Progress): Destination<Omit<BuildResult, 'prepared'>> {
  let staging: Staging | undefined;
  let owners: Map<string, PathOwners> | undefined;
  return {
    open: async ({ spec }) => {
      owners = await readRootOwners(spec.imagesets.map((s) => s.root), progress);
      staging = Staging.create(lock);
      return staging.images;
    },
    close: () => staging?.discard(),
    finish: async (run) => {
      const { spec, plan, fileOf, timings } = run;
      const written = run.produced.images;
      const folder = staging!.images;
      writeXml(plan, written, folder, fileOf, (image) => plannedImageRpms(image, plan, owners!));
      const moves = await writeChecksums(checksums, folder, spec.medium, path.dirname(folder));
      // After the lists: the budget is for the whole images/ folder as it will be.
      enforceBudget(spec, folder, progress);
      timings.sync = staging!.commit(moves);
      if (checksums.warnUnsigned) progress.warn(NO_KEY_WARNING, 'MC-W-UNSIGNED');
      progress.info(`medium written: ${path.join(spec.medium, 'images')} (flushed to disk in ${timings.sync.toFixed(2)}s)`);
      return {
        medium: spec.medium,
        images: plan.images.map((image) => {
          const w = written.get(image.stem)!;
          return { file: fileOf(image.stem), kind: image.kind, arch: image.arch, imagesets: image.imagesets, size: w.size, files: w.files, compressedSize: w.compressedSize, cached: w.cached };
        }),
        imagesets: plan.imagesets.map((s) => ({ name: s.spec.name, arch: s.spec.arch, images: s.images.map(fileOf) })),
        seconds: run.seconds,
        plan: run.report,
        timings,
        encoder: FORMATS[spec.compression].encoder(),
        threads: { budget: run.threads, peak: run.produced.peakThreads },
        cache: run.cache?.report ?? null,
        digests: run.digests,
        peakMemory: run.peakMemory,
      };
    },
  };
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
  for (const f of check.filesWarned) progress.warn(fileWarning(f), 'MC-W-BUDGET');
  const over = describeOverBudget(spec.budget, check, archives);
  if (over !== undefined) {
    throw new BudgetError(spec.file, `over budget: ${over}`, 'the previous medium is kept; drop packages from the roots, share more, or raise the budget (mediacompose plan estimates before compressing)');
  }
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
  writeOutput(path.join(folder, IMAGES_XML), imagesXml(sets), { exclusive: true });
  for (const arch of plan.archs) {
    const details: DetailsImage[] = plan.images
      .filter((i) => i.arch === arch)
      .map((i) => ({ file: fileOf(i.stem), files: written.get(i.stem)!.files, rpms: rpmsOf(i), size: written.get(i.stem)!.size }))
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    writeOutput(path.join(folder, `details-${arch}.xml`), detailsXml(details), { exclusive: true });
  }
}

/** "<title> [<label>]" for shared images, "<title>" for the own image, "<title> [meta]". */
function displayName(title: string, image: PlannedImage): string {
  return image.kind === 'own' ? title : `${title} [${image.label}]`;
}
