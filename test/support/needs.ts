/**
 * What a test needs of the machine: root, programs, the network. A test whose needs are not met
 * skips with one line saying what is missing (`skipped: needs root`), never fails for it; CI
 * (root, a fresh Debian with `.ci/run`'s packages) meets every need.
 */
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';

export const isRoot = process.getuid?.() === 0;

/** The Debian package of each program the tests run, for the skip line. */
const PACKAGE: Record<string, string> = {
  rpm: 'rpm', rpmbuild: 'rpm', rpmsign: 'rpm', 'dpkg-query': 'dpkg', debootstrap: 'debootstrap', xzdec: 'xzdec', lzmadec: 'xzdec',
  getfattr: 'attr', setfattr: 'attr', python3: 'python3', zypper: 'zypper', createrepo_c: 'createrepo-c', gpg: 'gnupg',
  gpgv: 'gpgv', gpgconf: 'gpgconf', xmllint: 'libxml2-utils', strace: 'strace', sha256sum: 'coreutils', parallel: 'parallel', lbzip2: 'lbzip2', bzip2: 'bzip2', xz: 'xz-utils', tar: 'tar',
  '/usr/bin/time': 'time',
};

/** Whether a program is on PATH; a path (`/usr/bin/time`) is looked at where it says. */
function onPath(program: string): boolean {
  if (program.includes('/')) return isExecutable(program);
  return (process.env.PATH ?? '').split(':').filter(Boolean).some((dir) => isExecutable(path.join(dir, program)));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why a test cannot run here, or undefined when it can. */
export function unmet(needs: { root?: boolean; programs?: readonly string[] }): string | undefined {
  const reasons: string[] = [];
  if (needs.root && !isRoot) reasons.push('root');
  const missing = (needs.programs ?? []).filter((p) => !onPath(p));
  if (missing.length) reasons.push(`${missing.join(', ')} (${[...new Set(missing.map((p) => `package ${PACKAGE[p] ?? p}`))].join(', ')})`);
  return reasons.length ? `needs ${reasons.join(' and ')}` : undefined;
}

/** A describe block that, when `reason` is set, is one skipped test saying why. */
export function describeIf(reason: string | undefined, name: string, body: () => void): void {
  if (reason) describe(name, () => it.skip(`skipped: ${reason}`, () => {}));
  else describe(name, body);
}

/** One test that, when `reason` is set, is skipped with a name saying why. */
export function itIf(reason: string | undefined, name: string, body: () => void | Promise<void>): void {
  if (reason) it.skip(`${name} (skipped: ${reason})`, () => {});
  else it(name, body);
}

/**
 * A PATH of one folder that links every program of this PATH but the ones named: the machine as
 * it is where their packages are not installed. The folder is made under `work`.
 */
export function pathWithout(work: string, programs: readonly string[]): string {
  const dir = mkdtempSync(path.join(work, 'path-'));
  const left = new Set(programs);
  for (const from of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (left.has(name) || existsSync(path.join(dir, name))) continue;
      symlinkSync(path.join(from, name), path.join(dir, name));
    }
  }
  return dir;
}
