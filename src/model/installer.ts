/**
 * The installer's rules, in one module (docs/yast-contract.md), as its own code applies them
 * (yast-installation ImageInstallation, yast2 Arch, yast-ruby-bindings Builtins): which
 * decompressor it runs for an archive name (what each one reads is the format's own fact:
 * formats/registry.ts), how it splits archs and patterns, which imageset it
 * chooses, which archs it knows, how it reads a number, which archive names it accepts, and how a
 * member name becomes a path. How it parses the XML itself is libxml.ts. compose.yaml checks, `details` and
 * `verify` all apply these rules and no others. Pure: no file is read here.
 */
import type { BytePath } from '../model/entry.js';

// ---------------------------------------------------------------------------------------------
// Names

/** An archive name images.xml may list: relative to the images folder and never outside it. */
export function liesInImagesFolder(name: string): boolean {
  return name !== '' && !name.startsWith('/') && !name.split('/').includes('..');
}

// ---------------------------------------------------------------------------------------------
// The decompressor is chosen by file name

/** What the installer runs for an archive: by name only, never by content. */
export type InstallerDecompressor = 'lzmadec' | 'xzdec' | 'tar';

/**
 * ImageInstallation.DeployTar: `regexpmatch(image, ".lzma$")` first, then `".xz$"`; every other
 * name goes to GNU tar's own detection. The dot is a regular-expression dot (any character).
 */
export function installerDecompressor(name: string): InstallerDecompressor {
  if (/.lzma$/.test(name)) return 'lzmadec';
  if (/.xz$/.test(name)) return 'xzdec';
  return 'tar';
}

/** The installer's command line for an archive, for messages (target folder left out). */
export function installerCommandLine(name: string): string {
  const tar = 'tar --numeric-owner --record-size=10240';
  switch (installerDecompressor(name)) {
    case 'lzmadec': return `lzmadec < ${name} | ${tar} -xf -`;
    case 'xzdec': return `xzdec < ${name} | ${tar} -xf -`;
    case 'tar': return `${tar} -xf ${name}`;
  }
}

/** How to name an archive for this command to be run on it, after "rename it to". */
export function installerNameFor(decompressor: InstallerDecompressor): string {
  switch (decompressor) {
    case 'lzmadec': return 'end in .lzma';
    case 'xzdec': return 'end in .xz';
    case 'tar': return 'a name not ending in .xz or .lzma (e.g. .tar.gz or .tar.bzip2)';
  }
}

// ---------------------------------------------------------------------------------------------
// Archs, patterns and which imageset wins

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

/** An image_set as FindImageSet sees it; `patterns` undefined: the element is absent. */
export interface ImagesetForChoice {
  readonly patterns: string | undefined;
  /** The text of `<archs>` ('' when absent). */
  readonly archs: string;
}

/**
 * The installer's choice (ImageInstallation.FindImageSet) for one arch and the patterns the user
 * selected: the index of the imageset it deploys, or undefined (image installation switched off).
 * - candidates are the imagesets for the arch, keyed by their patterns string: a later one with
 *   the same string replaces an earlier one;
 * - patterns are split on ',' and ' ', keeping empty names that never match;
 * - no `<patterns>` element: never chosen (splitstring(nil) is nil); an empty `<patterns/>`
 *   qualifies for any selection with zero matches;
 * - an imageset qualifies when all its patterns are selected; the most matches wins, and the
 *   candidates are walked in byte order of their patterns strings (Builtins.foreach sorts hash
 *   keys), so on a tie the string that sorts first wins, not the first in the file.
 */
export function chooseImageset(sets: readonly ImagesetForChoice[], arch: string, selected: readonly string[]): number | undefined {
  const candidates = new Map<string, number>();
  const matching = new Map<string, number>();
  const sizes = new Map<string, number>();
  sets.forEach((set, index) => {
    if (!isForArch(set, arch)) return;
    if (set.patterns === undefined) return;
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
  for (const key of [...candidates.keys()].sort(byBytes)) {
    const count = matching.get(key) ?? 0;
    if (count > best && count >= (sizes.get(key) ?? 0)) {
      best = count;
      chosen = candidates.get(key);
    }
  }
  return chosen;
}

/** Byte order of UTF-8 strings (Ruby's String#<=>). */
export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The set a patterns list names, order and repeats left out: two lists with one key clash. */
export function patternSetKey(patterns: readonly string[]): string {
  return [...new Set(patterns)].sort(byBytes).join(',');
}

/** Arch.arch_short of the current installer: ppc64 gives ppc, s390_64 s390, sparc64 sparc. */
export const INSTALLER_ARCHS: readonly string[] = [
  'i386', 'x86_64', 'ppc', 's390', 'sparc', 'alpha', 'ia64', 'arm', 'aarch64', 'riscv64',
];

/** Names people write that the installer calls something else. */
export const ARCH_ALIASES: Readonly<Record<string, string>> = {
  i586: 'i386',
  i686: 'i386',
  amd64: 'x86_64',
  ppc64: 'ppc',
  ppc64le: 'ppc',
  s390x: 's390',
  arm64: 'aarch64',
};

/** Archs older installers knew and the current one never reports. */
const RETIRED_ARCHS: Readonly<Record<string, string>> = {
  mips: 'the current installer has no mips arch (yast2 Arch dropped it)',
  mips64: 'the current installer has no mips arch (yast2 Arch dropped it)',
};

/** Why an arch is refused, with a hint; undefined when the installer knows it. */
export function archProblem(arch: string): { what: string; hint: string } | undefined {
  if (INSTALLER_ARCHS.includes(arch)) return undefined;
  const alias = ARCH_ALIASES[arch];
  const hint = alias ? `the installer calls this arch "${alias}"` : RETIRED_ARCHS[arch] ?? `use one of: ${INSTALLER_ARCHS.join(', ')}`;
  return { what: `unknown arch "${arch}"`, hint };
}

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * Builtins.tointeger on a string, as the installer reads `<size>` and `<files>`: a leading "0x"
 * is hex, any other leading "0" octal (up to the first non-octal digit), otherwise the first
 * run of digits anywhere; null when there is none.
 */
export function installerInteger(text: string): number | null {
  if (text[0] === '0') {
    if (text[1] === 'x') return rubyToI(text.slice(2), 16);
    return rubyToI(text, 8);
  }
  const match = /-?\d+/.exec(text);
  return match ? Number.parseInt(match[0], 10) : null;
}

/** Ruby's String#to_i(base): leading whitespace and sign, digits up to the first invalid one, else 0. */
function rubyToI(text: string, base: 8 | 16): number {
  const digits = base === 8 ? '[0-7]' : '[0-9a-fA-F]';
  const match = new RegExp(`^\\s*([-+]?)(${digits}+(?:_${digits}+)*)`).exec(text);
  if (!match) return 0;
  const value = Number.parseInt(match[2]!.replaceAll('_', ''), base);
  return match[1] === '-' ? -value : value;
}

/**
 * What the installer makes of a `<size>` or `<files>` element that should hold `expected`:
 * undefined when it reads exactly that, otherwise why not. `type` is its config:type, if any.
 */
export function numberProblem(text: string, type: string | undefined, expected?: number): string | undefined {
  if (type !== undefined && type !== 'string') {
    return `has config:type="${type}": the installer reads only untyped text here and gets no number (no progress bar)`;
  }
  const read = installerInteger(text);
  if (!/^(0|[1-9][0-9]*)$/.test(text)) {
    return `"${text}" is not plain decimal: the installer reads it as ${read === null ? 'no number' : read}`;
  }
  if (expected !== undefined && read !== expected) return `the installer reads ${read}, the archive has ${expected}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Member names

// Names with a '.' or '..' component, an empty component, or a leading '/'.
const NOT_PLAIN = /(^|\/)\.\.?(\/|$)|\/\/|^\/|\/$|^$/;

/**
 * A member name as a path below the target folder, or why it is never applied: absolute names
 * and names with '..' are refused; '.' components and empty ones are dropped ('./usr/x' is
 * 'usr/x').
 */
export function memberName(name: BytePath): BytePath | { problem: string } {
  if (!NOT_PLAIN.test(name)) return name; // the usual case: keep the reader's string
  if (name.startsWith('/')) return { problem: 'an absolute name' };
  const parts = name.split('/');
  if (parts.includes('..')) return { problem: 'a name with ".."' };
  const normal = parts.filter((p) => p !== '' && p !== '.').join('/');
  return normal === '' ? { problem: 'the target directory itself' } : normal;
}

/**
 * An arch name as images.xml may give it: a plain name (letters, digits, '_', '-', '.', not
 * starting with '.'). Media name files after their archs (details-<arch>.xml), so anything else
 * could name a file outside the images folder.
 */
export function isPlainArchName(arch: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(arch) && arch.length <= 64;
}
