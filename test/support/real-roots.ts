/**
 * The real installed roots made by shared/scripts/real-roots.sh (Debian bookworm by debootstrap:
 * minimal, standard, python), made once and cached in $MC_ROOTS or /var/tmp/mediacompose-roots.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const REAL_ROOTS_DIR = process.env.MC_ROOTS ?? '/var/tmp/mediacompose-roots';
export const REAL_ROOT_NAMES = ['minimal', 'standard', 'python'] as const;
const SCRIPT = path.resolve(import.meta.dirname, '../../../shared/scripts/real-roots.sh');

/** Makes the roots when they are missing; returns their directory. */
export function ensureRealRoots(): string {
  const done = REAL_ROOT_NAMES.every((name) => fs.existsSync(path.join(REAL_ROOTS_DIR, `.${name}.done`)));
  if (!done) {
    if (!fs.existsSync(SCRIPT)) throw new Error(`real roots missing in ${REAL_ROOTS_DIR} and ${SCRIPT} not found`);
    execFileSync('bash', [SCRIPT, REAL_ROOTS_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return REAL_ROOTS_DIR;
}
