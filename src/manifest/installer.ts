/**
 * Reading images.xml and details-<arch>.xml back, as the installer does: namespaces stripped,
 * every value a string, list items always arrays. `details` and `verify` both read this way.
 */
import { XMLParser } from 'fast-xml-parser';

/** Names of list items: forced to arrays so that one item reads like many. */
export const LIST_ITEMS: ReadonlySet<string> = new Set(['image_set', 'image', 'rpm']);

/** A parser that reads like the installer; `keepAttributes` keeps them as `@_name` (for checks). */
export function installerXmlParser(keepAttributes: boolean): XMLParser {
  return new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: !keepAttributes,
    ...(keepAttributes ? { attributeNamePrefix: '@_' } : {}),
    parseTagValue: false,
    isArray: (name) => LIST_ITEMS.has(name),
  });
}

/** An archive name images.xml may list: relative to the images folder and never outside it. */
export function liesInImagesFolder(name: string): boolean {
  return name !== '' && !name.startsWith('/') && !name.split('/').includes('..');
}
