/**
 * The medium as the installer reads it: images.xml and every details-<arch>.xml
 * (docs/yast-contract.md), checked against that contract, including which imageset the installer
 * would choose for each imageset's own patterns. The rules themselves are in installer.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { archsOf, chooseImageset, installerXmlParser, isForArch, liesInImagesFolder, patternsOf } from './installer.js';
import { IMAGES_XML as IMAGES_XML_NAME, archiveFileName, detailsFileName, metaStem } from '../model/names.js';
import type { ComposeSpec, ImagesetSpec } from '../config/spec.js';
import { InputError, describeSystemError } from '../errors.js';
import { type Report, type VerifyProblem, mediumFile, reporter } from './problems.js';

/** An image_set of images.xml. */
interface MediumImageset {
  /** The compose imageset it is, or `image_set N` when compose.yaml has none for it. */
  readonly label: string;
  readonly spec?: ImagesetSpec;
  readonly patterns: string;
  readonly archs: string;
  readonly pkgImage: string;
  readonly images: ReadonlyArray<{ readonly name: string; readonly type: string; readonly file: string }>;
}

interface DetailsEntry {
  readonly file: string;
  readonly files: string;
  readonly size: string;
}

export interface Medium {
  readonly folder: string;
  /** Undefined when images.xml is not usable at all. */
  readonly imagesets?: readonly MediumImageset[];
  /** The compose imagesets found in images.xml. */
  readonly matched: ReadonlyMap<ImagesetSpec, MediumImageset>;
  /** details-<arch>.xml by arch; undefined when missing or unusable. */
  readonly details: ReadonlyMap<string, readonly DetailsEntry[] | undefined>;
  /** Archive file names that exist on the medium. */
  readonly present: ReadonlySet<string>;
}

const xmlParser = installerXmlParser(true);

type XmlObject = Record<string, unknown>;

const IMAGES_XML = mediumFile(IMAGES_XML_NAME);

/** `images/details-<arch>.xml`, as problems name it. */
export function detailsFile(arch: string): string {
  return mediumFile(detailsFileName(arch));
}

export function readMedium(folder: string, spec: ComposeSpec, problems: VerifyProblem[]): Medium {
  const imagesXml = path.join(folder, IMAGES_XML_NAME);
  const doc = parseXmlFile(imagesXml, problems, true);
  const parsed = doc === undefined ? undefined : readImagesets(doc, problems);
  const imagesets = parsed === undefined ? undefined : matchImagesets(spec, parsed, problems);
  const matched = new Map((imagesets ?? []).filter((s) => s.spec !== undefined).map((s) => [s.spec!, s] as const));
  const present = new Set<string>();
  for (const set of imagesets ?? []) {
    for (const image of set.images) {
      if (liesInImagesFolder(image.file) && isFile(path.join(folder, image.file))) present.add(image.file);
    }
  }
  const archs = mediumArchs(spec, imagesets ?? []);
  const details = new Map(archs.map((arch) => [arch, readDetails(folder, arch, problems)] as const));
  for (const entries of details.values()) {
    for (const e of entries ?? []) if (liesInImagesFolder(e.file) && isFile(path.join(folder, e.file))) present.add(e.file);
  }
  const medium: Medium = { folder, imagesets, matched, details, present };
  if (imagesets !== undefined) {
    checkInstallerChoice(imagesets, archs, problems);
    checkImageFiles(medium, problems);
    checkDetailsCoverage(medium, archs, problems);
  }
  return medium;
}

/** The parsed document, or undefined (reported) when the file is missing or not well-formed. */
function parseXmlFile(file: string, problems: VerifyProblem[], required: boolean): XmlObject | undefined {
  const report = reporter(problems, null, mediumFile(path.basename(file)));
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (required) {
      throw new InputError(file, `cannot read: ${describeSystemError(err)}`, 'build the medium first (mediacompose build COMPOSE)');
    }
    report(`cannot read: ${describeSystemError(err)} (the installer then shows no progress)`);
    return undefined;
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    report(`not well-formed XML: line ${valid.err.line}: ${valid.err.msg}`);
    return undefined;
  }
  const doc = xmlParser.parse(text) as XmlObject;
  for (const element of mixedContent(doc)) {
    report(`<${element}> mixes text and child elements (the installer's XML reader fails)`);
  }
  return doc;
}

/** Elements that hold both text and child elements, which the installer's reader rejects. */
function mixedContent(node: unknown, name = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((item) => mixedContent(item, name));
  if (node === null || typeof node !== 'object') return [];
  const children = childElements(node as XmlObject);
  const own = '#text' in node && children.length > 0 ? [name] : [];
  return [...own, ...children.flatMap((k) => mixedContent((node as XmlObject)[k], k))];
}

function readImagesets(doc: XmlObject, problems: VerifyProblem[]): MediumImageset[] | undefined {
  const report = reporter(problems, null, IMAGES_XML);
  const root = asObject(doc.image_installation);
  if (!root) {
    report('no <image_installation> element');
    return undefined;
  }
  const list = asObject(root.image_sets);
  if (!list) {
    report('no <image_sets>: the installer deploys no image');
    return undefined;
  }
  checkList(list, '', 'image_sets', 'image_set', report);
  return items(list, 'image_set').map((raw, i) => {
    const set = asObject(raw) ?? {};
    const where = `image_set ${i + 1}`;
    const field = (name: string): string => textField(set, name, where, report);
    const images = asObject(set.images);
    if (!images) report(`${where}: no <images> list`);
    else checkList(images, `${where}: `, 'images', 'image', report);
    return {
      label: where,
      patterns: field('patterns'),
      archs: field('archs'),
      pkgImage: field('pkg_image'),
      images: items(images ?? {}, 'image').map((rawImage, j) => {
        const image = asObject(rawImage) ?? {};
        const at = `${where}: image ${j + 1}`;
        return { name: textField(image, 'name', at, report), type: textField(image, 'type', at, report), file: textField(image, 'file', at, report) };
      }),
    };
  });
}

/** A list must say config:type="list" and hold only its items; otherwise the installer reads a map. */
function checkList(list: XmlObject, where: string, name: string, item: string, report: Report): void {
  if (list['@_type'] !== 'list') report(`${where}<${name}> lacks config:type="list": the installer reads it as a map and loses items`);
  for (const key of Object.keys(list)) {
    if (key !== item && !key.startsWith('@_')) report(`${where}<${name}> holds <${key}> among its <${item}> items`);
  }
}

/** The names of an element's child elements (attributes and text left out). */
function childElements(element: XmlObject): string[] {
  return Object.keys(element).filter((k) => !k.startsWith('@_') && k !== '#text');
}

function items(list: XmlObject, item: string): unknown[] {
  const value = list[item];
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function asObject(value: unknown): XmlObject | undefined {
  if (Array.isArray(value)) return asObject(value[value.length - 1]);
  if (value === '') return {};
  return value !== null && typeof value === 'object' ? (value as XmlObject) : undefined;
}

/** A text element of a map; '' (reported) when missing, repeated or not text. */
function textField(map: XmlObject, name: string, where: string, report: Report): string {
  const value = map[name];
  if (value === undefined) {
    report(`${where}: no <${name}>`);
    return '';
  }
  if (Array.isArray(value)) {
    report(`${where}: <${name}> given ${value.length} times (the installer keeps one)`);
    return '';
  }
  if (typeof value === 'string') return value;
  const object = value as XmlObject;
  if (childElements(object).length > 0) {
    report(`${where}: <${name}> holds elements, not text`);
    return '';
  }
  if (object['@_type'] !== undefined) report(`${where}: <${name}> has config:type="${String(object['@_type'])}" (write plain text)`);
  return String(object['#text'] ?? '');
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
function mediumArchs(spec: ComposeSpec, sets: readonly MediumImageset[]): string[] {
  const archs = new Set(spec.imagesets.map((s) => s.arch));
  for (const set of sets) for (const arch of archsOf(set.archs)) if (arch) archs.add(arch);
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
    if (fields.length === 0) report('no patterns: the installer would choose this imageset for any selection');
    else if (set.patterns.includes(' ') || fields.includes('')) {
      report(`patterns "${set.patterns}" are not comma-only: the installer splits on ',' and ' ' and keeps empty names, so it never chooses this imageset`);
    }
  }
  for (const arch of archs) {
    const byPatterns = new Map<string, MediumImageset[]>();
    for (const set of sets.filter((s) => isForArch(s, arch))) byPatterns.set(set.patterns, [...(byPatterns.get(set.patterns) ?? []), set]);
    for (const [patterns, same] of byPatterns) {
      if (same.length < 2) continue;
      const names = same.map((s) => s.label);
      problems.push({
        imageset: names[0]!,
        path: IMAGES_XML,
        what: `${names.join(' and ')} have the same patterns "${patterns}" for ${arch}: the installer keeps only ${names[names.length - 1]}`,
      });
    }
    for (const set of sets.filter((s) => isForArch(s, arch))) {
      const selected = [...new Set(patternsOf(set.patterns).filter(Boolean))];
      const chosen = chooseImageset(sets, arch, selected);
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
    for (const image of set.images) {
      if (image.type !== 'tar') report(IMAGES_XML, `image ${image.file}: type "${image.type}", not "tar"`);
      if (image.name === '') report(IMAGES_XML, `image ${image.file}: empty <name>`);
      if (!liesInImagesFolder(image.file)) report(IMAGES_XML, `image "${image.file}": an absolute name or one with ".." (must lie in images/)`);
      else if (!medium.present.has(image.file)) report(mediumFile(image.file), 'listed in images.xml but missing from the medium: the installer aborts');
    }
  }
}

/** details-<arch>.xml, parsed; undefined (reported) when missing or unusable. */
function readDetails(folder: string, arch: string, problems: VerifyProblem[]): DetailsEntry[] | undefined {
  const report = reporter(problems, null, detailsFile(arch));
  const doc = parseXmlFile(path.join(folder, detailsFileName(arch)), problems, false);
  if (doc === undefined) return undefined;
  const root = asObject(doc.image_installation_details);
  const list = root === undefined ? undefined : asObject(root.details);
  if (!list) {
    report('no <image_installation_details><details> list');
    return undefined;
  }
  checkList(list, '', 'details', 'image', report);
  const seen = new Set<string>();
  return items(list, 'image').map((raw, i) => {
    const image = asObject(raw) ?? {};
    const at = `image ${i + 1}`;
    const entry = { file: textField(image, 'file', at, report), files: textField(image, 'files', at, report), size: textField(image, 'size', at, report) };
    for (const key of ['files', 'size'] as const) {
      if (!/^[0-9]+$/.test(entry[key])) report(`${entry.file || at}: <${key}> "${entry[key]}" is not a plain decimal number`);
    }
    const rpms = image.rpms === undefined ? undefined : asObject(image.rpms);
    if (rpms) checkList(rpms, `${entry.file}: `, 'rpms', 'rpm', report);
    if (seen.has(entry.file)) report(`${entry.file}: listed twice`);
    seen.add(entry.file);
    return entry;
  });
}

/** Each details file lists exactly the archives of its arch's imagesets. */
function checkDetailsCoverage(medium: Medium, archs: readonly string[], problems: VerifyProblem[]): void {
  for (const arch of archs) {
    const entries = medium.details.get(arch);
    if (entries === undefined) continue;
    const report = reporter(problems, null, detailsFile(arch));
    const used = new Set((medium.imagesets ?? []).filter((s) => isForArch(s, arch)).flatMap((s) => s.images.map((i) => i.file)));
    const listed = new Set(entries.map((e) => e.file));
    for (const file of used) {
      if (!listed.has(file)) report(`${file} is not listed (the installer shows no progress for it)`);
    }
    for (const e of entries) {
      if (!used.has(e.file)) report(`${e.file} is listed but no imageset of ${arch} uses it`);
    }
  }
}


function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
