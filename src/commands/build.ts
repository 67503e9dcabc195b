/**
 * The build, as a short list of steps: load compose.yaml, prepare the roots of imagesets that
 * name none (stage 1, src/prepare/), scan the roots, compare contents where metadata matches,
 * plan the images, write and compress them (staged), write the XML, swap the staged images
 * folder into place.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pLimit from 'p-limit';
import { type Encoder, FORMATS } from '../archive/formats.js';
import { ARCHIVE_EXTENSIONS, IMAGES_XML, archiveFileName } from '../model/names.js';
import { type WrittenImage, writeImage } from '../archive/image-writer.js';
import { type ChecksumsStep, NO_KEY_WARNING, prepareChecksums, writeChecksums } from '../checksums/medium.js';
import { loadCompose } from '../config/load.js';
import { type ComposeOverrides, applyOverrides } from '../config/overrides.js';
import type { ComposeSpec } from '../config/spec.js';
import { BudgetError, InputError, OutputError, describeSystemError } from '../errors.js';
import { type DetailsImage, type ImagesXmlImageset, detailsXml, imagesXml } from '../manifest/xml.js';
import { MediumLock } from '../medium/lock.js';
import { Staging } from '../medium/staging.js';
import { plannedImageRpms, readRootOwners } from '../pkgdb/owners.js';
import { missingDatabaseWarnings } from '../pkgdb/presence.js';
import { type MediumPlan, type PlannedImage, planMedium } from '../plan/plan.js';
import { checkBudget, describeOverBudget, fileWarning } from '../plan/budget.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import { type PrepareResult, prepareRoots } from '../prepare/prepare.js';
import type { Progress } from '../runtime/progress.js';
import { formatMB, secondsSince } from '../runtime/format.js';
import { scanRoots } from './scan-roots.js';
import { ATTRIBUTES_NOT_CHECKED, attributeWarnings, canCheckAttributes, readRootAttributes } from '../scan/xattrs.js';

interface BuildOptions extends ComposeOverrides {
  /** Images compressed at once; also xz's thread count. */
  readonly jobs?: number;
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
  /** Where the time went, in seconds; `tar` is CPU time overlapped with compression. */
  readonly timings: { scan: number; plan: number; write: number; tar: number; sync: number };
  /** What compressed the images, e.g. { name: 'xz', version: '5.4.1' }. */
  readonly encoder: Encoder;
}

export async function build(composeFile: string, options: BuildOptions): Promise<BuildResult> {
  const spec = applyOverrides(loadCompose(composeFile), options);
  // The signing key is checked before roots are prepared, scanned or compressed.
  const checksums = await prepareChecksums(spec.file, spec.medium, spec.checksums, options.signKey, options.progress);
  // Stage 1, when imagesets name no root: install or reuse them (before the medium is locked).
  const prepared = await prepareRoots(spec, options.progress);
  // One build at a time per medium, from before the scan until the new images are in place.
  const lock = MediumLock.acquire(spec.medium, (note) => options.progress.warn(note));
  try {
    return { ...(await buildMedium(spec, lock, checksums, options)), prepared: prepared.roots };
  } finally {
    lock.release();
  }
}

async function buildMedium(spec: ComposeSpec, lock: MediumLock, checksums: ChecksumsStep, options: BuildOptions): Promise<Omit<BuildResult, 'prepared'>> {
  const started = Date.now();
  const { progress } = options;
  const jobs = Math.max(1, options.jobs ?? os.availableParallelism());

  const timings = { scan: 0, plan: 0, write: 0, tar: 0, sync: 0 };
  const rootWarnings = countingWarnings(progress);
  const scans = await timed(timings, 'scan', () => scanRoots(spec, rootWarnings));
  await checkAttributes(spec, rootWarnings);
  for (const warning of await missingDatabaseWarnings(spec.imagesets)) rootWarnings.warn(warning);
  if (options.strict && rootWarnings.count > 0) throw strictFailure(spec.file, rootWarnings);
  const plan = timed(timings, 'plan', () => planMedium(spec, scans));
  const fileOf = (stem: string): string => archiveFileName(stem, spec.compression);
  const report = reportPlan(plan, scans, fileOf);
  const owners = await readRootOwners(spec.imagesets.map((s) => s.root), progress);

  const staging = Staging.create(lock);
  try {
    const tarBytes = new Map(report.images.map((i) => [i.file, i.bytes]));
    const written = await timed(timings, 'write', () => writeImages(plan, staging.images, fileOf, { spec, jobs, progress, tarBytes }));
    timings.tar = [...written.values()].reduce((n, w) => n + w.tarSeconds, 0);
    writeXml(plan, written, staging.images, fileOf, (image) => plannedImageRpms(image, plan, owners));
    const afterSwap = await writeChecksums(checksums, staging.images, spec.medium, path.dirname(staging.images));
    // After the lists: the budget is for the whole images/ folder as it will be.
    enforceBudget(spec, staging.images, progress);
    timings.sync = staging.commit(afterSwap);
    if (!checksums.signer) progress.warn(NO_KEY_WARNING);
    progress.info(`medium written: ${path.join(spec.medium, 'images')} (flushed to disk in ${timings.sync.toFixed(2)}s)`);
    return {
      medium: spec.medium,
      images: plan.images.map((image) => ({
        file: fileOf(image.stem),
        kind: image.kind,
        arch: image.arch,
        imagesets: image.imagesets,
        ...written.get(image.stem)!,
      })),
      imagesets: plan.imagesets.map((s) => ({ name: s.spec.name, arch: s.spec.arch, images: s.images.map(fileOf) })),
      seconds: (Date.now() - started) / 1000,
      plan: report,
      timings,
      encoder: FORMATS[spec.compression].encoder(),
    };
  } finally {
    staging.discard();
  }
}

/**
 * Checks the staged images folder against compose.yaml's budget before it replaces the previous
 * medium: over budget, the staging is discarded (the previous medium stays as it was) and the
 * error names the largest archives and how far over they are.
 */
function enforceBudget(spec: ComposeSpec, folder: string, progress: Progress): void {
  const files = fs.readdirSync(folder).map((file) => ({ file, bytes: fs.statSync(path.join(folder, file)).size }));
  const extension = `.${ARCHIVE_EXTENSIONS[spec.compression]}`;
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

async function writeImages(
  plan: MediumPlan,
  folder: string,
  fileOf: (stem: string) => string,
  ctx: { spec: ComposeSpec; jobs: number; progress: Progress; tarBytes: ReadonlyMap<string, number> },
): Promise<Map<string, WrittenImage>> {
  const format = FORMATS[ctx.spec.compression];
  const limit = pLimit(ctx.jobs);
  const contentBytes = (image: PlannedImage): number => image.members.reduce((n, m) => n + m.entry.size, 0);
  // Largest first, so that the long compressions start early and small ones fill the gaps.
  const order = [...plan.images].sort((a, b) => contentBytes(b) - contentBytes(a) || (a.stem < b.stem ? -1 : 1));
  const written = new Map<string, WrittenImage>();
  // Renderers that draw bars need each image's size up front (the plan report knows it exactly).
  ctx.progress.compressionStarted?.(
    order.map((image) => ({ file: fileOf(image.stem), path: path.join(folder, fileOf(image.stem)), bytes: ctx.tarBytes.get(fileOf(image.stem))! })),
  );
  await Promise.all(
    order.map((image) =>
      limit(async () => {
        const t = Date.now();
        const file = fileOf(image.stem);
        ctx.progress.imageStarted?.(file);
        const result = await writeImage(image.members, path.join(folder, file), {
          format,
          level: ctx.spec.level,
          threads: ctx.jobs,
          onProgress: (bytes) => ctx.progress.imageBytes?.(file, bytes),
        });
        written.set(image.stem, result);
        ctx.progress.info(
          `wrote ${file}: ${result.files} members, ${formatMB(result.size)} -> ${formatMB(result.compressedSize)} in ${secondsSince(t)}`,
        );
        ctx.progress.imageFinished?.(file);
      }),
    ),
  );
  return written;
}

function writeXml(
  plan: MediumPlan,
  written: Map<string, WrittenImage>,
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
function timed<T>(timings: Record<string, number>, name: string, step: () => T): T {
  const started = performance.now();
  const add = (): void => {
    timings[name] = (timings[name] ?? 0) + (performance.now() - started) / 1000;
  };
  const result = step();
  if (result instanceof Promise) return result.finally(add) as T;
  add();
  return result;
}
