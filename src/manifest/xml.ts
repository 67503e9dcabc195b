/**
 * images.xml and details-<arch>.xml, as the installer reads them (docs/yast-contract.md):
 * the yast2 namespaces, lists typed with config:type="list", numbers as plain decimal text.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';

const YAST_NS = 'http://www.suse.com/1.0/yast2ns';
const CONFIG_NS = 'http://www.suse.com/1.0/configns';

interface ImagesXmlImage {
  /** Label shown in the progress dialog. */
  readonly name: string;
  /** Archive file name, relative to /images/. */
  readonly file: string;
}

export interface ImagesXmlImageset {
  /** Pattern names; written comma-separated, no spaces. */
  readonly patterns: readonly string[];
  readonly arch: string;
  readonly pkgImage: string;
  readonly images: readonly ImagesXmlImage[];
}

export interface DetailsImage {
  readonly file: string;
  readonly files: number;
  readonly size: number;
  /** Package names owning a non-directory member; absent when the root has no database. */
  readonly rpms?: readonly string[];
}

function document(rootName: string): XMLBuilder {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(YAST_NS, rootName)
    .att('http://www.w3.org/2000/xmlns/', 'xmlns:config', CONFIG_NS);
}

function list(parent: XMLBuilder, name: string): XMLBuilder {
  return parent.ele(YAST_NS, name).att(CONFIG_NS, 'config:type', 'list');
}

function text(parent: XMLBuilder, name: string, value: string): void {
  parent.ele(YAST_NS, name).txt(value);
}

function serialize(root: XMLBuilder): string {
  return root.end({ prettyPrint: true, indent: '  ', newline: '\n' }) + '\n';
}

export function imagesXml(imagesets: readonly ImagesXmlImageset[]): string {
  const root = document('image_installation');
  const sets = list(root, 'image_sets');
  for (const set of imagesets) {
    const el = sets.ele(YAST_NS, 'image_set');
    text(el, 'patterns', set.patterns.join(','));
    text(el, 'archs', set.arch);
    text(el, 'pkg_image', set.pkgImage);
    const images = list(el, 'images');
    for (const image of set.images) {
      const i = images.ele(YAST_NS, 'image');
      text(i, 'name', image.name);
      text(i, 'type', 'tar');
      text(i, 'file', image.file);
    }
  }
  return serialize(root);
}

export function detailsXml(images: readonly DetailsImage[]): string {
  const root = document('image_installation_details');
  const details = list(root, 'details');
  for (const image of images) {
    const el = details.ele(YAST_NS, 'image');
    text(el, 'file', image.file);
    text(el, 'files', String(image.files));
    if (image.rpms) {
      const rpms = list(el, 'rpms');
      for (const name of image.rpms) text(rpms, 'rpm', name);
    }
    text(el, 'size', String(image.size));
  }
  return serialize(root);
}
