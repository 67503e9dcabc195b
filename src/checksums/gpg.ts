/**
 * Signing and checking checksum lists with GnuPG (Debian packages gnupg and gpgv), through
 * runtime/gpg.ts. GNUPGHOME selects the keyring, as for gpg itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputError, UsageError } from '../errors.js';
import { onCleanup } from '../runtime/cleanup.js';
import { gpg, missingGpg as missing, primaryFingerprints, unwritableGnupgHome } from '../runtime/gpg.js';
import { type Links, checkInput } from '../runtime/input-file.js';

export interface Signer {
  /** As the user named it. */
  readonly key: string;
  /** The primary key's fingerprint. */
  readonly fingerprint: string;
  /** Writes `signature`: an armored detached signature of `file` (named `shownAs` in errors). */
  sign(file: string, signature: string, shownAs?: string): Promise<void>;
  /** The armored public key. */
  publicKey(): Promise<string>;
}

/**
 * The signer for a key id or fingerprint, checked before anything is written: an unknown or
 * ambiguous key is a usage error (exit 2); a missing gpg, or a keyring folder gpg cannot write
 * to (it says "No agent running" and finds no key there), an output error (exit 4).
 */
export async function openSigner(key: string, where: string | undefined): Promise<Signer> {
  let listing: string;
  try {
    listing = await gpg(['gpg', '--batch', '--with-colons', '--list-secret-keys', '--', key]);
  } catch (err) {
    throw missing(err, where) ?? unusableKeyring(where) ?? new UsageError(where, `no secret key "${key}" in the gpg keyring`, 'gpg --list-secret-keys shows them; GNUPGHOME selects the keyring');
  }
  const fingerprints = primaryFingerprints(listing);
  if (fingerprints.length === 0) throw unusableKeyring(where) ?? new UsageError(where, `no secret key "${key}" in the gpg keyring`, 'name the key by its fingerprint');
  if (fingerprints.length !== 1) {
    throw new UsageError(where, `"${key}" names ${fingerprints.length} secret keys`, 'name the key by its fingerprint');
  }
  const fingerprint = fingerprints[0]!;
  return {
    key,
    fingerprint,
    async sign(file, signature, shownAs = file) {
      try {
        await gpg(['gpg', '--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', `${fingerprint}!`, '--digest-algo', 'SHA256', '--armor', '--detach-sign', '--output', signature, '--', file]);
      } catch (err) {
        throw missing(err, shownAs) ?? new OutputError(shownAs, `signing failed: ${(err as Error).message}`, 'is the key usable without a passphrase prompt (gpg-agent)?');
      }
    },
    async publicKey() {
      try {
        return await gpg(['gpg', '--batch', '--armor', '--export', '--', fingerprint]);
      } catch (err) {
        throw missing(err, where) ?? new OutputError(where, `cannot export the public key: ${(err as Error).message}`);
      }
    },
  };
}

/** Exit 4 when the keyring folder is not writable: the reason gpg found no key, not the key. */
function unusableKeyring(where: string | undefined): OutputError | undefined {
  const home = unwritableGnupgHome();
  if (home === undefined) return undefined;
  return new OutputError(where, `gpg keyring folder ${home} is not writable: gpg cannot lock the keyring or start gpg-agent there, so it finds no secret key`,
    'gpg writes lock files and the agent\'s socket into GNUPGHOME: sign as its owner, or set GNUPGHOME to a writable keyring that holds the key');
}

/**
 * Checks a detached signature: with `keyFile` (the `<list>.key` beside it) by gpgv against that
 * key alone; otherwise by gpg against the user's keyring. Undefined when it verifies, else why not.
 * gpg is handed the files only when each is a regular file of its kind's size (`links`: where
 * they may lead), so that it never waits on a FIFO or reads a device.
 */
export async function checkSignature(list: string, signature: string, keyFile: string | undefined, links: Links): Promise<string | undefined> {
  if (!fs.existsSync(signature)) return `no signature ${path.basename(signature)}: the installer asks whether to use an unsigned list (default No)`;
  checkInput(list, 'checksumList', links);
  checkInput(signature, 'signature', links);
  if (keyFile !== undefined) checkInput(keyFile, 'publicKey', links);
  if (keyFile === undefined) {
    try {
      await gpg(['gpg', '--batch', '--verify', '--', signature, list]);
      return undefined;
    } catch (err) {
      const m = missing(err, list);
      if (m) throw m;
      return `signature does not verify with your keyring: ${(err as Error).message.replace(/^gpg: /, '')}`;
    }
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mediacompose-gpgv-'));
  const unregister = onCleanup(() => fs.rmSync(home, { recursive: true, force: true }));
  try {
    const keyring = path.join(home, 'key.gpg');
    try {
      await gpg(['gpg', '--batch', '--homedir', home, '--yes', '--output', keyring, '--dearmor', '--', keyFile]);
    } catch (err) {
      const m = missing(err, keyFile);
      if (m) throw m;
      return `${path.basename(keyFile)} is not a usable public key: ${(err as Error).message}`;
    }
    try {
      await gpg(['gpgv', '--homedir', home, '--keyring', keyring, '--', signature, list]);
      return undefined;
    } catch (err) {
      const m = missing(err, list);
      if (m) throw m;
      return `signature does not verify with ${path.basename(keyFile)}: ${(err as Error).message.replace(/^gpgv: /, '')}`;
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    unregister();
  }
}
