/**
 * The installer's rules, in one module (docs/yast-contract.md): how it reads images.xml and
 * details-<arch>.xml (namespaces stripped, every value a string, list items always arrays), how
 * it splits archs and patterns, which imageset it chooses, which archive names it accepts, and
 * how a member name becomes a path. `details` and `verify` both apply these rules and no others.
 */
import { XMLParser } from 'fast-xml-parser';
import type { BytePath } from '../model/entry.js';

/** Names of list items: forced to arrays so that one item reads like many. */
const LIST_ITEMS: ReadonlySet<string> = new Set(['image_set', 'image', 'rpm']);

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

/** yast2's splitstring: every separator splits, empty fields are kept, "" gives no field. */
function splitYast(text: string, separators: RegExp): string[] {
  return text === '' ? [] : text.split(separators);
}

/** The archs of an image_set, as the installer splits them: on ' ' and ',', empty fields kept. */
export function archsOf(archs: string): string[] {
  return splitYast(archs, /[ ,]/);
}

/** The patterns of an image_set, as the installer splits them: on ',' and ' ', empty fields kept. */
export function patternsOf(patterns: string): string[] {
  return splitYast(patterns, /[, ]/);
}

/** An image_set without archs is for every arch. */
export function isForArch(set: { archs: string }, arch: string): boolean {
  const archs = archsOf(set.archs);
  return archs.length === 0 || archs.includes(arch);
}

/**
 * The installer's choice (yast-installation ImageInstallation.FindImageSet) for one arch and the
 * patterns the user selected: the index of the imageset it deploys, or undefined when none.
 * - candidates are the imagesets for the arch, keyed by their patterns string: a later one with
 *   the same string replaces an earlier one but keeps its place (Ruby hash semantics);
 * - patterns are split on ',' and ' ', keeping empty names that never match;
 * - an imageset qualifies when all its patterns are selected; the most patterns wins, the first
 *   on a tie; an imageset without patterns qualifies for anything with zero matches.
 */
export function chooseImageset(sets: ReadonlyArray<{ patterns: string; archs: string }>, arch: string, selected: readonly string[]): number | undefined {
  const candidates = new Map<string, number>();
  const matching = new Map<string, number>();
  const sizes = new Map<string, number>();
  sets.forEach((set, index) => {
    if (!isForArch(set, arch)) return;
    const patterns = patternsOf(set.patterns);
    sizes.set(set.patterns, patterns.length);
    if (patterns.length === 0) {
      candidates.set(set.patterns, index);
      return;
    }
    const count = selected.filter((p) => patterns.includes(p)).length;
    matching.set(set.patterns, count);
    if (count > 0) candidates.set(set.patterns, index);
  });
  let best = -1;
  let chosen: number | undefined;
  for (const [patterns, index] of candidates) {
    const count = matching.get(patterns) ?? 0;
    if (count > best && count >= (sizes.get(patterns) ?? 0)) {
      best = count;
      chosen = index;
    }
  }
  return chosen;
}

/**
 * A member name as a path below the target folder, or why it is never applied: absolute names
 * and names with '..' are refused; '.' components and empty ones are dropped ('./usr/x' is
 * 'usr/x').
 */
// Names with a '.' or '..' component, an empty component, or a leading '/'.
const NOT_PLAIN = /(^|\/)\.\.?(\/|$)|\/\/|^\/|\/$|^$/;

export function memberName(name: BytePath): BytePath | { problem: string } {
  if (!NOT_PLAIN.test(name)) return name; // the usual case: keep the reader's string
  if (name.startsWith('/')) return { problem: 'an absolute name' };
  const parts = name.split('/');
  if (parts.includes('..')) return { problem: 'a name with ".."' };
  const normal = parts.filter((p) => p !== '' && p !== '.').join('/');
  return normal === '' ? { problem: 'the target directory itself' } : normal;
}
