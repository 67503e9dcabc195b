/**
 * Regenerating details-<arch>.xml from the archives a medium holds, for media whose archives
 * were repacked by hand (members dropped, another compression, another file name).
 *
 * For every archive images.xml lists: stream it (the format from its magic bytes), count its
 * members and measure the exact length of the uncompressed tar stream; its `<rpms>` come from
 * the package databases inside the metadata images of the imagesets that use it. The metadata
 * images are read first: their database files are written to a private temporary root, read
 * with readPackageDatabase, and removed. Nothing is written until every archive was read, and a
 * details file is replaced atomically (temporary name, then rename).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { type ArchiveTotals, type ContentSink, type DecodedMember, readArchive } from './archive/reader.js';
import { ARCH_ALIASES } from './config/spec.js';
import { installerXmlParser, isPlainArchName, liesInImagesFolder, strictXmlProblem } from './manifest/read.js';
import { InputError, MediaComposeError, OutputError, UsageError, describeSystemError } from './errors.js';
import { type DetailsImage, detailsXml } from './manifest/xml.js';
import { IMAGES_DIR, MediumLock, interruptedSwap, interruptedSwapProblem, syncPath } from './medium.js';
import { ImagePackages, PACKAGE_DATABASE_DIRS, type PathOwners, imageRpms, readPathOwners } from './pkgdb/owners.js';
import { MAX_DATABASE_TEXT } from './pkgdb/regular-file.js';
import type { Progress } from './progress.js';
import { type BytePath, absoluteBytes, isAtOrBelow, parentsOf, printable } from './scan/entry.js';

export interface DetailsOptions {
  /** Only this arch; every arch images.xml names when absent. */
  readonly arch?: string;
  /** Compare with the files on the medium; write nothing. */
  readonly check: boolean;
  readonly progress: Progress;
  /** Archives read at once (default: number of cores). */
  readonly jobs?: number;
}

export interface ArchDetails {
  readonly arch: string;
  /** Path of details-<arch>.xml. */
  readonly file: string;
  /** 'current': the file on the medium was right already; 'stale': it differs (--check);
   *  'written': it differed and was replaced. */
  readonly state: 'current' | 'stale' | 'written';
  /** What differs, one line per image and field, each starting with the details file's name. */
  readonly differences: readonly string[];
  readonly images: readonly DetailsImage[];
}

/** An imageset as images.xml describes it; archive names relative to the images folder. */
interface ListedImageset {
  /** Empty: any arch. */
  readonly archs: readonly string[];
  readonly pkgImage: string;
  readonly images: readonly string[];
}

export async function regenerateDetails(medium: string, options: DetailsOptions): Promise<ArchDetails[]> {
  // A build killed in the middle of its swap: taking the lock puts the previous images back.
  if (!options.check && interruptedSwap(medium) !== undefined) MediumLock.acquire(medium, (note) => options.progress.info(note)).release();
  const folder = imagesFolder(medium);
  // Writing takes the medium's lock, as a build does: a build swapping images/ meanwhile would
  // leave the new details file in the folder it moves away.
  // On a read-only file system nothing can be written: the details are checked instead, and
  // current ones are reported as such.
  const readOnly = !options.check && isOnReadOnlyFileSystem(path.dirname(folder));
  const lock = options.check || readOnly ? undefined : MediumLock.acquire(path.dirname(folder), (note) => options.progress.info(note));
  try {
    const results = await detailsOfMedium(folder, readOnly ? { ...options, check: true } : options);
    const stale = readOnly ? results.find((r) => r.state === 'stale') : undefined;
    if (stale) {
      throw new OutputError(stale.file, `differs from the archives, and the medium is on a read-only file system (${stale.differences[0]})`, 'copy the medium to a writable place and run details there; details --check lists every difference');
    }
    return results;
  } finally {
    lock?.release();
  }
}

function isOnReadOnlyFileSystem(folder: string): boolean {
  try {
    fs.accessSync(folder, fs.constants.W_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

async function detailsOfMedium(folder: string, options: DetailsOptions): Promise<ArchDetails[]> {
  const imagesets = readImagesXml(path.join(folder, 'images.xml'));
  const archs = chosenArchs(imagesets, options.arch, path.join(folder, 'images.xml'));
  const archivesOf = new Map(archs.map((arch) => [arch, archivesOfArch(imagesets, arch)]));
  const readings = await readArchives(
    folder,
    imagesets,
    [...new Set([...archivesOf.values()].flat())],
    { jobs: options.jobs ?? os.availableParallelism(), progress: options.progress },
  );

  const results = archs.map((arch) => {
    const file = path.join(folder, `details-${arch}.xml`);
    const images = archivesOf.get(arch)!.map((name) => ({ file: name, ...readings.get(name)! }));
    const xml = detailsXml(images);
    const onMedium = readIfPresent(file);
    const differences = onMedium === xml ? [] : describeDifferences(path.basename(file), onMedium, images);
    return { arch, file, images, xml, differences, current: onMedium === xml };
  });

  // Written only after every archive was read: an unreadable one leaves all details untouched.
  return results.map(({ arch, file, images, xml, differences, current }) => {
    if (current) return { arch, file, images, differences, state: 'current' };
    if (options.check) return { arch, file, images, differences, state: 'stale' };
    writeAtomically(file, xml);
    return { arch, file, images, differences, state: 'written' };
  });
}

/** MEDIUM/images, or MEDIUM itself when it is the images folder. */
function imagesFolder(medium: string): string {
  for (const folder of [path.join(medium, IMAGES_DIR), medium]) {
    if (fs.existsSync(path.join(folder, 'images.xml'))) return path.resolve(folder);
  }
  const previous = interruptedSwap(medium);
  if (previous !== undefined) {
    const { what, hint } = interruptedSwapProblem(medium, previous);
    throw new InputError(medium, what, hint);
  }
  throw new InputError(medium, `not a medium: no ${IMAGES_DIR}/images.xml`, 'name the folder that holds images/');
}

// ---------------------------------------------------------------------------------------------
// images.xml and the details file on the medium

/** Reads XML as the installer does: namespaces stripped, every value a string. */
function parseXml(file: string, text: string): Record<string, any> {
  const strict = strictXmlProblem(text);
  if (strict) throw new InputError(file, `not well-formed XML: line ${strict.line}: ${strict.what}`);
  const parser = installerXmlParser(false);
  try {
    return parser.parse(text, true) as Record<string, any>;
  } catch (err) {
    throw new InputError(file, `not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function readImagesXml(file: string): ListedImageset[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read: ${describeSystemError(err)}`);
  }
  const doc = parseXml(file, text);
  const sets: any[] = doc.image_installation?.image_sets?.image_set ?? [];
  if (sets.length === 0) throw new InputError(file, 'lists no image_set', 'is it the images.xml of a medium?');
  return sets.map((set, i) => {
    const where = `image_set ${i + 1}`;
    const pkgImage = archiveName(file, where, set.pkg_image);
    const images = ((set.images?.image ?? []) as any[]).map((image) => archiveName(file, where, image?.file));
    const archs = String(set.archs ?? '').split(/[\s,]+/).filter(Boolean);
    for (const arch of archs) {
      if (!isPlainArchName(arch)) {
        throw new InputError(file, `${where}: arch ${JSON.stringify(arch)} is not a plain name`, 'an arch is letters, digits, "_", "-" and "."; the medium is damaged or was made to escape its folder');
      }
    }
    return { archs, pkgImage, images };
  });
}

/** An archive file name from images.xml: relative to the images folder, never outside it. */
function archiveName(file: string, where: string, value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (name === '') throw new InputError(file, `${where}: an image without a file name`);
  if (!liesInImagesFolder(name)) {
    throw new InputError(file, `${where}: archive "${name}" lies outside the images folder`);
  }
  return name;
}

function chosenArchs(imagesets: readonly ListedImageset[], wanted: string | undefined, imagesXml: string): string[] {
  const named = [...new Set(imagesets.flatMap((s) => s.archs))];
  if (wanted !== undefined) {
    const arch = ARCH_ALIASES[wanted] ?? wanted;
    if (!isPlainArchName(arch)) throw new UsageError(undefined, `--arch ${JSON.stringify(wanted)} is not a plain arch name`, 'name an arch such as x86_64');
    if (!named.includes(arch) && !imagesets.some((s) => s.archs.length === 0)) {
      throw new UsageError(imagesXml, `no image_set for arch ${arch}`, `it has: ${named.join(', ')}`);
    }
    return [arch];
  }
  if (named.length === 0) throw new UsageError(imagesXml, 'no image_set names an arch', 'pass --arch');
  return named;
}

/** The archive names of one arch's details file, in the order build writes them. */
function archivesOfArch(imagesets: readonly ListedImageset[], arch: string): string[] {
  const names = new Set<string>();
  for (const set of imagesets) {
    if (set.archs.length > 0 && !set.archs.includes(arch)) continue;
    for (const name of [...set.images, set.pkgImage]) names.add(name);
  }
  return [...names].sort(byCodeUnits);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(file, `cannot read: ${describeSystemError(err)}`);
  }
}

/** The images of a details file, keyed by archive name; undefined when it cannot be parsed. */
function parseDetails(name: string, text: string): Map<string, DetailsImage> | undefined {
  let doc: Record<string, any>;
  try {
    doc = parseXml(name, text);
  } catch {
    return undefined;
  }
  const images: any[] | undefined = doc.image_installation_details?.details?.image;
  if (!Array.isArray(images)) return undefined;
  return new Map(
    images.map((i) => [
      String(i.file ?? ''),
      {
        file: String(i.file ?? ''),
        files: Number(i.files),
        size: Number(i.size),
        ...(i.rpms !== undefined ? { rpms: (i.rpms === '' ? [] : (i.rpms.rpm ?? [])).map(String) } : {}),
      },
    ]),
  );
}

/** One line per image and field that differs between the file on the medium and the archives. */
function describeDifferences(name: string, onMedium: string | undefined, images: readonly DetailsImage[]): string[] {
  if (onMedium === undefined) return [`${name}: missing`];
  const old = parseDetails(name, onMedium);
  if (!old) return [`${name}: cannot be read as a details file`];
  const lines: string[] = [];
  const listed = new Set(images.map((i) => i.file));
  for (const image of images) {
    const was = old.get(image.file);
    const at = `${name}: ${image.file}`;
    if (!was) {
      lines.push(`${at}: not listed (${image.files} members, ${image.size} bytes)`);
      continue;
    }
    if (was.files !== image.files) lines.push(`${at}: files ${was.files} on the medium, ${image.files} in the archive`);
    if (was.size !== image.size) lines.push(`${at}: size ${was.size} on the medium, ${image.size} in the archive`);
    const rpms = describeRpms(was.rpms, image.rpms);
    if (rpms) lines.push(`${at}: rpms ${rpms}`);
  }
  for (const file of old.keys()) {
    if (!listed.has(file)) lines.push(`${name}: ${file}: listed, but images.xml does not list it`);
  }
  if (lines.length === 0) lines.push(`${name}: same values, written differently (order or layout)`);
  return lines;
}

function describeRpms(was: readonly string[] | undefined, now: readonly string[] | undefined): string | undefined {
  if (was === undefined && now === undefined) return undefined;
  if (was === undefined) return `absent on the medium, ${now!.length} in the archive`;
  if (now === undefined) return `listed on the medium, but the metadata images hold no package database`;
  const missing = multisetMinus(now, was);
  const extra = multisetMinus(was, now);
  if (missing.length === 0 && extra.length === 0) {
    return was.join() === now.join() ? undefined : 'in another order than sorted';
  }
  return [
    missing.length ? `missing on the medium: ${missing.join(' ')}` : '',
    extra.length ? `not in the archive: ${extra.join(' ')}` : '',
  ].filter(Boolean).join('; ');
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    return n === 0;
  });
}

function writeAtomically(file: string, content: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, content, { flush: true });
    fs.renameSync(temp, file);
    syncPath(path.dirname(file));
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new OutputError(file, `cannot write: ${describeSystemError(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the archives

type Reading = Pick<DetailsImage, 'files' | 'size' | 'rpms'>;

/** A metadata image read once: its totals, its non-directory members, its packages. */
interface MetadataReading {
  readonly totals: ArchiveTotals;
  readonly nonDirectories: readonly BytePath[];
  readonly owners: PathOwners | undefined;
  /** Where in the image the database was found ('usr/lib/sysimage/rpm/rpmdb.sqlite'). */
  readonly database: string | undefined;
}

/**
 * Reads every archive once. Metadata images come first, since every other archive's `<rpms>`
 * needs the databases they hold.
 */
async function readArchives(
  folder: string,
  imagesets: readonly ListedImageset[],
  archives: readonly string[],
  ctx: { jobs: number; progress: Progress },
): Promise<Map<string, Reading>> {
  const limit = pLimit(Math.max(1, ctx.jobs));
  // Every imageset that extracts an archive, whatever its arch: the same file gets the same
  // `<rpms>` in every details file.
  const usersOf = (name: string): ListedImageset[] =>
    imagesets.filter((set) => set.images.includes(name) || set.pkgImage === name);
  const metadataImages = [...new Set(archives.flatMap((name) => usersOf(name).map((set) => set.pkgImage)))];

  const metadata = new Map<string, MetadataReading>();
  await allSettled(
    metadataImages.map((name) =>
      limit(async () => {
        const reading = await readMetadataImage(path.join(folder, name));
        ctx.progress.info(`read ${name}: ${describeTotals(reading.totals)}, package database: ${reading.database ?? 'none'}`);
        metadata.set(name, reading);
      }),
    ),
  );

  const readings = new Map<string, Reading>();
  await allSettled(
    archives.map((name) =>
      limit(async () => {
        const databases = usersOf(name).map((set) => metadata.get(set.pkgImage)!.owners);
        const meta = metadata.get(name);
        if (meta) {
          const members = meta.nonDirectories.map((p) => ({ path: p, isDirectory: false }));
          readings.set(name, { files: meta.totals.members, size: meta.totals.size, rpms: imageRpms(members, databases) });
          return;
        }
        const present = databases.filter((db): db is PathOwners => db !== undefined);
        const packages = present.length > 0 ? new ImagePackages(present) : undefined;
        const totals = await readArchive(path.join(folder, name), (member) => {
          packages?.addMember(memberPath(member.path), member.type === 'dir');
          return undefined;
        });
        ctx.progress.info(`read ${name}: ${describeTotals(totals)}`);
        readings.set(name, { files: totals.members, size: totals.size, rpms: packages?.names() });
      }),
    ),
  );
  return readings;
}

/**
 * Waits for every read to end before reporting the first failure: a read still running when the
 * command exits would leave its temporary root behind.
 */
async function allSettled(reads: ReadonlyArray<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(reads)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function describeTotals(totals: ArchiveTotals): string {
  return `${totals.format}, ${totals.members} members, ${totals.size} bytes of tar`;
}

/**
 * A member path as a root path: GNU tar run by hand may have stored './usr/x' or '/usr/x'
 * where mediacompose writes 'usr/x'.
 */
function memberPath(name: BytePath): BytePath {
  return name.replace(/^(?:\.?\/+)+/, '').replace(/^\.$/, '');
}

/** Streams a metadata image, writing its package database to a temporary root to read it. */
async function readMetadataImage(archive: string): Promise<MetadataReading> {
  const root = temporaryRoot();
  const extractor = new DatabaseExtractor(root, archive);
  const nonDirectories: BytePath[] = [];
  try {
    const totals = await readArchive(archive, (member) => {
      if (member.type !== 'dir') nonDirectories.push(memberPath(member.path));
      return extractor.member(member);
    });
    extractor.close();
    const owners = await readOwnersExtracted(archive, root);
    return { totals, nonDirectories, owners, database: owners && path.relative(root, owners.database) };
  } finally {
    extractor.close();
    removeTemporaryRoot(root);
  }
}

/** What a metadata image may put in a temporary package-database root, all files together. */
export const MAX_TEMPORARY_DATABASE = 2 * 1024 ** 3;

/** Temporary roots in use; removed on exit too, when a signal ends the command midway. */
const temporaryRoots = new Set<string>();

function temporaryRoot(): string {
  if (temporaryRoots.size === 0) process.once('exit', removeTemporaryRoots);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mediacompose-pkgdb-'));
  temporaryRoots.add(root);
  return root;
}

function removeTemporaryRoot(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
  temporaryRoots.delete(root);
  if (temporaryRoots.size === 0) process.removeListener('exit', removeTemporaryRoots);
}

/** Removes the temporary package-database roots in use (also for signal handlers). */
export function removeTemporaryRoots(): void {
  for (const root of [...temporaryRoots]) removeTemporaryRoot(root);
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
    const limit = isAtOrBelow(rel, 'var/lib/dpkg') ? MAX_DATABASE_TEXT : MAX_TEMPORARY_DATABASE;
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
