/**
 * The one computation of what differs between a details file on the medium and the archives it
 * describes, used by `details` (which words it as "on the medium, in the archive") and `verify`
 * (which lists it as problems). Values are compared as written: the installer reads only plain
 * decimal text as the number it means (installer.ts installerInteger). `<files>` and `<rpms>` are
 * optional (the installer reads a missing `<files>` as 0 and never reads `<rpms>`): an entry
 * without them differs only where it says something else.
 */
import type { DetailsEntry } from './reader.js';

/** What an archive holds, as its details entry should say. */
export interface ArchiveCounts {
  readonly files: number;
  readonly size: number;
  /** Package names; undefined when its imagesets have no package database. */
  readonly rpms?: readonly string[];
}

export type DetailsDifference =
  /** An archive the details file should list and does not. */
  | { readonly kind: 'unlisted'; readonly file: string; readonly archive?: ArchiveCounts }
  /** An entry for an archive the details file should not list. */
  | { readonly kind: 'extra'; readonly file: string }
  | { readonly kind: 'files' | 'size'; readonly file: string; readonly medium: string; readonly archive: number }
  | { readonly kind: 'rpms'; readonly file: string; readonly what: string };

/**
 * `expected`: the archives the details file must list, in order, each with what it holds
 * (undefined when it was not read: only its presence is compared). `rpms`: compare `<rpms>` too.
 * `alsoListed`: archives it may list besides (the legacy details.xml serves other archs too).
 * An archive listed twice is compared with its last entry, the one the installer keeps.
 */
export function detailsDifferences(
  entries: readonly DetailsEntry[],
  expected: ReadonlyMap<string, ArchiveCounts | undefined>,
  rpms: boolean,
  alsoListed: ReadonlySet<string> = new Set(),
): DetailsDifference[] {
  const listed = new Map(entries.map((e) => [e.file, e] as const));
  const found: DetailsDifference[] = [];
  for (const [file, archive] of expected) {
    const entry = listed.get(file);
    if (!entry) {
      found.push(archive === undefined ? { kind: 'unlisted', file } : { kind: 'unlisted', file, archive });
      continue;
    }
    if (archive === undefined) continue;
    if (entry.files !== undefined && entry.files !== String(archive.files)) found.push({ kind: 'files', file, medium: entry.files, archive: archive.files });
    if (entry.size !== String(archive.size)) found.push({ kind: 'size', file, medium: entry.size, archive: archive.size });
    const what = rpms ? describeRpms(entry.rpms, archive.rpms) : undefined;
    if (what) found.push({ kind: 'rpms', file, what });
  }
  for (const file of listed.keys()) {
    if (!expected.has(file) && !alsoListed.has(file)) found.push({ kind: 'extra', file });
  }
  return found;
}

function describeRpms(was: readonly string[] | undefined, now: readonly string[] | undefined): string | undefined {
  if (was === undefined) return undefined;
  if (now === undefined) return `listed on the medium, but the metadata images hold no package database`;
  const missing = multisetMinus(now, was);
  const extra = multisetMinus(was, now);
  if (missing.length === 0 && extra.length === 0) {
    return was.join() === now.join() ? undefined : 'in another order than sorted';
  }
  return [
    missing.length ? `missing on the medium: ${missing.join(' ')}` : '',
    extra.length ? `not in the archive: ${extra.join(' ')}` : '',
  ].filter(Boolean).join('; ');
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    return n === 0;
  });
}
