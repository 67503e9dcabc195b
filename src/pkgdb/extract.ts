/**
 * A metadata image's package database, read from the archive: the members under the package
 * database folders are written to a private temporary root as they stream by (registered with
 * the cleanup registry), read with readPathOwners, and removed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DecodedMember } from '../archive/tar-decode.js';
import { type ArchiveTotals, type ContentSink, readArchive } from '../archive/reader.js';
import { memberName } from '../model/installer.js';
import { InputError, MediaComposeError, OutputError, describeSystemError } from '../errors.js';
import { PACKAGE_DATABASE_DIRS, type PathOwners, readPathOwners } from './owners.js';
import { INPUT_FILES, type Links } from '../runtime/input-file.js';
import { onCleanup } from '../runtime/cleanup.js';
import { type BytePath, absoluteBytes, isAtOrBelow, parentsOf, printable } from '../model/entry.js';

/** A metadata image read once: its totals, its non-directory members, its packages. */
export interface MetadataReading {
  readonly totals: ArchiveTotals;
  readonly nonDirectories: readonly BytePath[];
  readonly owners: PathOwners | undefined;
  /** Where in the image the database was found ('usr/lib/sysimage/rpm/rpmdb.sqlite'). */
  readonly database: string | undefined;
}

/**
 * A member path as a root path, by the installer's rule (memberName): GNU tar run by hand may
 * have stored './usr/x' where mediacompose writes 'usr/x'; a member the rule refuses (an absolute
 * name, '..') is never extracted, so it owns no package file: ''.
 */
export function memberPath(name: BytePath): BytePath {
  const path = memberName(name);
  return typeof path === 'string' ? path : '';
}

/** Streams a metadata image, writing its package database to a temporary root to read it. */
export async function readMetadataImage(archive: string, links: Links): Promise<MetadataReading> {
  const { root, remove } = temporaryRoot();
  const extractor = new DatabaseExtractor(root, archive);
  const nonDirectories: BytePath[] = [];
  try {
    const totals = await readArchive(archive, links, (member) => {
      if (member.type !== 'dir') nonDirectories.push(memberPath(member.path));
      return extractor.member(member);
    });
    extractor.close();
    const owners = await readOwnersExtracted(archive, root);
    return { totals, nonDirectories, owners, database: owners && path.relative(root, owners.database) };
  } finally {
    extractor.close();
    remove();
  }
}

/** What a metadata image may put in a temporary package-database root, all files together. */
const MAX_TEMPORARY_DATABASE = 2 * 1024 ** 3;

/**
 * A private temporary root, registered with the cleanup registry: a signal that ends the
 * command midway still removes it. The returned function removes it (idempotent).
 */
function temporaryRoot(): { root: string; remove: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mediacompose-pkgdb-'));
  const remove = (): void => fs.rmSync(root, { recursive: true, force: true });
  const unregister = onCleanup(remove);
  return {
    root,
    remove: () => {
      remove();
      unregister();
    },
  };
}

/** Reads the extracted database; its errors name the archive and the member, not the temp root. */
async function readOwnersExtracted(archive: string, root: string): Promise<PathOwners | undefined> {
  try {
    return await readPathOwners(root);
  } catch (err) {
    if (err instanceof MediaComposeError && err.file?.startsWith(`${root}/`)) {
      throw new InputError(`${archive}: ${err.file.slice(root.length + 1)}`, err.what, err.hint, { cause: err });
    }
    throw err;
  }
}

/**
 * Writes the members under the package database folders (PACKAGE_DATABASE_DIRS) into a
 * temporary root, as they stream by: directories, regular files, symlinks (var/lib/rpm is often
 * one) and hardlinks to members already written. Never writes through a symlink, so a member
 * cannot land outside the temporary root.
 */
class DatabaseExtractor {
  private file?: { fd: number; left: number; path: string };
  private readonly written = new Set<BytePath>();
  /** Bytes of regular files written to the temporary root so far. */
  private bytes = 0;

  constructor(
    private readonly root: string,
    private readonly archive: string,
  ) {}

  member(member: DecodedMember): ContentSink | undefined {
    this.closeFile();
    const rel = memberPath(member.path);
    if (!PACKAGE_DATABASE_DIRS.some((dir) => isAtOrBelow(rel, dir))) return undefined;
    if (rel.split('/').some((part) => part === '..' || part === '.' || part === '')) return undefined;
    if (!this.makeParents(rel)) return undefined;
    const dest = absoluteBytes(this.root, rel);
    try {
      switch (member.type) {
        case 'dir':
          if (!fs.existsSync(dest)) fs.mkdirSync(dest);
          return undefined;
        case 'symlink':
          fs.rmSync(dest, { force: true });
          fs.symlinkSync(Buffer.from(member.linkname, 'latin1'), dest);
          return undefined;
        case 'link': {
          const target = memberPath(member.linkname);
          if (!this.written.has(target)) return undefined;
          fs.rmSync(dest, { force: true });
          fs.linkSync(absoluteBytes(this.root, target), dest);
          return undefined;
        }
        case 'file':
          return this.openFile(rel, dest, member.size);
        default:
          return undefined;
      }
    } catch (err) {
      if (err instanceof MediaComposeError) throw err;
      throw this.failed(rel, err);
    }
  }

  /** Closes the file being written, if any (idempotent). */
  close(): void {
    this.closeFile();
  }

  private openFile(rel: BytePath, dest: Buffer, size: number): ContentSink | undefined {
    // Checked against the size in the header, before a byte is written: `details --check`
    // writes nothing to the medium and must not fill TMPDIR either.
    const limit = isAtOrBelow(rel, 'var/lib/dpkg') ? INPUT_FILES.dpkgText.max : INPUT_FILES.rpmDatabase.max;
    if (size > limit || this.bytes + size > MAX_TEMPORARY_DATABASE) {
      throw new InputError(
        `${this.archive}: ${printable(rel)}`,
        `package database file of ${size} bytes is too large (at most ${limit / 2 ** 20} MiB, ${MAX_TEMPORARY_DATABASE / 2 ** 20} MiB for all)`,
        'a real package database is far smaller; the archive is damaged or hostile',
      );
    }
    this.bytes += size;
    if (fs.lstatSync(dest, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(dest);
    const fd = fs.openSync(dest, 'w');
    this.written.add(rel);
    if (size === 0) {
      fs.closeSync(fd);
      return undefined;
    }
    this.file = { fd, left: size, path: rel };
    return {
      update: (chunk) => {
        const file = this.file;
        if (!file) return;
        try {
          for (let done = 0; done < chunk.length; ) done += fs.writeSync(file.fd, chunk, done);
        } catch (err) {
          throw this.failed(file.path, err);
        }
        file.left -= chunk.length;
        if (file.left <= 0) this.closeFile();
      },
    };
  }

  private closeFile(): void {
    if (!this.file) return;
    fs.closeSync(this.file.fd);
    this.file = undefined;
  }

  /** Creates the member's missing parent folders; false when one is not a real folder. */
  private makeParents(rel: BytePath): boolean {
    for (const parent of parentsOf(rel)) {
      const dir = absoluteBytes(this.root, parent);
      const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (!stat) fs.mkdirSync(dir);
      else if (!stat.isDirectory()) return false;
    }
    return true;
  }

  private failed(rel: BytePath, err: unknown): OutputError {
    return new OutputError(
      `${this.root}/${printable(rel)}`,
      `cannot write the package database to a temporary folder: ${describeSystemError(err)}`,
      'check the free space in the temporary folder (TMPDIR)',
    );
  }
}
