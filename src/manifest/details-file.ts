/**
 * images.xml and details-<arch>.xml as `details` reads them back: the image_sets (archs split
 * by the installer's rule, archive names that lie in the images folder), the archives of one
 * arch's details file, and what differs between a details file on the medium and the one the
 * archives give (the one "is details current?" description).
 */
import fs from 'node:fs';
import { ARCH_ALIASES } from '../config/spec.js';
import { archsOf, installerXmlParser, isForArch, liesInImagesFolder } from './installer.js';
import { InputError, UsageError, describeSystemError } from '../errors.js';
import type { DetailsImage } from './xml.js';


/** An imageset as images.xml describes it; archive names relative to the images folder. */
export interface ListedImageset {
  /** As written; split by the installer's rule (archsOf); empty: any arch. */
  readonly archs: string;
  readonly pkgImage: string;
  readonly images: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// images.xml and the details file on the medium

/** Reads XML as the installer does: namespaces stripped, every value a string. */
function parseXml(file: string, text: string): Record<string, any> {
  const parser = installerXmlParser(false);
  try {
    return parser.parse(text, true) as Record<string, any>;
  } catch (err) {
    throw new InputError(file, `not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function readImagesXml(file: string): ListedImageset[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read: ${describeSystemError(err)}`);
  }
  const doc = parseXml(file, text);
  const sets: any[] = doc.image_installation?.image_sets?.image_set ?? [];
  if (sets.length === 0) throw new InputError(file, 'lists no image_set', 'is it the images.xml of a medium?');
  return sets.map((set, i) => {
    const where = `image_set ${i + 1}`;
    const pkgImage = archiveName(file, where, set.pkg_image);
    const images = ((set.images?.image ?? []) as any[]).map((image) => archiveName(file, where, image?.file));
    const archs = String(set.archs ?? '');
    return { archs, pkgImage, images };
  });
}

/** An archive file name from images.xml: relative to the images folder, never outside it. */
function archiveName(file: string, where: string, value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (name === '') throw new InputError(file, `${where}: an image without a file name`);
  if (!liesInImagesFolder(name)) {
    throw new InputError(file, `${where}: archive "${name}" lies outside the images folder`);
  }
  return name;
}

export function chosenArchs(imagesets: readonly ListedImageset[], wanted: string | undefined, imagesXml: string): string[] {
  const named = [...new Set(imagesets.flatMap((s) => archsOf(s.archs).filter(Boolean)))];
  if (wanted !== undefined) {
    const arch = ARCH_ALIASES[wanted] ?? wanted;
    if (!named.includes(arch) && !imagesets.some((s) => archsOf(s.archs).length === 0)) {
      throw new UsageError(imagesXml, `no image_set for arch ${arch}`, `it has: ${named.join(', ')}`);
    }
    return [arch];
  }
  if (named.length === 0) throw new UsageError(imagesXml, 'no image_set names an arch', 'pass --arch');
  return named;
}

/** The archive names of one arch's details file, in the order build writes them. */
export function archivesOfArch(imagesets: readonly ListedImageset[], arch: string): string[] {
  const names = new Set<string>();
  for (const set of imagesets) {
    if (!isForArch(set, arch)) continue;
    for (const name of [...set.images, set.pkgImage]) names.add(name);
  }
  return [...names].sort(byCodeUnits);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(file, `cannot read: ${describeSystemError(err)}`);
  }
}

/** The images of a details file, keyed by archive name; undefined when it cannot be parsed. */
function parseDetails(name: string, text: string): Map<string, DetailsImage> | undefined {
  let doc: Record<string, any>;
  try {
    doc = parseXml(name, text);
  } catch {
    return undefined;
  }
  const images: any[] | undefined = doc.image_installation_details?.details?.image;
  if (!Array.isArray(images)) return undefined;
  return new Map(
    images.map((i) => [
      String(i.file ?? ''),
      {
        file: String(i.file ?? ''),
        files: Number(i.files),
        size: Number(i.size),
        ...(i.rpms !== undefined ? { rpms: (i.rpms === '' ? [] : (i.rpms.rpm ?? [])).map(String) } : {}),
      },
    ]),
  );
}

/** One line per image and field that differs between the file on the medium and the archives. */
export function describeDifferences(name: string, onMedium: string | undefined, images: readonly DetailsImage[]): string[] {
  if (onMedium === undefined) return [`${name}: missing`];
  const old = parseDetails(name, onMedium);
  if (!old) return [`${name}: cannot be read as a details file`];
  const lines: string[] = [];
  const listed = new Set(images.map((i) => i.file));
  for (const image of images) {
    const was = old.get(image.file);
    const at = `${name}: ${image.file}`;
    if (!was) {
      lines.push(`${at}: not listed (${image.files} members, ${image.size} bytes)`);
      continue;
    }
    if (was.files !== image.files) lines.push(`${at}: files ${was.files} on the medium, ${image.files} in the archive`);
    if (was.size !== image.size) lines.push(`${at}: size ${was.size} on the medium, ${image.size} in the archive`);
    const rpms = describeRpms(was.rpms, image.rpms);
    if (rpms) lines.push(`${at}: rpms ${rpms}`);
  }
  for (const file of old.keys()) {
    if (!listed.has(file)) lines.push(`${name}: ${file}: listed, but images.xml does not list it`);
  }
  if (lines.length === 0) lines.push(`${name}: same values, written differently (order or layout)`);
  return lines;
}

function describeRpms(was: readonly string[] | undefined, now: readonly string[] | undefined): string | undefined {
  if (was === undefined && now === undefined) return undefined;
  if (was === undefined) return `absent on the medium, ${now!.length} in the archive`;
  if (now === undefined) return `listed on the medium, but the metadata images hold no package database`;
  const missing = multisetMinus(now, was);
  const extra = multisetMinus(was, now);
  if (missing.length === 0 && extra.length === 0) {
    return was.join() === now.join() ? undefined : 'in another order than sorted';
  }
  return [
    missing.length ? `missing on the medium: ${missing.join(' ')}` : '',
    extra.length ? `not in the archive: ${extra.join(' ')}` : '',
  ].filter(Boolean).join('; ');
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    return n === 0;
  });
}
