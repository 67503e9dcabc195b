/**
 * Throwaway OpenPGP keys made with the real gpg in a keyring folder of the test's own
 * (GNUPGHOME), never the user's.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** gpg --batch in the keyring folder `home`; its stdout. */
export function gpgIn(home: string, ...args: string[]): string {
  return execFileSync('gpg', ['--batch', ...args], { env: { ...process.env, GNUPGHOME: home }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A new signing key in `home` (created with mode 0700 when missing); its fingerprint. */
export function newKey(home: string, uid: string, passphrase = ''): string {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  gpgIn(home, '--passphrase', passphrase, '--quick-gen-key', uid, 'ed25519', 'sign', 'never');
  return /^fpr:+([0-9A-F]{40}):/m.exec(gpgIn(home, '--with-colons', '--list-secret-keys', uid))![1]!;
}

/** Writes the armored public key `fingerprint` to `file`. */
export function exportKey(home: string, fingerprint: string, file: string): string {
  fs.writeFileSync(file, gpgIn(home, '--armor', '--export', fingerprint));
  return file;
}
