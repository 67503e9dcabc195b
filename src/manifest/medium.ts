/**
 * The medium as `verify` sees it: images.xml and every details file, read by the one reader
 * (reader.ts), paired with compose.yaml's imagesets and checked against the installer's contract
 * (docs/yast-contract.md), including which imageset the installer would choose for each
 * imageset's own patterns. The rules themselves are in installer.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { archsOf, chooseImageset, isForArch, isPlainArchName, liesInImagesFolder, patternsOf } from '../model/installer.js';
import { IMAGES_XML as IMAGES_XML_NAME, metaStem } from '../model/names.js';
import { archiveFileName, archiveSuffixes } from '../formats/registry.js';
import type { ComposeSpec, ImagesetSpec } from '../config/spec.js';
import { InputError } from '../errors.js';
import { checkInput, imagesFolderLinks } from '../runtime/input-file.js';
import { type VerifyProblem, mediumFile, reporter } from './problems.js';
import { type DetailsEntry, type MediumImageset as ReadImageset, detailsFilesOf, readDetailsFile, readImagesXml } from './reader.js';

/** An image_set of images.xml, with the compose imageset it is. */
interface MediumImageset extends ReadImageset {
  readonly spec?: ImagesetSpec;
}

export interface Medium {
  readonly folder: string;
  /** Undefined when images.xml is not usable at all. */
  readonly imagesets?: readonly MediumImageset[];
  /** The compose imagesets found in images.xml. */
  readonly matched: ReadonlyMap<ImagesetSpec, MediumImageset>;
  /**
   * Each details file the installer reads (details-<arch>.xml, or the legacy details.xml), with
   * the archs it is read on; `entries` undefined when missing or unusable.
   */
  readonly details: ReadonlyMap<string, { readonly archs: readonly string[]; readonly entries?: readonly DetailsEntry[] }>;
  /** Archive file names that exist on the medium. */
  readonly present: ReadonlySet<string>;
}

const IMAGES_XML = mediumFile(IMAGES_XML_NAME);

export function readMedium(folder: string, spec: ComposeSpec, problems: VerifyProblem[]): Medium {
  const imagesXml = path.join(folder, IMAGES_XML_NAME);
  const parsed = readImagesXml(folder, problems).imagesets;
  const imagesets = parsed === undefined ? undefined : matchImagesets(spec, parsed, problems);
  const matched = new Map((imagesets ?? []).filter((s) => s.spec !== undefined).map((s) => [s.spec!, s] as const));
  const present = new Set<string>();
  for (const set of imagesets ?? []) {
    for (const image of set.images) {
      if (liesInImagesFolder(image.file) && isArchiveFile(folder, image.file)) present.add(image.file);
    }
  }
  const archs = mediumArchs(spec, imagesets ?? [], imagesXml);
  const details = new Map([...detailsFilesOf(folder, archs)].map(([name, archsOfFile]) => {
    const reading = readDetailsFile(folder, name, problems);
    return [name, reading.kind === 'read' ? { archs: archsOfFile, entries: reading.entries } : { archs: archsOfFile }] as const;
  }));
  for (const { entries } of details.values()) {
    for (const e of entries ?? []) if (liesInImagesFolder(e.file) && isArchiveFile(folder, e.file)) present.add(e.file);
  }
  const medium: Medium = { folder, imagesets, matched, details, present };
  if (imagesets !== undefined) {
    checkInstallerChoice(imagesets, archs, problems);
    checkImageFiles(medium, problems);
  }
  return medium;
}

/** An imageset's name in problems; with the arch when compose.yaml has the name for several archs. */
export function labelOf(spec: ComposeSpec, imageset: ImagesetSpec): string {
  return spec.imagesets.some((s) => s !== imageset && s.name === imageset.name) ? `${imageset.name} (${imageset.arch})` : imageset.name;
}

/**
 * Pairs compose imagesets with image_sets by their metadata image, the one file that names them;
 * returns the image_sets labelled (new objects: the parsed ones stay as read).
 */
function matchImagesets(spec: ComposeSpec, sets: readonly MediumImageset[], problems: VerifyProblem[]): MediumImageset[] {
  const specOf = new Map<MediumImageset, ImagesetSpec>();
  for (const imageset of spec.imagesets) {
    const pkgImage = archiveFileName(metaStem(imageset.name, imageset.arch), spec.compression);
    const set = sets.find((s) => s.pkgImage === pkgImage && !specOf.has(s));
    if (!set) {
      problems.push({ imageset: labelOf(spec, imageset), path: IMAGES_XML, what: `no image_set with pkg_image ${pkgImage}: the installer cannot deploy this imageset` });
      continue;
    }
    specOf.set(set, imageset);
    const report = reporter(problems, labelOf(spec, imageset), IMAGES_XML);
    const patterns = imageset.patterns.join(',');
    if (set.patterns !== patterns) report(`patterns "${set.patterns}", compose.yaml says "${patterns}"`);
    if (set.archs !== imageset.arch) report(`archs "${set.archs}", compose.yaml says "${imageset.arch}"`);
  }
  for (const set of sets) {
    if (!specOf.has(set)) {
      problems.push({ imageset: null, path: IMAGES_XML, what: `${set.label} (pkg_image "${set.pkgImage}", patterns "${set.patterns}") is no imageset of compose.yaml` });
    }
  }
  return sets.map((set) => {
    const imageset = specOf.get(set);
    return imageset === undefined ? set : { ...set, label: labelOf(spec, imageset), spec: imageset };
  });
}

/** Every arch the medium is for: those of compose.yaml and those images.xml names. */
function mediumArchs(spec: ComposeSpec, sets: readonly MediumImageset[], imagesXml: string): string[] {
  const archs = new Set(spec.imagesets.map((s) => s.arch));
  for (const set of sets) for (const arch of archsOf(set.archs)) if (arch) archs.add(arch);
  for (const arch of archs) {
    if (!isPlainArchName(arch)) {
      throw new InputError(imagesXml, `arch ${JSON.stringify(arch)} is not a plain name`, 'an arch is letters, digits, "_", "-" and "."; the medium is damaged or was made to escape its folder');
    }
  }
  return [...archs];
}

/**
 * The contract for each image_set: patterns comma-only, no patterns string twice for one arch,
 * and the installer, given exactly an imageset's patterns, chooses that imageset.
 */
function checkInstallerChoice(sets: readonly MediumImageset[], archs: readonly string[], problems: VerifyProblem[]): void {
  for (const set of sets) {
    const report = reporter(problems, set.label, IMAGES_XML);
    const fields = patternsOf(set.patterns);
    if (!set.hasPatterns) report('no <patterns> element: the installer never chooses this imageset');
    else if (fields.length === 0) report('no patterns: the installer would choose this imageset for any selection');
    else if (set.patterns.includes(' ') || fields.includes('')) {
      report(`patterns "${set.patterns}" are not comma-only: the installer splits on ',' and ' ' and keeps empty names, so it never chooses this imageset`);
    }
  }
  for (const arch of archs) {
    const byPatterns = new Map<string, MediumImageset[]>();
    for (const set of sets.filter((s) => isForArch(s, arch) && s.hasPatterns)) byPatterns.set(set.patterns, [...(byPatterns.get(set.patterns) ?? []), set]);
    for (const [patterns, same] of byPatterns) {
      if (same.length < 2) continue;
      const names = same.map((s) => s.label);
      problems.push({
        imageset: names[0]!,
        path: IMAGES_XML,
        what: `${names.join(' and ')} have the same patterns "${patterns}" for ${arch}: the installer keeps only ${names[names.length - 1]}`,
      });
    }
    for (const set of sets.filter((s) => isForArch(s, arch) && s.hasPatterns)) {
      const selected = [...new Set(patternsOf(set.patterns).filter(Boolean))];
      const chosen = chooseImageset(forChoice(sets), arch, selected);
      if (chosen === sets.indexOf(set)) continue;
      const instead = chosen === undefined ? 'no imageset (image installation is switched off)' : sets[chosen]!.label;
      problems.push({
        imageset: set.label,
        path: IMAGES_XML,
        what: `for exactly its patterns (${selected.join(',') || 'none'}) on ${arch} the installer chooses ${instead}`,
      });
    }
  }
}

/** The installer's view of the image_sets, for chooseImageset. */
function forChoice(sets: readonly MediumImageset[]): Array<{ patterns: string | undefined; archs: string }> {
  return sets.map((s) => ({ patterns: s.hasPatterns ? s.patterns : undefined, archs: s.archs }));
}

/** Image types, names, order and presence. */
function checkImageFiles(medium: Medium, problems: VerifyProblem[]): void {
  for (const set of medium.imagesets ?? []) {
    const report = (file: string, what: string): void => void problems.push({ imageset: set.label, path: file, what });
    if (set.images.length === 0) report(IMAGES_XML, 'lists no images');
    const last = set.images[set.images.length - 1];
    if (set.pkgImage !== '' && last !== undefined && last.file !== set.pkgImage) {
      report(IMAGES_XML, `the metadata image ${set.pkgImage} is not listed last (the last is ${last.file})`);
    }
    if (set.pkgImage !== '' && !set.images.some((i) => i.file === set.pkgImage)) {
      report(IMAGES_XML, `the metadata image ${set.pkgImage} is not in <images>: the installer never extracts it`);
    }
    const positions = new Map<string, number[]>();
    set.images.forEach((image, i) => positions.set(image.file, [...(positions.get(image.file) ?? []), i + 1]));
    for (const [file, at] of positions) {
      if (at.length > 1) {
        report(IMAGES_XML, `image ${file} is listed ${at.length} times (at ${at.join(', ')} of ${set.images.length}): the installer extracts it each time, over what the images between wrote; mediacompose lists an archive once`);
      }
    }
    for (const image of set.images) {
      if (image.type !== 'tar') report(IMAGES_XML, `image ${image.file}: type "${image.type}", not "tar"`);
      if (image.name === '') report(IMAGES_XML, `image ${image.file}: empty <name>`);
      if (!liesInImagesFolder(image.file)) report(IMAGES_XML, `image "${image.file}": an absolute name or one with ".." (must lie in images/)`);
      else if (!medium.present.has(image.file)) report(mediumFile(image.file), 'listed in images.xml but missing from the medium: the installer aborts');
    }
  }
  // An archive no image_set lists is never read by the installer: a leftover, or a list that lost it.
  const listed = new Set((medium.imagesets ?? []).flatMap((set) => [set.pkgImage, ...set.images.map((i) => i.file)]));
  for (const name of archivesIn(medium.folder)) {
    if (!listed.has(name)) problems.push({ imageset: null, path: mediumFile(name), what: 'an archive that no image_set of images.xml lists: the installer never reads it (remove it, or build again)' });
  }
}

/** The regular files of the images folder named as archives are (`*.tar.xz`, `*.tar.gz`, ...). */
function archivesIn(folder: string): string[] {
  const suffixes = archiveSuffixes();
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return [];
  }
  return names.filter((n) => suffixes.some((s) => n.endsWith(s)) && isFile(path.join(folder, n))).sort();
}

/** Whether a name is a regular file (stat only: nothing is opened). */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether the images folder holds the archive; something there that is no regular file inside the medium is refused. */
function isArchiveFile(folder: string, name: string): boolean {
  const file = path.join(folder, name);
  try {
    fs.lstatSync(file);
  } catch {
    return false;
  }
  checkInput(file, 'archive', imagesFolderLinks(folder));
  return true;
}
