/**
 * Regenerating details-<arch>.xml from the archives a medium holds, for media whose archives
 * were repacked by hand (members dropped, another compression, another file name).
 *
 * For every archive images.xml lists: stream it (the format from its magic bytes), count its
 * members and measure the exact length of the uncompressed tar stream; its `<rpms>` come from
 * the package databases inside the metadata images of the imagesets that use it. The metadata
 * images are read first: their database files are written to a private temporary root, read
 * with readPackageDatabase, and removed. Nothing is written until every archive was read, and a
 * details file is replaced atomically (temporary name, then rename).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { type ArchiveTotals, readArchive } from '../archive/reader.js';
import { InputError, OutputError, describeSystemError } from '../errors.js';
import { type DetailsImage, detailsXml } from '../manifest/xml.js';
import { MediumLock } from '../medium/lock.js';
import { IMAGES_DIR, IMAGES_XML, detailsFileName } from '../model/names.js';
import { ImagePackages, type PathOwners, imageRpms } from '../pkgdb/owners.js';
import type { Progress } from '../runtime/progress.js';
import { type ListedImageset, archivesOfArch, chosenArchs, describeDifferences, readIfPresent, readImagesXml } from '../manifest/details-file.js';
import { type MetadataReading, memberPath, readMetadataImage } from '../pkgdb/extract.js';

interface DetailsOptions {
  /** Only this arch; every arch images.xml names when absent. */
  readonly arch?: string;
  /** Compare with the files on the medium; write nothing. */
  readonly check: boolean;
  readonly progress: Progress;
  /** Archives read at once (default: number of cores). */
  readonly jobs?: number;
}

export interface ArchDetails {
  readonly arch: string;
  /** Path of details-<arch>.xml. */
  readonly file: string;
  /** 'current': the file on the medium was right already; 'stale': it differs (--check);
   *  'written': it differed and was replaced. */
  readonly state: 'current' | 'stale' | 'written';
  /** What differs, one line per image and field, each starting with the details file's name. */
  readonly differences: readonly string[];
  readonly images: readonly DetailsImage[];
}

export async function regenerateDetails(medium: string, options: DetailsOptions): Promise<ArchDetails[]> {
  const folder = imagesFolder(medium);
  // Writing takes the medium's lock, as a build does: a build swapping images/ meanwhile would
  // leave the new details file in the folder it moves away.
  const lock = options.check ? undefined : MediumLock.acquire(path.dirname(folder), (note) => options.progress.info(note));
  try {
    return await detailsOfMedium(folder, options);
  } finally {
    lock?.release();
  }
}

async function detailsOfMedium(folder: string, options: DetailsOptions): Promise<ArchDetails[]> {
  const imagesets = readImagesXml(path.join(folder, IMAGES_XML));
  const archs = chosenArchs(imagesets, options.arch, path.join(folder, IMAGES_XML));
  const archivesOf = new Map(archs.map((arch) => [arch, archivesOfArch(imagesets, arch)]));
  const readings = await readArchives(
    folder,
    imagesets,
    [...new Set([...archivesOf.values()].flat())],
    { jobs: options.jobs ?? os.availableParallelism(), progress: options.progress },
  );

  const results = archs.map((arch) => {
    const file = path.join(folder, detailsFileName(arch));
    const images = archivesOf.get(arch)!.map((name) => ({ file: name, ...readings.get(name)! }));
    const xml = detailsXml(images);
    const onMedium = readIfPresent(file);
    const differences = onMedium === xml ? [] : describeDifferences(path.basename(file), onMedium, images);
    return { arch, file, images, xml, differences, current: onMedium === xml };
  });

  // Written only after every archive was read: an unreadable one leaves all details untouched.
  return results.map(({ arch, file, images, xml, differences, current }) => {
    if (current) return { arch, file, images, differences, state: 'current' };
    if (options.check) return { arch, file, images, differences, state: 'stale' };
    writeAtomically(file, xml);
    return { arch, file, images, differences, state: 'written' };
  });
}

/** MEDIUM/images, or MEDIUM itself when it is the images folder. */
function imagesFolder(medium: string): string {
  for (const folder of [path.join(medium, IMAGES_DIR), medium]) {
    if (fs.existsSync(path.join(folder, IMAGES_XML))) return path.resolve(folder);
  }
  throw new InputError(medium, `not a medium: no ${IMAGES_DIR}/images.xml`, 'name the folder that holds images/');
}

function writeAtomically(file: string, content: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, content);
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new OutputError(file, `cannot write: ${describeSystemError(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the archives

type Reading = Pick<DetailsImage, 'files' | 'size' | 'rpms'>;

/** A metadata image read once: its totals, its non-directory members, its packages. */

/**
 * Reads every archive once. Metadata images come first, since every other archive's `<rpms>`
 * needs the databases they hold.
 */
async function readArchives(
  folder: string,
  imagesets: readonly ListedImageset[],
  archives: readonly string[],
  ctx: { jobs: number; progress: Progress },
): Promise<Map<string, Reading>> {
  const limit = pLimit(Math.max(1, ctx.jobs));
  // Every imageset that extracts an archive, whatever its arch: the same file gets the same
  // `<rpms>` in every details file.
  const usersOf = (name: string): ListedImageset[] =>
    imagesets.filter((set) => set.images.includes(name) || set.pkgImage === name);
  const metadataImages = [...new Set(archives.flatMap((name) => usersOf(name).map((set) => set.pkgImage)))];

  const metadata = new Map<string, MetadataReading>();
  await allSettled(
    metadataImages.map((name) =>
      limit(async () => {
        const reading = await readMetadataImage(path.join(folder, name));
        ctx.progress.info(`read ${name}: ${describeTotals(reading.totals)}, package database: ${reading.database ?? 'none'}`);
        metadata.set(name, reading);
      }),
    ),
  );

  const readings = new Map<string, Reading>();
  await allSettled(
    archives.map((name) =>
      limit(async () => {
        const databases = usersOf(name).map((set) => metadata.get(set.pkgImage)!.owners);
        const meta = metadata.get(name);
        if (meta) {
          const members = meta.nonDirectories.map((p) => ({ path: p, isDirectory: false }));
          readings.set(name, { files: meta.totals.members, size: meta.totals.size, rpms: imageRpms(members, databases) });
          return;
        }
        const present = databases.filter((db): db is PathOwners => db !== undefined);
        const packages = present.length > 0 ? new ImagePackages(present) : undefined;
        const totals = await readArchive(path.join(folder, name), (member) => {
          packages?.addMember(memberPath(member.path), member.type === 'dir');
          return undefined;
        });
        ctx.progress.info(`read ${name}: ${describeTotals(totals)}`);
        readings.set(name, { files: totals.members, size: totals.size, rpms: packages?.names() });
      }),
    ),
  );
  return readings;
}

/**
 * Waits for every read to end before reporting the first failure: a read still running when the
 * command exits would leave its temporary root behind.
 */
async function allSettled(reads: ReadonlyArray<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(reads)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function describeTotals(totals: ArchiveTotals): string {
  return `${totals.format}, ${totals.members} members, ${totals.size} bytes of tar`;
}
