/**
 * The archives of the medium: each streamed once, also when several imagesets list it, and kept
 * as member headers with the sha256 of their content, so that memory grows with the number of
 * members, never with bytes. Then checked: readable, the format their names promise, safe member
 * names, and the details files: the archives each lists and their counts.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import pLimit from 'p-limit';
import type { DecodedMember } from '../archive/tar-decode.js';
import { readArchive } from '../archive/reader.js';
import { MediaComposeError, formatProblem } from '../errors.js';
import type { Progress } from '../runtime/progress.js';
import { imagesFolderLinks } from '../runtime/input-file.js';
import { type BytePath, printable } from '../model/entry.js';
import type { Medium } from '../manifest/medium.js';
import { type VerifyProblem, mediumFile, reporter } from '../manifest/problems.js';
import { type ArchiveFormat, decompressorProblem } from '../formats/registry.js';
import { isForArch, memberName } from '../model/installer.js';
import { type ArchiveCounts, detailsDifferences } from '../manifest/details-differences.js';
import { formatMB, secondsSince } from '../runtime/format.js';

/** A member as replay needs it: a safe, normalised path, and the digest of its content. */
export interface ListedMember {
  readonly header: DecodedMember;
  /** Normalised path; undefined when the member is refused (reported, never applied). */
  readonly path?: BytePath;
  /** Normalised hardlink target. */
  readonly linkTarget?: BytePath;
  /** sha256 of a regular file's content. */
  digest?: string;
}

export interface Listing {
  readonly kind: 'listing';
  readonly file: string;
  readonly format: ArchiveFormat;
  /** Uncompressed tar stream length. */
  readonly size: number;
  /** Member count (extended headers not counted). */
  readonly count: number;
  readonly members: readonly ListedMember[];
  /** Members never applied: unsafe names, unknown types. */
  readonly refused: readonly string[];
}

export interface Unreadable {
  readonly kind: 'unreadable';
  readonly file: string;
  readonly what: string;
  readonly error: string;
}

export type ArchiveReading = Listing | Unreadable;

/** Every archive file images.xml or a details file names that exists, in first-named order. */
export function archivesToRead(medium: Medium): string[] {
  const names = [
    ...(medium.imagesets ?? []).flatMap((s) => s.images.map((i) => i.file)),
    ...[...medium.details.values()].flatMap(({ entries }) => (entries ?? []).map((e) => e.file)),
  ];
  return [...new Set(names)].filter((name) => medium.present.has(name));
}

export async function readArchives(folder: string, names: readonly string[], jobs: number, progress: Progress): Promise<Map<string, ArchiveReading>> {
  const limit = pLimit(Math.max(1, jobs));
  const readings = await Promise.all(names.map((name) => limit(() => listArchive(folder, name, progress))));
  return new Map(names.map((name, i) => [name, readings[i]!]));
}

async function listArchive(folder: string, name: string, progress: Progress): Promise<ArchiveReading> {
  const started = Date.now();
  const members: ListedMember[] = [];
  const refused: string[] = [];
  // The reader hands over a member's content in pieces after its header: its digest is complete
  // when the next member arrives, or the archive ends.
  let open: { member: ListedMember; hash: ReturnType<typeof createHash> } | undefined;
  const close = (): void => {
    if (open) open.member.digest = open.hash.digest('hex');
    open = undefined;
  };
  try {
    const totals = await readArchive(path.join(folder, name), imagesFolderLinks(folder), (header) => {
      close();
      const member = listedMember(header, (what) => refused.push(what));
      members.push(member);
      if (header.type !== 'file') return undefined;
      open = { member, hash: createHash('sha256') };
      return open.hash;
    });
    close();
    progress.info(`read ${name}: ${totals.members} members, ${formatMB(totals.size)} in ${secondsSince(started)}`);
    return { kind: 'listing', file: name, format: totals.format, size: totals.size, count: totals.members, members, refused };
  } catch (err) {
    if (!(err instanceof MediaComposeError)) throw err;
    return { kind: 'unreadable', file: name, what: formatProblem(undefined, err.what, err.hint), error: err.message };
  }
}

/** Per archive: readable, the format its name promises, safe member names, exact details. */
export function checkArchives(medium: Medium, archives: ReadonlyMap<string, ArchiveReading>, problems: VerifyProblem[]): void {
  for (const reading of archives.values()) {
    const report = reporter(problems, null, mediumFile(reading.file));
    if (reading.kind === 'unreadable') {
      report(`unreadable: ${reading.what}`);
      continue;
    }
    const unreadable = decompressorProblem(reading.file, reading.format);
    if (unreadable) report(unreadable);
    for (const what of reading.refused) report(what);
  }
  checkDetails(medium, archives, problems);
}

/**
 * Each details file lists exactly the archives of its arch's imagesets, with their counts (when
 * images.xml is usable; otherwise only the counts of the archives it lists).
 */
function checkDetails(medium: Medium, archives: ReadonlyMap<string, ArchiveReading>, problems: VerifyProblem[]): void {
  const counts = (file: string): ArchiveCounts | undefined => {
    const reading = archives.get(file);
    return reading?.kind === 'listing' ? { files: reading.count, size: reading.size } : undefined;
  };
  for (const [name, { archs, entries }] of medium.details) {
    if (entries === undefined) continue;
    const report = reporter(problems, null, mediumFile(name));
    const used = medium.imagesets === undefined
      ? entries.map((e) => e.file)
      : medium.imagesets.filter((s) => archs.some((arch) => isForArch(s, arch))).flatMap((s) => s.images.map((i) => i.file));
    const arch = archs.join(', ');
    const differences = detailsDifferences(entries, new Map(used.map((file) => [file, counts(file)])), false);
    for (const d of differences) {
      switch (d.kind) {
        case 'unlisted': report(`${d.file} is not listed (the installer shows no progress for it)`); break;
        case 'extra': report(`${d.file} is listed but no imageset of ${arch} uses it`); break;
        case 'size': report(`${d.file}: size ${d.medium}, but the archive is ${d.archive} bytes uncompressed`); break;
        case 'files': report(`${d.file}: files ${d.medium}, but the archive has ${d.archive} members`); break;
        case 'rpms': break; // verify reads no package databases
      }
    }
  }
}

/** What GNU tar 1.34 does with the member types mediacompose never writes. */
const OTHER_TYPES: Readonly<Record<string, string>> = {
  V: 'a volume label: GNU tar skips it',
  D: 'an incremental dump directory: GNU tar makes a directory',
};

/**
 * A member with its normalised path (and hardlink target), or without a path when it must not be
 * applied: absolute names and names with '..' are reported and never followed.
 */
function listedMember(header: DecodedMember, refuse: (what: string) => void): ListedMember {
  const name = memberName(header.path);
  if (typeof name !== 'string') {
    refuse(`member "${printable(header.path)}": ${name.problem}; never applied`);
    return { header };
  }
  if (header.type === 'other') {
    refuse(`member "${printable(header.path)}": type ${JSON.stringify(header.typeflag)}, which mediacompose never writes (${OTHER_TYPES[header.typeflag] ?? 'GNU tar extracts it as a regular file'}); not applied`);
    return { header };
  }
  if (header.type !== 'link') return { header, path: name };
  const target = memberName(header.linkname);
  if (typeof target !== 'string') {
    refuse(`member "${printable(header.path)}": hard link to "${printable(header.linkname)}", ${target.problem}; never applied`);
    return { header };
  }
  return { header, path: name, linkTarget: target };
}

