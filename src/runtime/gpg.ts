/**
 * gpg and gpgv through the one command wrapper: their stdout or a CommandError with the exit
 * status and gpg's last line, the missing-program error naming the Debian package, the primary
 * fingerprints of a `--with-colons` listing, and the keyring folder gpg uses (GNUPGHOME).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputError } from '../errors.js';
import { CommandError, runProgram } from './command.js';

const PACKAGES: Record<string, string> = { gpg: 'gnupg', gpgv: 'gpgv' };

/** Runs gpg or gpgv to its end: its stdout, or a CommandError with the exit status and its last line. */
export async function gpg(argv: readonly string[]): Promise<string> {
  const stdout: string[] = [];
  const result = await runProgram(argv, { onLine: (line) => void stdout.push(line) });
  if (result.status !== 0) {
    const why = result.stderr.trim().split('\n').filter((l) => !l.startsWith('[GNUPG:]')).pop();
    throw new CommandError(argv, `${result.signal ? `killed by ${result.signal}` : `exit status ${result.status}`}${why ? `: ${why}` : ''}`);
  }
  return stdout.map((line) => `${line}\n`).join('');
}

/** The error for a gpg or gpgv that is not installed, or undefined for any other failure. */
export function missingGpg(err: unknown, file: string | undefined): OutputError | undefined {
  if (!(err instanceof CommandError) || !err.message.endsWith('program not found')) return undefined;
  const program = err.argv[0]!;
  return new OutputError(file, `${program}: program not found`, `install the Debian package ${PACKAGES[program] ?? program}`);
}

/** The fingerprints of the primary keys (public or secret) in `gpg --with-colons` output. */
export function primaryFingerprints(listing: string): string[] {
  const out: string[] = [];
  let primary = false;
  for (const line of listing.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === 'sec' || fields[0] === 'pub') primary = true;
    else if (fields[0] === 'ssb' || fields[0] === 'sub') primary = false;
    else if (fields[0] === 'fpr' && primary) {
      out.push(fields[9]!);
      primary = false;
    }
  }
  return out;
}

/**
 * The keyring folder gpg uses, when this process cannot write to it: gpg then fails to lock its
 * keyring and to reach gpg-agent (whose socket lives there), and reports that as a missing key or
 * agent. Undefined when it is writable or does not exist (gpg creates it).
 */
export function unwritableGnupgHome(): string | undefined {
  const home = process.env.GNUPGHOME || path.join(os.homedir(), '.gnupg');
  try {
    fs.accessSync(home, fs.constants.W_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : home;
  }
}
