/**
 * Which installed packages own which paths, and from that an image's `<rpms>` list: the names of
 * the installed packages that own at least one non-directory member of the archive, sorted
 * (docs/compose-spec.md). The tag is `<rpms>` for dpkg roots too; the contract names it so.
 *
 * Paths are compared as byte strings (BytePath, one char per byte), the form archive members and
 * scans use. Package databases hold file names as text decoded from UTF-8, so each package path
 * is encoded back to UTF-8 bytes here (Buffer.from(path, 'utf8').toString('latin1')) and
 * its leading '/' dropped: '/usr/bin/x' becomes the member path 'usr/bin/x'.
 */
import type { MediumPlan, PlannedImage } from '../plan/plan.js';
import type { Progress } from '../runtime/progress.js';
import type { BytePath } from '../model/entry.js';
import { type InstalledPackage, type PackageDatabase, readPackageDatabase } from './index.js';

/**
 * The folders readPackageDatabase looks in, relative to a root. All of them are metadata paths
 * (DEFAULT_METADATA in config/spec.ts), so a built medium carries them in its metadata images.
 */
export const PACKAGE_DATABASE_DIRS: readonly BytePath[] = ['usr/lib/sysimage/rpm', 'var/lib/rpm', 'var/lib/dpkg'];

/** The package ownership of one root's paths, from its package database. */
export class PathOwners {
  private constructor(
    /** The database it was read from, for messages. */
    readonly database: string,
    private readonly byPath: ReadonlyMap<BytePath, readonly InstalledPackage[]>,
  ) {}

  static fromPackages(database: string, packages: readonly InstalledPackage[]): PathOwners {
    const byPath = new Map<BytePath, InstalledPackage[]>();
    for (const pkg of packages) {
      for (const file of new Set(pkg.files.map(memberPathOf))) {
        if (file === '') continue;
        const owners = byPath.get(file);
        if (owners) owners.push(pkg);
        else byPath.set(file, [pkg]);
      }
    }
    return new PathOwners(database, byPath);
  }

  static fromDatabase(db: PackageDatabase): PathOwners {
    return PathOwners.fromPackages(db.file, db.packages);
  }

  /** The installed packages that list `path` (a member path, no leading '/'). */
  ownersOf(path: BytePath): readonly InstalledPackage[] {
    return this.byPath.get(path) ?? NO_OWNERS;
  }
}

const NO_OWNERS: readonly InstalledPackage[] = [];

/** A package database path ('/usr/bin/x', text) as a member path ('usr/bin/x', bytes). */
export function memberPathOf(packagePath: string): BytePath {
  return Buffer.from(packagePath.replace(/^\/+/, ''), 'utf8').toString('latin1');
}

/** The package ownership of a root; undefined when the root has no package database. */
export async function readPathOwners(root: string): Promise<PathOwners | undefined> {
  const db = await readPackageDatabase(root);
  return db && PathOwners.fromDatabase(db);
}

/**
 * Collects, member by member, the packages that own an image's non-directory members, in the
 * package databases of every root whose imageset uses the image.
 *
 * A package counts once per installed instance: the same name, epoch, version, release and arch
 * found in several roots (a shared image) is one entry, while two instances of one name within a
 * root (two archs, or two versions) are two. So each identity appears as often as the root with
 * the most instances of it has them.
 */
export class ImagePackages {
  /** Per database: the packages found owning a member so far. */
  private readonly found: Array<Set<InstalledPackage>>;

  constructor(private readonly databases: readonly PathOwners[]) {
    this.found = databases.map(() => new Set());
  }

  /** Records one archive member; directories never make a package count. */
  addMember(path: BytePath, isDirectory: boolean): void {
    if (isDirectory) return;
    this.databases.forEach((db, i) => {
      for (const pkg of db.ownersOf(path)) this.found[i]!.add(pkg);
    });
  }

  /** The `<rpms>` list: package names, sorted byte-wise, one per installed instance. */
  names(): string[] {
    const instances = new Map<string, { name: string; count: number }>();
    for (const found of this.found) {
      const inThisRoot = new Map<string, number>();
      for (const pkg of found) {
        const key = identityOf(pkg);
        inThisRoot.set(key, (inThisRoot.get(key) ?? 0) + 1);
        const seen = instances.get(key);
        const count = inThisRoot.get(key)!;
        if (!seen) instances.set(key, { name: pkg.name, count });
        else seen.count = Math.max(seen.count, count);
      }
    }
    return [...instances.values()]
      .flatMap(({ name, count }) => Array<string>(count).fill(name))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** What tells two installed packages apart: name, epoch, version, release and arch. */
function identityOf(pkg: InstalledPackage): string {
  return [pkg.name, pkg.epoch ?? '', pkg.version, pkg.release ?? '', pkg.arch].join('\u0000');
}

/**
 * The `<rpms>` of an image from the databases of the roots that use it; undefined (no `<rpms>`
 * element) when none of those roots has a package database.
 */
export function imageRpms(
  members: Iterable<{ path: BytePath; isDirectory: boolean }>,
  databases: ReadonlyArray<PathOwners | undefined>,
): string[] | undefined {
  const present = databases.filter((db): db is PathOwners => db !== undefined);
  if (present.length === 0) return undefined;
  const packages = new ImagePackages(present);
  for (const member of members) packages.addMember(member.path, member.isDirectory);
  return packages.names();
}

/** Reads the package ownership of every root once; roots without a database are left out. */
export async function readRootOwners(roots: Iterable<string>, progress: Progress): Promise<Map<string, PathOwners>> {
  const owners = new Map<string, PathOwners>();
  for (const root of new Set(roots)) {
    const db = await readPackageDatabase(root);
    if (!db) continue;
    progress.info(`read the package database of ${root}: ${db.packages.length} packages (${db.kind})`);
    owners.set(root, PathOwners.fromDatabase(db));
  }
  return owners;
}

/** The `<rpms>` of a planned image, from the roots of the imagesets that list it. */
export function plannedImageRpms(image: PlannedImage, plan: MediumPlan, owners: ReadonlyMap<string, PathOwners>): string[] | undefined {
  const roots = plan.imagesets
    .filter((set) => set.spec.arch === image.arch && image.imagesets.includes(set.spec.name))
    .map((set) => set.spec.root);
  const members = image.members.map((m) => ({ path: m.entry.path, isDirectory: m.entry.type === 'dir' }));
  return imageRpms(members, [...new Set(roots)].map((root) => owners.get(root)));
}
