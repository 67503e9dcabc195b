/**
 * The build, as a short list of steps: load compose.yaml, scan the roots, compare contents where
 * metadata matches, plan the images, write and compress them (staged), write the XML, swap the
 * staged images folder into place.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pLimit from 'p-limit';
import { FORMATS } from './archive/compression.js';
import { type WrittenImage, writeImage } from './archive/image-writer.js';
import { loadCompose } from './config/load.js';
import type { ComposeSpec } from './config/spec.js';
import { OutputError, describeSystemError } from './errors.js';
import { type DetailsImage, type ImagesXmlImageset, detailsXml, imagesXml } from './manifest/xml.js';
import { Staging } from './medium.js';
import { type ImagesetScan, type MediumPlan, type PlannedImage, filesToCompare, planMedium } from './plan/plan.js';
import type { Progress } from './progress.js';
import { digestFile } from './scan/digest.js';
import type { BytePath } from './scan/entry.js';
import { type RootScan, scanRoot } from './scan/walk.js';

export interface BuildOptions {
  /** Images compressed at once; also xz's thread count. */
  readonly jobs?: number;
  readonly progress: Progress;
}

export interface BuiltImage {
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
}

export async function build(composeFile: string, options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { progress } = options;
  const jobs = Math.max(1, options.jobs ?? os.availableParallelism());

  const spec = loadCompose(composeFile);
  const scans = scanAndCompare(spec, progress);
  const plan = planMedium(spec, scans);

  const format = FORMATS[spec.compression];
  const fileOf = (stem: string): string => `${stem}.${format.extension}`;
  const staging = Staging.create(spec.medium);
  try {
    const written = await writeImages(plan, staging.images, fileOf, { spec, jobs, progress });
    writeXml(plan, written, staging.images, fileOf);
    staging.commit();
    progress.info(`medium written: ${path.join(spec.medium, 'images')}`);
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
    };
  } finally {
    staging.discard();
  }
}

/** Scans every root once, then digests the files whose path and metadata match another root's. */
export function scanAndCompare(spec: ComposeSpec, progress: Progress): ImagesetScan[] {
  const byRoot = new Map<string, RootScan>();
  for (const imageset of spec.imagesets) {
    if (byRoot.has(imageset.root)) continue;
    const t = Date.now();
    const scan = scanRoot(imageset.root);
    for (const w of scan.warnings) progress.warn(w);
    progress.info(`scanned ${imageset.rootAsWritten}: ${scan.entries.length} entries in ${seconds(t)}`);
    byRoot.set(imageset.root, scan);
  }
  const t = Date.now();
  const toCompare = filesToCompare(spec.imagesets.map((s) => ({ arch: s.arch, entries: byRoot.get(s.root)!.entries })));
  const digestsByRoot = new Map<string, Map<BytePath, string>>();
  let compared = 0;
  spec.imagesets.forEach((imageset, i) => {
    const digests = digestsByRoot.get(imageset.root) ?? new Map<BytePath, string>();
    digestsByRoot.set(imageset.root, digests);
    const byInode = new Map<string, string>();
    for (const entry of byRoot.get(imageset.root)!.entries) {
      if (!toCompare[i]!.has(entry.path) || digests.has(entry.path)) continue;
      let digest = entry.inode ? byInode.get(entry.inode) : undefined;
      if (digest === undefined) {
        digest = digestFile(imageset.root, entry);
        compared += entry.size;
        if (entry.inode) byInode.set(entry.inode, digest);
      }
      digests.set(entry.path, digest);
    }
  });
  progress.info(`compared ${(compared / 1e6).toFixed(1)} MB of content in ${seconds(t)}`);
  return spec.imagesets.map((imageset) => ({
    imageset,
    entries: byRoot.get(imageset.root)!.entries,
    digests: digestsByRoot.get(imageset.root)!,
  }));
}

async function writeImages(
  plan: MediumPlan,
  folder: string,
  fileOf: (stem: string) => string,
  ctx: { spec: ComposeSpec; jobs: number; progress: Progress },
): Promise<Map<string, WrittenImage>> {
  const format = FORMATS[ctx.spec.compression];
  const limit = pLimit(ctx.jobs);
  const contentBytes = (image: PlannedImage): number => image.members.reduce((n, m) => n + m.entry.size, 0);
  // Largest first, so that the long compressions start early and small ones fill the gaps.
  const order = [...plan.images].sort((a, b) => contentBytes(b) - contentBytes(a) || (a.stem < b.stem ? -1 : 1));
  const written = new Map<string, WrittenImage>();
  await Promise.all(
    order.map((image) =>
      limit(async () => {
        const t = Date.now();
        const file = fileOf(image.stem);
        const result = await writeImage(image.members, path.join(folder, file), {
          format,
          level: ctx.spec.level,
          threads: ctx.jobs,
        });
        written.set(image.stem, result);
        ctx.progress.info(
          `wrote ${file}: ${result.files} members, ${mb(result.size)} -> ${mb(result.compressedSize)} in ${seconds(t)}`,
        );
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
): void {
  const images = new Map(plan.images.map((i) => [i.stem, i]));
  const sets: ImagesXmlImageset[] = plan.imagesets.map((set) => ({
    patterns: set.spec.patterns,
    arch: set.spec.arch,
    pkgImage: fileOf(set.pkgImage),
    images: set.images.map((stem) => ({ name: displayName(set.spec.title, images.get(stem)!), file: fileOf(stem) })),
  }));
  writeFile(path.join(folder, 'images.xml'), imagesXml(sets));
  for (const arch of plan.archs) {
    const details: DetailsImage[] = plan.images
      .filter((i) => i.arch === arch)
      .map((i) => ({ file: fileOf(i.stem), files: written.get(i.stem)!.files, size: written.get(i.stem)!.size }))
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

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
