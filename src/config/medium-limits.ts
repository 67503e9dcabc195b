/**
 * Compose-time checks of what the build would otherwise find late, or never: every file name the
 * medium will hold fits a file system (255 bytes), the medium folder and the roots do not
 * overlap, and every text that goes into images.xml is made of characters XML 1.0 allows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { archiveFileName } from '../formats/registry.js';
import { imageStem, metaStem } from '../model/names.js';
import type { ComposeProblem, SourcePosition } from '../errors.js';
import type { ComposeSpec } from './spec.js';

/** NAME_MAX of Linux file systems, in bytes. */
const NAME_MAX = 255;

/**
 * The problems of a spec that every other check passed; `mediumAt` is where medium: is written.
 * `checkMedium` false: the medium folder is replaced (--medium) and checked where that is applied.
 */
export function mediumLimitProblems(spec: ComposeSpec, mediumAt: SourcePosition | undefined, checkMedium = true): ComposeProblem[] {
  return [...fileNameProblems(spec), ...(checkMedium ? overlapProblems(spec, mediumAt) : []), ...characterProblems(spec)];
}

// ---------------------------------------------------------------------------------------------
// File names

/**
 * The longest archive names the build writes: `<name>-<arch>`, `<name>-meta-<arch>`, declared
 * `<image>-<arch>`, and with automatic layering `shared-<every imageset of the arch>-<arch>`
 * (the group of all imagesets, the longest automatic name), each with the format's extension.
 */
function fileNameProblems(spec: ComposeSpec): ComposeProblem[] {
  const fileName = (stem: string): string => archiveFileName(stem, spec.compression);
  const problems: ComposeProblem[] = [];
  const tooLong = (stem: string): number | undefined => {
    const bytes = Buffer.byteLength(fileName(stem));
    return bytes > NAME_MAX ? bytes : undefined;
  };
  const hint = `file names on the medium are at most ${NAME_MAX} bytes; use a shorter name`;
  for (const set of spec.imagesets) {
    const bytes = tooLong(metaStem(set.name, set.arch));
    if (bytes !== undefined) {
      problems.push(at(set.position, `imageset name "${set.name}" makes a ${bytes}-byte file name (${fileName(metaStem(set.name, set.arch))})`, hint));
    }
  }
  const archs = [...new Set(spec.imagesets.map((s) => s.arch))];
  for (const image of spec.images) {
    for (const arch of archs) {
      const bytes = tooLong(imageStem(image.name, arch));
      if (bytes !== undefined) {
        problems.push(at(image.position, `image name "${image.name}" makes a ${bytes}-byte file name (${fileName(imageStem(image.name, arch))})`, hint));
        break;
      }
    }
  }
  if (spec.layering.auto) {
    for (const arch of archs) {
      const sets = spec.imagesets.filter((s) => s.arch === arch);
      if (sets.length < 2) continue;
      const stem = imageStem(`shared-${sets.map((s) => s.name).join('-')}`, arch);
      const bytes = tooLong(stem);
      if (bytes !== undefined) {
        problems.push(
          at(
            sets[0]!.position,
            `the shared image of all ${sets.length} imagesets of ${arch} would have a ${bytes}-byte file name (${stem.slice(0, 40)}…)`,
            `automatic layering names shared images after their imagesets; use shorter imageset names or declare the shared images under images:`,
          ),
        );
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Medium and roots

/**
 * A root inside the medium folder is moved away and deleted with the old images/; a medium
 * inside a root is archived into that root's own image. Paths are compared after resolving
 * symlinks (the medium folder may not exist yet: its nearest existing parent is resolved).
 */
export function overlapProblems(spec: ComposeSpec, mediumAt: SourcePosition | undefined): ComposeProblem[] {
  const medium = resolveExisting(spec.medium);
  const problems: ComposeProblem[] = [];
  const mediumLine = mediumAt ? ` (medium: at line ${mediumAt.line})` : '';
  for (const set of spec.imagesets) {
    const root = set.root;
    if (isAtOrBelow(root, medium)) {
      problems.push(
        at(set.position, `root "${set.rootAsWritten}" lies inside the medium folder ${spec.medium}${mediumLine}`, 'a build replaces the medium and would delete the root; keep roots outside the medium folder'),
      );
    } else if (isAtOrBelow(medium, root)) {
      problems.push(
        at(mediumAt ?? set.position, `the medium folder ${spec.medium} lies inside root "${set.rootAsWritten}" of imageset "${set.name}" (line ${set.position?.line ?? '?'})`, "the build would archive the medium into the root's own image; write the medium outside every root"),
      );
    }
  }
  return problems;
}

function resolveExisting(file: string): string {
  const rest: string[] = [];
  let dir = path.resolve(file);
  for (;;) {
    try {
      return path.join(fs.realpathSync(dir), ...rest.reverse());
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return path.resolve(file);
      rest.push(path.basename(dir));
      dir = parent;
    }
  }
}

function isAtOrBelow(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)) || folder === '/';
}

// ---------------------------------------------------------------------------------------------
// XML characters

/**
 * Titles, labels and patterns are written into images.xml as text. XML 1.0 allows tab, line
 * feed, carriage return, U+0020..U+D7FF, U+E000..U+FFFD and U+10000..U+10FFFF; anything else
 * (control characters, NUL, U+FFFE, U+FFFF, lone surrogates) makes a file the installer
 * cannot read.
 */
function characterProblems(spec: ComposeSpec): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const check = (where: SourcePosition | undefined, key: string, value: string): void => {
    const bad = firstNonXmlCharacter(value);
    if (bad !== undefined) {
      problems.push(at(where, `${key} ${JSON.stringify(value)} contains ${bad}, which XML 1.0 does not allow`, 'images.xml would not be well-formed and the installer could not read it; remove the character'));
    }
  };
  for (const set of spec.imagesets) {
    check(set.position, `title of imageset "${set.name}"`, set.title);
    for (const pattern of set.patterns) check(set.position, `pattern of imageset "${set.name}"`, pattern);
  }
  for (const image of spec.images) check(image.position, `label of image "${image.name}"`, image.label);
  return problems;
}

/** The first character of `text` XML 1.0 does not allow, as "U+XXXX"; undefined when none. */
export function firstNonXmlCharacter(text: string): string | undefined {
  return nonXmlCharacter(text)?.shown;
}

/** The first character of `text` XML 1.0 does not allow: its index and how to show it. */
export function nonXmlCharacter(text: string): { index: number; shown: string } | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, shown: `a lone surrogate U+${hex(c)}` };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { index: i, shown: `a lone surrogate U+${hex(c)}` };
    if (c === 0x9 || c === 0xa || c === 0xd) continue;
    if (c < 0x20 || c === 0xfffe || c === 0xffff) return { index: i, shown: `U+${hex(c)}` };
  }
  return undefined;
}

function hex(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

function at(position: SourcePosition | undefined, what: string, hint: string): ComposeProblem {
  return position ? { position, what, hint } : { what, hint };
}
