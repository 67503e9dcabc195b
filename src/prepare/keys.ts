/**
 * Which keys a repository's signatures are trusted with.
 *
 * - With `gpgkey:`, the keys of that file only. They are imported into the probe's and each root's
 *   rpm database before zypper runs there (zypper trusts the keys it finds there), and the probe
 *   refreshes such repositories without `--gpg-auto-import-keys`: a repomd.xml signed with any
 *   other key is refused by zypper itself, and prepare stops with exit 3 naming both fingerprints,
 *   before any root is touched.
 * - Without it, the key the repository offers (repodata/repomd.xml.key) is imported on first use,
 *   as zypper's `--gpg-auto-import-keys` does; prepare says so once per run and repository, with the
 *   key's fingerprint.
 *
 * The probe's rpm database is made anew on every run, so that a key trusted on first use in an
 * earlier run is not trusted for a repository that now names its gpgkey.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ComposeSpec, RepositorySpec } from '../config/spec.js';
import { InputError, OutputError, describeSystemError } from '../errors.js';
import { onCleanup } from '../runtime/cleanup.js';
import { gpg, missingGpg, primaryFingerprints } from '../runtime/gpg.js';
import type { Progress } from '../runtime/progress.js';
import type { KeyNote } from './zypper.js';

/** The temporary keyring folders in the roots folder: `.gnupg-XXXXXX`. */
export const KEYRING_PREFIX = '.gnupg-';

export interface TrustedKeys {
  /** The armored public keys of every gpgkey, for `rpm --import` (in the roots folder). */
  readonly file: string;
  /** Repository name -> the primary fingerprints its gpgkey holds. */
  readonly fingerprints: ReadonlyMap<string, readonly string[]>;
}

/**
 * The keys of every repository's gpgkey, read with gpg in a keyring folder of its own inside the
 * roots folder (removed again; a killed run's is removed by the next); undefined when none names one.
 */
export async function readTrustedKeys(spec: ComposeSpec): Promise<TrustedKeys | undefined> {
  const keyed = spec.repositories.filter((r) => r.gpgkey !== undefined);
  if (keyed.length === 0) return undefined;
  const home = fs.mkdtempSync(path.join(spec.prepare.roots, KEYRING_PREFIX));
  const unregister = onCleanup(() => fs.rmSync(home, { recursive: true, force: true }));
  try {
    const fingerprints = new Map<string, string[]>();
    for (const repo of keyed) fingerprints.set(repo.name, await keyFingerprints(home, repo));
    const file = path.join(spec.prepare.roots, '.gpgkeys.asc');
    let armored: string;
    try {
      armored = await gpg(['gpg', '--batch', '--homedir', home, '--armor', '--export', '--', ...new Set([...fingerprints.values()].flat())]);
    } catch (err) {
      throw missingGpg(err, spec.file) ?? new OutputError(spec.file, `cannot export the gpgkey keys: ${(err as Error).message}`);
    }
    try {
      fs.writeFileSync(file, armored);
    } catch (err) {
      throw new OutputError(file, `cannot write the gpgkey keys: ${describeSystemError(err)}`, 'check prepare.roots, its permissions and free space');
    }
    return { file, fingerprints };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    unregister();
  }
}

/** Imports one repository's gpgkey into `home` and returns its primary fingerprints; exit 3 when it holds no public key. */
async function keyFingerprints(home: string, repo: RepositorySpec): Promise<string[]> {
  const file = repo.gpgkey!;
  const notAKey = (why: string): InputError => new InputError(file, `gpgkey of repository "${repo.name}" is not an OpenPGP public key: ${why}`,
    'export the repository\'s public key: gpg --armor --export FINGERPRINT > key.asc');
  let listing: string;
  try {
    listing = await gpg(['gpg', '--batch', '--homedir', home, '--with-colons', '--show-keys', '--', file]);
    await gpg(['gpg', '--batch', '--homedir', home, '--import', '--', file]);
  } catch (err) {
    throw missingGpg(err, file) ?? notAKey((err as Error).message);
  }
  const fingerprints = primaryFingerprints(listing);
  if (fingerprints.length === 0) throw notAKey('no key in it');
  return fingerprints;
}

/**
 * One warning per repository and key that zypper imported on first use (`seen` holds those
 * already reported in this run). A key imported for a repository with gpgkey that its gpgkey
 * does not hold (a package signed with another key the repository offers) is exit 3.
 */
export function reportImportedKeys(spec: ComposeSpec, notes: readonly KeyNote[], trusted: TrustedKeys | undefined, seen: Set<string>, progress: Progress): void {
  for (const note of notes) {
    if (!note.imported || note.fingerprint === undefined) continue;
    const repo = spec.repositories.find((r) => r.name === note.repository);
    const where = repo ? `repository "${repo.name}" (${repo.url})` : `repository "${note.repository}"`;
    const own = trusted?.fingerprints.get(note.repository);
    if (own && !own.includes(note.fingerprint)) {
      throw new InputError(spec.file, `${where}: zypper imported key ${note.fingerprint}, which gpgkey ${repo?.gpgkeyAsWritten ?? ''} (${own.join(', ')}) does not hold`,
        'a package is signed with another key the repository offers; no root was moved into place: add that key to gpgkey: once you have checked it');
    }
    if (own || seen.has(`${note.repository}\0${note.fingerprint}`)) continue;
    seen.add(`${note.repository}\0${note.fingerprint}`);
    progress.warn(`${where}: key ${note.fingerprint} trusted on first use, as the repository offers it (set gpgkey: to a key file you have checked, and any other key stops prepare)`, 'MC-W-KEY');
  }
}
