/**
 * The real installed roots made by scripts/real-roots.sh (Debian bookworm by debootstrap:
 * minimal, standard, python), made once and cached in $MC_ROOTS or /var/tmp/mediacompose-roots.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { unmet } from './needs.js';

const REAL_ROOTS_DIR = process.env.MC_ROOTS ?? '/var/tmp/mediacompose-roots';
export const REAL_ROOT_NAMES = ['minimal', 'standard', 'python'] as const;
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/real-roots.sh');

/**
 * The roots' directory, made when missing; or why they cannot be had here (not root, no
 * debootstrap, the Debian mirror out of reach), for a one-line skip.
 */
export function realRoots(): { dir: string; skip?: undefined } | { dir?: undefined; skip: string } {
  const done = REAL_ROOT_NAMES.every((name) => fs.existsSync(path.join(REAL_ROOTS_DIR, `.${name}.done`)));
  if (done) return { dir: REAL_ROOTS_DIR };
  const lacking = unmet({ root: true, programs: ['debootstrap', 'wget', 'chroot'] });
  if (lacking) return { skip: `${lacking} to make the real roots in ${REAL_ROOTS_DIR} (scripts/real-roots.sh)` };
  const r = spawnSync('bash', [SCRIPT, REAL_ROOTS_DIR], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status === 75) return { skip: `needs the network: ${r.stderr.trim()}` };
  if (r.status !== 0) throw new Error(`scripts/real-roots.sh failed (${r.status}): ${r.stderr}`);
  return { dir: REAL_ROOTS_DIR };
}
