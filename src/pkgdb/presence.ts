/**
 * Whether each imageset's root holds a package database the installer could open. After
 * extracting an imageset, the installer opens the database inside the deployed tree to install
 * or remove packages until the selection is exact (yast-contract.md); a root without one builds
 * a medium whose installation cannot be finished. A warning for build and verify; --strict
 * makes it an error.
 */
import type { Warning } from '../model/warnings.js';
import type { ImagesetSpec } from '../config/spec.js';
import { findPackageDatabase } from './index.js';

/** One warning line per imageset whose root has no package database. */
export async function missingDatabaseWarnings(imagesets: readonly Pick<ImagesetSpec, 'name' | 'root'>[]): Promise<Warning[]> {
  const warnings: Warning[] = [];
  for (const set of imagesets) {
    if (await findPackageDatabase(set.root)) continue;
    warnings.push({
      code: 'MC-W-NO-PKGDB',
      message:
        `${set.root}: no package database the installer could open, for imageset ${set.name} ` +
        '(looked for rpm in usr/lib/sysimage/rpm and var/lib/rpm, and var/lib/dpkg/status; the installer needs one to finish the installation)',
    });
  }
  return warnings;
}
