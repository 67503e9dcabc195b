/**
 * The record kept beside each prepared root (`<name>-<arch>.prepared.json`): what it was prepared
 * from, so that a root whose inputs and solve are unchanged is reused.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ComposeSpec, ImagesetSpec } from '../config/spec.js';
import { readInput, readInputText } from '../runtime/input-file.js';
import type { TrustedKeys } from './keys.js';
import { sourceDateEpoch } from './root-tree.js';

/** Bumped when what a record means changes: older records then never match. */
const RECORD_FORMAT = 1;

/** What is kept beside each prepared root, `<name>-<arch>.prepared.json`. */
export interface RootRecord {
  readonly format: number;
  readonly fingerprint: string;
  readonly arch: string;
  readonly patterns: readonly string[];
  readonly packages: readonly string[];
  readonly recommends: boolean;
  readonly repositories: ReadonlyArray<{ name: string; url: string; gpgcheck: boolean; gpgkey?: readonly string[]; repomd?: string }>;
  /** The packages installed, sorted NAME-VERSION-RELEASE.ARCH. */
  readonly installed: readonly string[];
  readonly base?: string;
}

/** The record of a root just prepared. */
export function recordOf(spec: ComposeSpec, imageset: ImagesetSpec, fields: { fingerprint: string; installed: readonly string[]; base?: string }, repomd: Record<string, string>, trusted: TrustedKeys | undefined): RootRecord {
  return {
    format: RECORD_FORMAT,
    fingerprint: fields.fingerprint,
    arch: imageset.arch,
    patterns: imageset.patterns,
    packages: imageset.prepared?.packages ?? [],
    recommends: spec.prepare.recommends,
    repositories: repositoryInputs(spec, trusted).map((r) => ({ ...r, repomd: repomd[r.name] })),
    installed: fields.installed,
    ...(fields.base ? { base: fields.base } : {}),
  };
}

/** Writes a record whole (a temporary file renamed into place). */
export function writeRecord(file: string, record: RootRecord): void {
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

/** What a root depends on of each repository; the gpgkey fingerprints only when one is named (older fingerprints stay). */
function repositoryInputs(spec: ComposeSpec, trusted: TrustedKeys | undefined): Array<{ name: string; url: string; gpgcheck: boolean; gpgkey?: readonly string[] }> {
  return spec.repositories.map((r) => {
    const gpgkey = trusted?.fingerprints.get(r.name);
    return { name: r.name, url: r.url, gpgcheck: r.gpgcheck, ...(gpgkey ? { gpgkey } : {}) };
  });
}

/** What decides whether a root is prepared again: its inputs and the packages the solve chose. */
export function fingerprint(spec: ComposeSpec, imageset: ImagesetSpec, solved: readonly string[], trusted: TrustedKeys | undefined): string {
  const epoch = sourceDateEpoch();
  const input = {
    format: RECORD_FORMAT,
    arch: imageset.arch,
    patterns: imageset.patterns,
    packages: imageset.prepared?.packages ?? [],
    recommends: spec.prepare.recommends,
    repositories: repositoryInputs(spec, trusted),
    solved,
    // The clamp changes the roots' mtimes: another SOURCE_DATE_EPOCH is another root. Absent
    // when unset, so that roots prepared without it keep their fingerprints.
    ...(epoch === undefined ? {} : { sourceDateEpoch: epoch }),
  };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/** sha256 of each repository's repomd.xml as the probe fetched it (kept in the records). */
export function repomdDigests(probe: string, spec: ComposeSpec): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const repo of spec.repositories) {
    try {
      const text = readInput(path.join(probe, 'var/cache/zypp/raw', repo.name, 'repodata/repomd.xml'), 'repositoryIndex', 'none');
      digests[repo.name] = createHash('sha256').update(text).digest('hex');
    } catch {
      // Not every repository type has a repomd.xml (susetags); the solve still decides reuse.
    }
  }
  return digests;
}

export function recordPath(folder: string, key: string): string {
  return path.join(folder, `${key}.prepared.json`);
}

export function readRecord(folder: string, key: string): RootRecord | undefined {
  try {
    const record = JSON.parse(readInputText(recordPath(folder, key), 'rootRecord', 'none')) as RootRecord;
    return record.format === RECORD_FORMAT ? record : undefined;
  } catch {
    return undefined;
  }
}
