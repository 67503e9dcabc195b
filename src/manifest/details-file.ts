/**
 * images.xml and details-<arch>.xml as `details` uses them, from the one reader (reader.ts):
 * which findings refuse the medium (an images.xml that is not well-formed or lists no image_set,
 * archive names that are empty or outside the images folder), which archs and archives a details
 * file covers, and how the differences (details-differences.ts) are worded.
 */
import path from 'node:path';
import { ARCH_ALIASES, archsOf, isForArch, isPlainArchName, liesInImagesFolder } from '../model/installer.js';
import { InputError, UsageError, describeSystemError } from '../errors.js';
import { IMAGES_XML } from '../model/names.js';
import type { DetailsImage } from './xml.js';
import { type DetailsEntry, type MediumImageset, readDetailsFile, readImagesXml } from './reader.js';
import { detailsDifferences } from './details-differences.js';

/**
 * The image_sets of the images folder's images.xml, and what is worth a warning; problems that
 * leave nothing to deploy are errors.
 */
export function usableImagesets(folder: string): { imagesets: readonly MediumImageset[]; warnings: readonly string[] } {
  const file = path.join(folder, IMAGES_XML);
  const { imagesets, notWellFormed, warnings } = readImagesXml(folder, []);
  if (notWellFormed !== undefined) throw new InputError(file, notWellFormed);
  if (imagesets === undefined || imagesets.length === 0) throw new InputError(file, 'lists no image_set', 'is it the images.xml of a medium?');
  for (const set of imagesets) {
    for (const name of [...set.images.map((i) => i.file), set.pkgImage]) {
      if (name === '') throw new InputError(file, `${set.label}: an image without a file name`);
      if (!liesInImagesFolder(name)) throw new InputError(file, `${set.label}: archive "${name}" lies outside the images folder`);
    }
  }
  return { imagesets, warnings };
}

/** Every arch an image_set names. */
export function namedArchs(imagesets: readonly MediumImageset[]): string[] {
  return [...new Set(imagesets.flatMap((s) => archsOf(s.archs).filter(Boolean)))];
}

export function chosenArchs(imagesets: readonly MediumImageset[], wanted: string | undefined, imagesXml: string): string[] {
  const named = namedArchs(imagesets);
  if (wanted !== undefined) {
    const arch = ARCH_ALIASES[wanted] ?? wanted;
    if (!isPlainArchName(arch)) throw new UsageError(undefined, `--arch ${JSON.stringify(wanted)} is not a plain arch name`, 'name an arch such as x86_64');
    if (!named.includes(arch) && !imagesets.some((s) => archsOf(s.archs).length === 0)) {
      throw new UsageError(imagesXml, `no image_set for arch ${arch}`, `it has: ${named.join(', ')}`);
    }
    return [arch];
  }
  if (named.length === 0) throw new UsageError(imagesXml, 'no image_set names an arch', 'pass --arch');
  return named;
}

/** The archive names of these archs' details file, in the order build writes them. */
export function archivesOfArchs(imagesets: readonly MediumImageset[], archs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const set of imagesets) {
    if (!archs.some((arch) => isForArch(set, arch))) continue;
    for (const name of [...set.images.map((i) => i.file), set.pkgImage]) names.add(name);
  }
  return [...names].sort(byCodeUnits);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A details file on the medium: its text (undefined when missing) and its entries (undefined when unusable). */
export function readDetailsOnMedium(folder: string, name: string): DetailsOnMedium {
  const reading = readDetailsFile(folder, name, []);
  if (reading.kind === 'unreadable') {
    if ((reading.error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InputError(path.join(folder, name), `cannot read: ${describeSystemError(reading.error)}`);
  }
  return reading.kind === 'read' ? { text: reading.text, entries: reading.entries } : { text: reading.text };
}

interface DetailsOnMedium {
  readonly text?: string;
  readonly entries?: readonly DetailsEntry[];
}

/**
 * One line per image and field that differs between the file on the medium and the archives;
 * none when the installer reads the same values (however they are written). `alsoListed`: the
 * archives of the other archs that read the same legacy details.xml.
 */
export function describeDifferences(name: string, onMedium: DetailsOnMedium, images: readonly DetailsImage[], alsoListed: ReadonlySet<string>): string[] {
  if (onMedium.text === undefined) return [`${name}: missing`];
  if (onMedium.entries === undefined) return [`${name}: cannot be read as a details file`];
  return detailsDifferences(onMedium.entries, new Map(images.map((i) => [i.file, i] as const)), true, alsoListed).map((d) => {
    const at = `${name}: ${d.file}`;
    switch (d.kind) {
      case 'unlisted': return `${at}: not listed (${d.archive!.files} members, ${d.archive!.size} bytes)`;
      case 'extra': return `${at}: listed, but images.xml does not list it`;
      case 'rpms': return `${at}: rpms ${d.what}`;
      default: return `${at}: ${d.kind} ${d.medium} on the medium, ${d.archive} in the archive`;
    }
  });
}
