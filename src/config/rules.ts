/**
 * The cross-item rules of compose.yaml: imageset names, patterns (also as a set: the installer's
 * sorted tie-break never chooses a reordered duplicate) and file names unique per arch,
 * shared image names unique and not clashing with an imageset's file names; and the drafts
 * completed into the frozen spec.
 */
import * as path from 'node:path';
import type { ImagesetSpec, PrepareSpec, SharedImageSpec } from './spec.js';
import { patternSetKey } from '../model/installer.js';
import { archiveFilePattern } from '../model/names.js';
import { Reader, duplicates } from './reader.js';
import type { ImageDraft, ImagesetDraft } from './imagesets.js';

// ---------------------------------------------------------------------------------------------
// Imageset uniqueness (per arch)

export function checkImagesets(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  checkImagesetNames(reader, drafts);
  checkImagesetPatterns(reader, drafts);
  checkMetadataStems(reader, drafts);
}

function checkImagesetNames(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  const named = drafts.filter((d) => d.name && d.arch);
  for (const [dup, first] of duplicates(named, (d) => `${d.arch}\n${d.name?.name}`)) {
    reader.problem(
      dup.name?.at,
      `duplicate imageset "${dup.name?.name}" for arch ${dup.arch}`,
      `the first one is at line ${first.name?.at.line}; imageset names must be unique per arch`,
    );
  }
}

function checkImagesetPatterns(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  const withPatterns = drafts.filter((d) => d.patterns && d.arch);
  const joined = (d: ImagesetDraft): string => d.patterns?.list.join(',') ?? '';
  for (const [dup, first] of duplicates(withPatterns, (d) => `${d.arch}\n${joined(d)}`)) {
    reader.problem(
      dup.patterns?.at,
      `patterns "${joined(dup)}" for arch ${dup.arch} are already used by ${describeImageset(first)}`,
      'the installer keys imagesets by their patterns string; two with the same one overwrite each other',
    );
  }
  // The same pattern set in another order is another key: the installer walks the keys sorted and
  // takes the first on a tie, so the other imageset can never be chosen.
  const exact = new Set(duplicates(withPatterns, (d) => `${d.arch}\n${joined(d)}`).map(([dup]) => dup));
  const reordered = withPatterns.filter((d) => !exact.has(d));
  for (const [dup, first] of duplicates(reordered, (d) => `${d.arch}\n${patternSetKey(d.patterns!.list)}`)) {
    if (joined(dup) === joined(first)) continue;
    reader.problem(
      dup.patterns?.at,
      `patterns "${joined(dup)}" for arch ${dup.arch} are the patterns "${joined(first)}" of ${describeImageset(first)} in another order`,
      'the installer sees two different patterns strings and never chooses one of them; keep one imageset per pattern set',
    );
  }
}

/** An imageset named `<other>-meta` would write the same archive as the metadata image of `<other>`. */
function checkMetadataStems(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  for (const draft of drafts) {
    if (!draft.name || !draft.arch || !draft.name.name.endsWith('-meta')) continue;
    const owner = draft.name.name.slice(0, -'-meta'.length);
    if (drafts.some((d) => d.name?.name === owner && d.arch === draft.arch)) {
      reader.problem(
        draft.name.at,
        `imageset "${draft.name.name}" has the same file name as the metadata image of imageset "${owner}"`,
        `both would be written as ${archiveFilePattern(draft.name.name, draft.arch)}; rename one of them`,
      );
    }
  }
}

function describeImageset(draft: ImagesetDraft): string {
  return draft.name ? `imageset "${draft.name.name}" (line ${draft.at.line})` : `the imageset at line ${draft.at.line}`;
}

export function completeImageset(draft: ImagesetDraft, prepare: PrepareSpec): ImagesetSpec {
  const { name, title, patterns, root, arch } = draft;
  if (!name || title === undefined || !patterns || !root || !arch) {
    throw new Error(`internal error: incomplete imageset at line ${draft.at.line}`);
  }
  if (root === 'prepared') {
    // No root: prepared from the repositories into <prepare.roots>/<name>-<arch> (src/prepare/).
    const folder = `${name.name}-${arch}`;
    return {
      name: name.name,
      title,
      patterns: patterns.list,
      root: path.join(prepare.roots, folder),
      rootAsWritten: path.join(prepare.rootsAsWritten, folder),
      prepared: { packages: draft.packages },
      arch,
      position: draft.at,
    };
  }
  return {
    name: name.name,
    title,
    patterns: patterns.list,
    root: root.resolved,
    rootAsWritten: root.written,
    arch,
    position: draft.at,
  };
}


export function checkImages(reader: Reader, images: readonly ImageDraft[], imagesets: readonly ImagesetDraft[]): void {
  checkImageNames(reader, images);
  checkImageStems(reader, images, imagesets);
}

function checkImageNames(reader: Reader, images: readonly ImageDraft[]): void {
  const named = images.filter((d) => d.name);
  for (const [dup, first] of duplicates(named, (d) => d.name?.name ?? '')) {
    reader.problem(
      dup.name?.at,
      `duplicate image "${dup.name?.name}"`,
      `the first one is at line ${first.name?.at.line}; image names must be unique`,
    );
  }
}

/** A shared image must not share a file stem with an imageset's own or metadata image. */
function checkImageStems(reader: Reader, images: readonly ImageDraft[], imagesets: readonly ImagesetDraft[]): void {
  const imagesetNames = new Set(imagesets.flatMap((d) => (d.name ? [d.name.name] : [])));
  for (const image of images) {
    if (!image.name) continue;
    const name = image.name.name;
    const clash = imagesetNames.has(name)
      ? `the own image of imageset "${name}"`
      : name.endsWith('-meta') && imagesetNames.has(name.slice(0, -'-meta'.length))
        ? `the metadata image of imageset "${name.slice(0, -'-meta'.length)}"`
        : undefined;
    if (clash) {
      reader.problem(
        image.name.at,
        `image "${name}" has the same file name as ${clash}`,
        `both would be written as ${archiveFilePattern(name)} and overwrite each other; rename the image`,
      );
    }
  }
}

export function completeImage(draft: ImageDraft): SharedImageSpec {
  const { name, label, sharedBy } = draft;
  if (!name || label === undefined || !sharedBy) {
    throw new Error(`internal error: incomplete image at line ${draft.at.line}`);
  }
  return { name: name.name, label, sharedBy, position: draft.at };
}
