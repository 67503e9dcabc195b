/**
 * The one reader of a medium's images.xml and details files (docs/yast-contract.md): each file
 * parsed once, as the installer's XML parser reads it (libxml.ts) and by the installer's rules
 * (installer.ts), into a model plus the problems found. `verify` lists those problems; `details`
 * refuses a medium whose images.xml it cannot use (see manifest/details-file.ts). Two findings
 * are never merely reported: an images.xml that cannot be read at all, and an arch that is not a
 * plain name (files are named after archs, so such a name could reach outside the images folder).
 *
 * The details file of an arch is the one the installer reads (ImageInstallation
 * FillUpImagesDetails): details-<arch>.xml, else the legacy details.xml, which then serves every
 * arch without a file of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { INSTALLER_ARCHS, archsOf, isPlainArchName, numberProblem } from '../model/installer.js';
import { CDATA, installerXmlParser, withoutByteOrderMark, xmlProblem } from './libxml.js';
import { IMAGES_XML, LEGACY_DETAILS_XML, detailsFileName } from '../model/names.js';
import { InputError, MediaComposeError, describeSystemError } from '../errors.js';
import { imagesFolderLinks, readInputText } from '../runtime/input-file.js';
import { type Report, type VerifyProblem, mediumFile, reporter } from './problems.js';

/** An image_set of images.xml, as written. */
export interface MediumImageset {
  /** `image_set N`; verify relabels it with the compose imageset it is. */
  readonly label: string;
  readonly patterns: string;
  /** False when the image_set has no <patterns> element at all (never chosen). */
  readonly hasPatterns: boolean;
  /** As written; split by the installer's rule (archsOf); empty: any arch. */
  readonly archs: string;
  readonly pkgImage: string;
  readonly images: ReadonlyArray<{ readonly name: string; readonly type: string; readonly file: string }>;
}

/** An image of a details file, its values as written. */
export interface DetailsEntry {
  readonly file: string;
  /** Absent when the image has no <files> element (optional: the installer reads it as 0). */
  readonly files?: string;
  readonly size: string;
  /** Absent when the image has no <rpms> element. */
  readonly rpms?: readonly string[];
}

export interface ImagesXmlReading {
  /** Undefined when images.xml is not usable at all (reported). */
  readonly imagesets?: readonly MediumImageset[];
  /** Set when images.xml is not well-formed XML, or refused unread: what the problem says. */
  readonly notWellFormed?: string;
  /** Findings that do not make the file unusable (an arch no installer reports). */
  readonly warnings: readonly string[];
}

export type DetailsReading =
  /** The file cannot be read (reported): `error` is the system error. */
  | { readonly kind: 'unreadable'; readonly error: unknown }
  /** Read, but not well-formed or not a details list (reported). */
  | { readonly kind: 'unusable'; readonly text: string }
  | { readonly kind: 'read'; readonly text: string; readonly entries: readonly DetailsEntry[] };

const xmlParser = installerXmlParser();

type XmlObject = Record<string, unknown>;

/**
 * The details file the installer reads on `arch`: details-<arch>.xml when the images folder has
 * it, else details.xml when it has that, else details-<arch>.xml (missing).
 */
function detailsFileOf(folder: string, arch: string): string {
  const own = detailsFileName(arch);
  if (exists(path.join(folder, own))) return own;
  return exists(path.join(folder, LEGACY_DETAILS_XML)) ? LEGACY_DETAILS_XML : own;
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The details files of these archs, each with the archs whose installer reads it, in arch order. */
export function detailsFilesOf(folder: string, archs: readonly string[]): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const arch of archs) {
    const name = detailsFileOf(folder, arch);
    files.set(name, [...(files.get(name) ?? []), arch]);
  }
  return files;
}

/** images.xml of the images folder; throws when it cannot be read or names an arch that is not plain. */
export function readImagesXml(folder: string, problems: VerifyProblem[]): ImagesXmlReading {
  const file = path.join(folder, IMAGES_XML);
  let text: string;
  try {
    text = readInputText(file, 'imagesXml', imagesFolderLinks(folder));
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    throw new InputError(file, `cannot read: ${describeSystemError(err)}`, 'build the medium first (mediacompose build COMPOSE)');
  }
  const parsed = parseXml(text, reporter(problems, null, mediumFile(IMAGES_XML)));
  if (typeof parsed === 'string') return { notWellFormed: parsed, warnings: [] };
  const imagesets = readImagesets(parsed, problems);
  const warnings: string[] = [];
  for (const set of imagesets ?? []) {
    for (const arch of archsOf(set.archs).filter(Boolean)) {
      if (!isPlainArchName(arch)) {
        throw new InputError(file, `${set.label}: arch ${JSON.stringify(arch)} is not a plain name`, 'an arch is letters, digits, "_", "-" and "."; the medium is damaged or was made to escape its folder');
      }
      if (!INSTALLER_ARCHS.includes(arch) && !warnings.some((w) => w.includes(`"${arch}"`))) {
        warnings.push(`${file}: arch "${arch}" is no arch the installer reports (${INSTALLER_ARCHS.join(', ')}): no installer deploys its image_sets`);
      }
    }
  }
  return { imagesets, warnings };
}

/**
 * A details file of the images folder (`name` from detailsFileOf), with its problems; one that
 * is no regular file or too large to be real is refused (thrown), not reported.
 */
export function readDetailsFile(folder: string, name: string, problems: VerifyProblem[]): DetailsReading {
  const report = reporter(problems, null, mediumFile(name));
  let text: string;
  try {
    text = readInputText(path.join(folder, name), 'details', imagesFolderLinks(folder));
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    report(`cannot read: ${describeSystemError(err)} (the installer then shows no progress)`);
    return { kind: 'unreadable', error: err };
  }
  const doc = parseXml(text, report);
  if (typeof doc === 'string') return { kind: 'unusable', text };
  const root = asObject(doc.image_installation_details);
  const list = root === undefined ? undefined : asObject(root.details);
  if (!list) {
    report('no <image_installation_details><details> list');
    return { kind: 'unusable', text };
  }
  checkList(list, '', 'details', 'image', report);
  const seen = new Set<string>();
  const entries = items(list, 'image').map((raw, i): DetailsEntry => {
    const image = asObject(raw) ?? {};
    const at = `image ${i + 1}`;
    const file = textField(image, 'file', at, report);
    const entry = image.files === undefined ? { file, size: textField(image, 'size', at, report) } : { file, files: textField(image, 'files', at, report), size: textField(image, 'size', at, report) };
    for (const key of ['files', 'size'] as const) {
      const value = entry[key as 'size'];
      const type = typeOf(asObject(image[key]) ?? {});
      if (value === undefined || (type !== undefined && type !== 'string')) continue; // textField reported a typed value
      const problem = numberProblem(value, undefined);
      if (problem) report(`${entry.file || at}: <${key}> ${problem}`);
    }
    const rpms = image.rpms === undefined ? undefined : asObject(image.rpms);
    if (rpms) checkList(rpms, `${entry.file}: `, 'rpms', 'rpm', report);
    if (seen.has(entry.file)) report(`${entry.file}: listed twice`);
    seen.add(entry.file);
    return rpms === undefined ? entry : { ...entry, rpms: items(rpms, 'rpm').map(textOf) };
  });
  return { kind: 'read', text, entries };
}

/** The parsed document, or what makes it not well-formed (reported). */
function parseXml(text: string, report: Report): XmlObject | string {
  const notWellFormed = (what: string): string => {
    report(`not well-formed XML: ${what}`);
    return `not well-formed XML: ${what}`;
  };
  // As strictly as the installer's libxml2, and no DTD or entity is ever read (libxml.ts).
  text = withoutByteOrderMark(text);
  const strict = xmlProblem(text);
  if (strict?.refused) {
    report(`not read: line ${strict.line}: ${strict.what}`);
    return `not read: line ${strict.line}: ${strict.what}`;
  }
  if (strict) return notWellFormed(`line ${strict.line}: ${strict.what}`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) return notWellFormed(`line ${valid.err.line}: ${valid.err.msg}`);
  let doc: XmlObject;
  try {
    doc = xmlParser.parse(text) as XmlObject;
  } catch (err) {
    return notWellFormed((err as Error).message.split('\n')[0]!);
  }
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
  const own = hasText(node as XmlObject) && children.length > 0 ? [name] : [];
  return [...own, ...children.flatMap((k) => mixedContent((node as XmlObject)[k], k))];
}

function readImagesets(doc: XmlObject, problems: VerifyProblem[]): MediumImageset[] | undefined {
  const report = reporter(problems, null, mediumFile(IMAGES_XML));
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
      patterns: set.patterns === undefined ? '' : field('patterns'),
      hasPatterns: set.patterns !== undefined,
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
  if (typeOf(list) !== 'list') report(`${where}<${name}> lacks config:type="list": the installer reads it as a map and loses items`);
  for (const key of Object.keys(list)) {
    if (key !== item && !key.startsWith('@_')) report(`${where}<${name}> holds <${key}> among its <${item}> items`);
  }
}

/** The names of an element's child elements (attributes and text left out). */
function childElements(element: XmlObject): string[] {
  return Object.keys(element).filter((k) => !k.startsWith('@_') && k !== '#text' && k !== CDATA);
}

/** An element's type as yast2 reads it: its `t` or (namespace stripped) `config:type` attribute. */
function typeOf(element: XmlObject): string | undefined {
  const type = element['@_t'] ?? element['@_type'];
  return type === undefined ? undefined : String(type);
}

function hasText(element: XmlObject): boolean {
  return '#text' in element || CDATA in element;
}

/** An element's own text: its text nodes and CDATA sections (XPath text(), as yast2 takes it). */
function ownText(element: XmlObject): string {
  const parts = [element['#text'], element[CDATA]].flat().filter((p) => p !== undefined);
  return parts.map(String).join('').trim();
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

/** The text of an item: a string, or an element's text (attributes left out). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  return ownText(asObject(value) ?? {});
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
  if (object['@_t'] !== undefined && object['@_type'] !== undefined) {
    report(`${where}: <${name}> has both t and config:type (the installer's XML reader fails)`);
  } else if (typeOf(object) !== undefined && typeOf(object) !== 'string') {
    report(`${where}: <${name}> has config:type="${typeOf(object)}" (write plain text: the installer reads a value of another type as no text at all)`);
  }
  return ownText(object);
}
