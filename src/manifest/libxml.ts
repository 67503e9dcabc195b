/**
 * What the installer's XML parser accepts, and how it reads text (docs/yast-contract.md, "XML
 * reading rules"). yast2's XML.XMLToYCPString parses with libxml2 in strict mode
 * (`Nokogiri::XML(xml, &:strict)`), strips the namespaces, and takes an element's own text nodes,
 * stripped of leading and trailing white space. Pure: no file is read here.
 *
 * Accepted, as libxml2 accepts them: a UTF-8 byte order mark, CRLF line ends, comments,
 * processing instructions, CDATA sections, a bare `<!DOCTYPE name>` before the root element (the
 * second line of every real images.xml and details file), the five predefined entities and
 * character references, decoded where text and attribute values are read.
 *
 * Refused, with the line: characters XML 1.0 does not allow (raw or as references), a DOCTYPE
 * with an internal subset or an external identifier (SYSTEM/PUBLIC), a DOCTYPE after the root
 * element or given twice, and a reference to any other entity. The installer would read a file
 * with an internal subset, but its entities could name files outside the medium: mediacompose
 * never declares, loads or expands an entity, so nothing is ever read through one.
 */
import { XMLParser } from 'fast-xml-parser';
import { firstNonXmlCharacter, nonXmlCharacter } from '../config/medium-limits.js';

/** Names of list items: forced to arrays so that one item reads like many. */
const LIST_ITEMS: ReadonlySet<string> = new Set(['image_set', 'image', 'rpm']);

/** The property a CDATA section's text is kept under (never decoded, as libxml2 keeps it). */
export const CDATA = '#cdata';

/**
 * A parser that reads like the installer; attributes are kept as `@_name` (for checks). Text and
 * attribute values come back with line ends normalised and references decoded, as libxml2 gives
 * them; text stripped as yast2 strips it.
 */
export function installerXmlParser(): XMLParser {
  return new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    processEntities: false,
    cdataPropName: CDATA,
    tagValueProcessor: (_name, value) => rubyStrip(decodeReferences(normaliseLineEnds(value))),
    attributeValueProcessor: (_name, value) => decodeReferences(normaliseLineEnds(value)),
    isArray: (name) => LIST_ITEMS.has(name),
  });
}

/** The text without a leading UTF-8 byte order mark (libxml2 takes it as the encoding's mark). */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** XML 1.0 section 2.11: CRLF and a lone CR are read as LF. */
function normaliseLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Ruby's String#strip: ASCII white space and NUL at both ends (not JavaScript's Unicode set). */
function rubyStrip(text: string): string {
  return text.replace(/^[\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g, '');
}

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The five predefined entities and character references decoded, in one pass (`&amp;#97;` is
 * `&#97;`, not `a`). Anything else was refused before parsing (xmlProblem) and is left as written.
 */
export function decodeReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, name: string) => {
    if (name[0] !== '#') return PREDEFINED[name]!;
    const code = characterCode(name);
    return code === undefined ? whole : String.fromCodePoint(code);
  });
}

/** The code point of `#123` or `#x7B`; undefined past U+10FFFF. */
function characterCode(name: string): number | undefined {
  const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
  return code <= 0x10ffff ? code : undefined;
}

// `<!DOCTYPE` Name, then what may follow it: `>` alone is a bare declaration.
const DOCTYPE = /<!DOCTYPE(?:\s+([^\s[>]+))?\s*([\s\S]?)/g;

/**
 * What makes `text` unreadable for the installer's XML reader, or refused by mediacompose
 * (`refused`: well-formed, but with a DTD that is never read), although the lenient JavaScript
 * parser would take it; undefined when there is none. `text` has no byte order mark
 * (withoutByteOrderMark).
 */
export function xmlProblem(text: string): { line: number; what: string; refused?: true } | undefined {
  const lineAt = (index: number): number => {
    let line = 1;
    for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
    return line;
  };
  const bad = nonXmlCharacter(text);
  if (bad !== undefined) return { line: lineAt(bad.index), what: `${bad.shown} is not allowed in XML 1.0` };
  // Comments, processing instructions and CDATA sections may hold '&' and '<!DOCTYPE' as text.
  const markup = text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g, (m) => m.replace(/[^\n]/g, ' '));
  const doctype = doctypeProblem(markup);
  if (doctype) return { line: lineAt(doctype.index), what: doctype.what, ...(doctype.refused ? { refused: true as const } : {}) };
  for (const ref of markup.matchAll(/&([^;\s<&]*);?/g)) {
    const name = ref[1]!;
    const where = lineAt(ref.index);
    if (!ref[0].endsWith(';')) return { line: where, what: `"&" not starting a reference (write &amp;)` };
    if (name in PREDEFINED) continue;
    const code = /^#x[0-9A-Fa-f]+$|^#[0-9]+$/.test(name) ? characterCode(name) : undefined;
    if (!/^#/.test(name)) return { line: where, what: `reference to the undefined entity &${name};` };
    if (code === undefined || (code >= 0xd800 && code <= 0xdfff) || firstNonXmlCharacter(String.fromCodePoint(code)) !== undefined) {
      return { line: where, what: `character reference &${name}; to a character XML 1.0 does not allow` };
    }
  }
  return undefined;
}

/** A DOCTYPE declaration other than one bare `<!DOCTYPE name>` before the root element. */
function doctypeProblem(markup: string): { index: number; what: string; refused?: boolean } | undefined {
  const root = /<[A-Za-z_:]/.exec(markup)?.index ?? markup.length;
  let seen = false;
  for (const m of markup.matchAll(DOCTYPE)) {
    const [, name, next] = m;
    const problem = (what: string): { index: number; what: string } => ({ index: m.index, what });
    if (m.index > root) return problem('a DOCTYPE declaration after the root element');
    if (seen) return problem('a second DOCTYPE declaration');
    seen = true;
    if (name === undefined) return problem('a DOCTYPE declaration without a name');
    // Well-formed, and libxml2 would read them; mediacompose never does (see the header).
    if (next === '[') return { ...problem('a DOCTYPE with an internal subset (entity and DTD declarations are never read)'), refused: true };
    if (next !== '>') return { ...problem('a DOCTYPE naming an external DTD (SYSTEM or PUBLIC: never read)'), refused: true };
  }
  return undefined;
}
