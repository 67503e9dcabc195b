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
import { refreshChecksums } from '../checksums/medium.js';
import { InputError, OutputError } from '../errors.js';
import { byBytes } from '../model/installer.js';
import { type ArchiveFormat, decompressorHint, decompressorProblem } from '../formats/registry.js';
import { type DetailsImage, detailsXml } from '../manifest/xml.js';
import { interruptedSwap, interruptedSwapError, lockMedium } from '../medium/staging.js';
import { writeOutput } from '../runtime/write-file.js';
import { IMAGES_DIR, IMAGES_XML, LEGACY_DETAILS_XML } from '../model/names.js';
import { ImagePackages, type PathOwners, imageRpms } from '../pkgdb/owners.js';
import type { Progress } from '../runtime/progress.js';
import { imagesFolderLinks } from '../runtime/input-file.js';
import { archivesOfArchs, chosenArchs, describeDifferences, namedArchs, readDetailsOnMedium, usableImagesets } from '../manifest/details-file.js';
import { type MediumImageset, detailsFilesOf, readDetailsFile } from '../manifest/reader.js';
import { type MetadataReading, memberPath, readMetadataImage } from '../pkgdb/extract.js';

interface DetailsOptions {
  /** Only this arch; every arch images.xml names when absent. */
  readonly arch?: string;
  /** Compare with the files on the medium; write nothing. */
  readonly check: boolean;
  readonly progress: Progress;
  /** Archives read at once (default: number of cores). */
  readonly jobs?: number;
  /** gpg key that signs the checksum lists again when the run changes what they cover. */
  readonly signKey?: string;
}

export interface ArchDetails {
  /** The archs checked, comma-separated ('' for a checksum list). */
  readonly arch: string;
  /** Every arch whose installer reads the file (several for a legacy details.xml). */
  readonly archs: readonly string[];
  /** Path of the details file the installer reads: details-<arch>.xml, or the legacy details.xml. */
  readonly file: string;
  /** 'current': the file on the medium was right already; 'stale': it differs (--check);
   *  'written': it differed and was replaced. */
  readonly state: 'current' | 'stale' | 'written';
  /** What differs, one line per image and field, each starting with the details file's name. */
  readonly differences: readonly string[];
  readonly images: readonly DetailsImage[];
}

export async function regenerateDetails(medium: string, options: DetailsOptions): Promise<ArchDetails[]> {
  // A build killed in the middle of its swap: taking the lock puts the previous images back.
  if (!options.check && interruptedSwap(medium) !== undefined) lockMedium(medium, (note) => options.progress.info(note)).release();
  const folder = imagesFolder(medium);
  // Writing takes the medium's lock, as a build does: a build swapping images/ meanwhile would
  // leave the new details file in the folder it moves away.
  // On a read-only file system nothing can be written: the details are checked instead, and
  // current ones are reported as such.
  const readOnly = !options.check && isOnReadOnlyFileSystem(path.dirname(folder));
  const lock = options.check || readOnly ? undefined : lockMedium(path.dirname(folder), (note) => options.progress.info(note));
  try {
    const results = await detailsOfMedium(folder, readOnly ? { ...options, check: true } : options);
    const stale = readOnly ? results.find((r) => r.state === 'stale') : undefined;
    if (stale) {
      throw new OutputError(stale.file, `differs from the archives, and the medium is on a read-only file system (${stale.differences[0]})`, 'copy the medium to a writable place and run details there; details --check lists every difference');
    }
    return results;
  } finally {
    lock?.release();
  }
}

function isOnReadOnlyFileSystem(folder: string): boolean {
  try {
    fs.accessSync(folder, fs.constants.W_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

async function detailsOfMedium(folder: string, options: DetailsOptions): Promise<ArchDetails[]> {
  const { imagesets, warnings } = usableImagesets(folder);
  for (const warning of warnings) options.progress.warn(warning, 'MC-W-MEDIUM');
  const archs = chosenArchs(imagesets, options.arch, path.join(folder, IMAGES_XML));
  // The files the installer reads on the chosen archs, each with every arch that reads it: a
  // legacy details.xml is written for all of them, and checked for the chosen ones.
  const files = [...detailsFilesOf(folder, [...new Set([...archs, ...namedArchs(imagesets)])])]
    .filter(([, readers]) => readers.some((arch) => archs.includes(arch)))
    .map(([name, readers]) => {
      const chosen = readers.filter((arch) => archs.includes(arch));
      const all = archivesOfArchs(imagesets, readers);
      const checked = archivesOfArchs(imagesets, chosen);
      return { name, readers, chosen, all, checked, alsoListed: new Set(all.filter((a) => !checked.includes(a))) };
    });
  const formats = new Map<string, ArchiveFormat>();
  const readings = await readArchives(
    folder,
    imagesets,
    [...new Set(files.flatMap((f) => f.all))],
    { jobs: options.jobs ?? os.availableParallelism(), progress: options.progress, formats },
  );
  // The installer picks the decompressor by name: an archive it cannot read is never "current".
  const unreadable = installerUnreadable(folder, formats, options.check);

  const results = files.map(({ name, readers, chosen, all, checked, alsoListed }) => {
    const file = path.join(folder, name);
    const imageOf = (archive: string): DetailsImage => ({ file: archive, ...readings.get(archive)! });
    const xml = detailsXml(all.map(imageOf));
    const onMedium = readDetailsOnMedium(folder, name);
    const refused = checked.flatMap((archive) => unreadable.get(archive) ?? []);
    const differences = [...refused, ...(onMedium.text === xml ? [] : describeDifferences(name, onMedium, checked.map(imageOf), alsoListed))];
    return { arch: chosen.join(','), archs: readers, file, images: checked.map(imageOf), xml, differences, current: differences.length === 0 };
  });
  warnDisagreeingLegacy(folder, files.map((f) => f.name), readings, options.progress);

  // The checksum lists and directory.yast, for the details files as they will be: signed and
  // staged before anything is written (no key for a stale signed list: exit 2, nothing written).
  const overrides = new Map(options.check ? [] : results.map((r) => [path.basename(r.file), r.xml]));
  const lists = await refreshChecksums(folder, overrides, { check: options.check, signKey: options.signKey });
  const listResults: ArchDetails[] = lists.stale.map(({ file, what }) => ({
    arch: '',
    archs: [],
    file,
    images: [],
    differences: [`${path.basename(file)}: ${what}`],
    state: options.check ? 'stale' : 'written',
  }));

  // Written only after every archive was read: an unreadable one leaves all details untouched.
  try {
    const written = results.map(({ xml, current, ...result }): ArchDetails => {
      if (current) return { ...result, state: 'current' };
      if (options.check) return { ...result, state: 'stale' };
      writeOutput(result.file, xml, { atomic: true });
      return { ...result, state: 'written' };
    });
    lists.commit();
    return [...written, ...listResults];
  } finally {
    lists.discard();
  }
}

/**
 * A legacy details.xml that no chosen arch reads (each has its own details-<arch>.xml) but that
 * lists their archives with other values: one warning, since a reader of details.xml is misled.
 */
function warnDisagreeingLegacy(folder: string, read: readonly string[], readings: ReadonlyMap<string, Reading>, progress: Progress): void {
  if (read.includes(LEGACY_DETAILS_XML)) return;
  const legacy = readDetailsFile(folder, LEGACY_DETAILS_XML, []);
  if (legacy.kind !== 'read') return;
  const disagreeing = legacy.entries.filter((e) => {
    const now = readings.get(e.file);
    return now !== undefined && (e.size !== String(now.size) || (e.files !== undefined && e.files !== String(now.files)));
  });
  if (disagreeing.length === 0) return;
  const names = disagreeing.map((e) => e.file);
  progress.warn(
    `${path.join(folder, LEGACY_DETAILS_XML)}: disagrees with ${read.join(', ')} on ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}; ` +
      'no installer of these archs reads it (each has its own details-<arch>.xml): remove it, or keep it current with `details` on a copy without them',
    'MC-W-MEDIUM',
  );
}

/**
 * Archives whose content the installer's decompressor (chosen by name) cannot read: one line each
 * for --check; without --check the first refuses the whole run (exit 3, nothing written).
 */
function installerUnreadable(folder: string, formats: ReadonlyMap<string, ArchiveFormat>, check: boolean): Map<string, string> {
  const found = new Map<string, string>();
  for (const [name, format] of [...formats].sort(([a], [b]) => byBytes(a, b))) {
    const problem = decompressorProblem(name, format);
    if (!problem) continue;
    if (!check) throw new InputError(path.join(folder, name), problem, decompressorHint(format));
    found.set(name, `${name}: ${problem}`);
  }
  return found;
}

/** MEDIUM/images, or MEDIUM itself when it is the images folder. */
function imagesFolder(medium: string): string {
  for (const folder of [path.join(medium, IMAGES_DIR), medium]) {
    if (fs.existsSync(path.join(folder, IMAGES_XML))) return path.resolve(folder);
  }
  const swapped = interruptedSwapError(medium);
  if (swapped) throw swapped;
  throw new InputError(medium, `not a medium: no ${IMAGES_DIR}/images.xml`, 'name the folder that holds images/');
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
  imagesets: readonly MediumImageset[],
  archives: readonly string[],
  ctx: { jobs: number; progress: Progress; formats: Map<string, ArchiveFormat> },
): Promise<Map<string, Reading>> {
  const limit = pLimit(Math.max(1, ctx.jobs));
  // Every imageset that extracts an archive, whatever its arch: the same file gets the same
  // `<rpms>` in every details file.
  const usersOf = (name: string): MediumImageset[] =>
    imagesets.filter((set) => set.images.some((i) => i.file === name) || set.pkgImage === name);
  const metadataImages = [...new Set(archives.flatMap((name) => usersOf(name).map((set) => set.pkgImage)))];

  const metadata = new Map<string, MetadataReading>();
  await allSettled(
    metadataImages.map((name) =>
      limit(async () => {
        const reading = await readMetadataImage(path.join(folder, name), imagesFolderLinks(folder));
        ctx.progress.info(`read ${name}: ${describeTotals(reading.totals)}, package database: ${reading.database ?? 'none'}`);
        metadata.set(name, reading);
        ctx.formats.set(name, reading.totals.format);
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
        const totals = await readArchive(path.join(folder, name), imagesFolderLinks(folder), (member) => {
          packages?.addMember(memberPath(member.path), member.type === 'dir');
          return undefined;
        });
        ctx.progress.info(`read ${name}: ${describeTotals(totals)}`);
        ctx.formats.set(name, totals.format);
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
