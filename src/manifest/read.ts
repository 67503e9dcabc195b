/**
 * Reading images.xml and details-<arch>.xml back, as the installer does: namespaces stripped,
 * every value a string, list items always arrays. `details` and `verify` both read this way.
 */
import { XMLParser } from 'fast-xml-parser';
import { firstNonXmlCharacter, nonXmlCharacter } from '../config/medium-limits.js';

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

/**
 * An arch name as images.xml may give it: a plain name (letters, digits, '_', '-', '.', not
 * starting with '.'). Media name files after their archs (details-<arch>.xml), so anything else
 * could name a file outside the images folder.
 */
export function isPlainArchName(arch: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(arch) && arch.length <= 64;
}

/**
 * What makes `text` unreadable for the installer's XML reader (libxml2) although the lenient
 * JavaScript parser would take it: characters XML 1.0 does not allow (raw or as character
 * references), a DOCTYPE declaration (mediacompose never writes one, and its entities could
 * name files outside the medium), and references to entities XML does not predefine.
 * Undefined when there is none of these.
 */
export function strictXmlProblem(text: string): { line: number; what: string } | undefined {
  const lineAt = (index: number): number => {
    let line = 1;
    for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
    return line;
  };
  const bad = nonXmlCharacter(text);
  if (bad !== undefined) return { line: lineAt(bad.index), what: `${bad.shown} is not allowed in XML 1.0` };
  // Comments and CDATA sections may hold '&' and '<!DOCTYPE' as plain text.
  const markup = text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, (m) => m.replace(/[^\n]/g, ' '));
  const doctype = /<!DOCTYPE/.exec(markup);
  if (doctype) return { line: lineAt(doctype.index), what: 'a DOCTYPE declaration (entities and DTDs are not read)' };
  for (const ref of markup.matchAll(/&([^;\s<&]*);?/g)) {
    const name = ref[1]!;
    const where = lineAt(ref.index);
    if (!ref[0].endsWith(';')) return { line: where, what: `"&" not starting a reference (write &amp;)` };
    if (['amp', 'lt', 'gt', 'quot', 'apos'].includes(name)) continue;
    const code = /^#x([0-9A-Fa-f]+)$/.exec(name) ? parseInt(name.slice(2), 16) : /^#([0-9]+)$/.exec(name) ? parseInt(name.slice(1), 10) : undefined;
    if (code === undefined) return { line: where, what: `reference to the undefined entity &${name};` };
    if (!(code <= 0x10ffff && firstNonXmlCharacter(String.fromCodePoint(code)) === undefined) || (code >= 0xd800 && code <= 0xdfff)) {
      return { line: where, what: `character reference &${name}; to a character XML 1.0 does not allow` };
    }
  }
  return undefined;
}
