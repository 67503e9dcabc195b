/**
 * Finding and reading the package database of an installed root tree: rpm (sqlite, ndb or
 * Berkeley DB backend) or dpkg. Databases are only ever opened for reading.
 */
import { stat } from 'node:fs/promises';
import { readBdbDatabase } from './bdb.js';
import { readDpkgDatabase } from './dpkg.js';
import { readNdbDatabase } from './ndb.js';
import type { InstalledPackage } from './package.js';
import { resolveInsideRoot } from './root-path.js';
import { readSqliteDatabase } from './sqlite.js';

export type { InstalledPackage } from './package.js';
export { readBdbDatabase } from './bdb.js';
export { readDpkgDatabase } from './dpkg.js';
export { readNdbDatabase } from './ndb.js';
export { readSqliteDatabase } from './sqlite.js';

type PackageDatabaseKind = 'rpm-sqlite' | 'rpm-ndb' | 'rpm-bdb' | 'dpkg';

export interface PackageDatabase {
  kind: PackageDatabaseKind;
  /** Host path of the database file read (symlinks inside the root resolved). */
  file: string;
  packages: InstalledPackage[];
}

interface Candidate {
  kind: PackageDatabaseKind;
  /** Relative to the root. */
  path: string;
  read: (file: string) => Promise<InstalledPackage[]>;
}

/** rpm's database directories, current location first; each may hold any backend's file. */
const RPM_DIRECTORIES = ['usr/lib/sysimage/rpm', 'var/lib/rpm'];

const RPM_BACKENDS = [
  { kind: 'rpm-sqlite', fileName: 'rpmdb.sqlite', read: readSqliteDatabase },
  { kind: 'rpm-ndb', fileName: 'Packages.db', read: readNdbDatabase },
  { kind: 'rpm-bdb', fileName: 'Packages', read: readBdbDatabase },
] as const;

/** Where to look, in order of preference. */
const CANDIDATES: readonly Candidate[] = [
  ...RPM_DIRECTORIES.flatMap((dir) =>
    RPM_BACKENDS.map(({ kind, fileName, read }) => ({ kind, path: `${dir}/${fileName}`, read })),
  ),
  { kind: 'dpkg', path: 'var/lib/dpkg/status', read: readDpkgDatabase },
];

/**
 * Reads the first package database found in `root` (see CANDIDATES for the order); undefined
 * when the root has none. A database that is present but unreadable is an InputError.
 */
export async function readPackageDatabase(root: string): Promise<PackageDatabase | undefined> {
  for (const candidate of CANDIDATES) {
    const file = await resolveInsideRoot(root, candidate.path);
    if (file === undefined || !(await isRegularFile(file))) continue;
    return { kind: candidate.kind, file, packages: await candidate.read(file) };
  }
  return undefined;
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
