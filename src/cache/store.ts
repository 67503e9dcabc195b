/**
 * The image cache on disk: one folder per entry, named by the key (cache/key.ts), holding the
 * compressed archive and meta.json (its sha256 and the image's details). An entry is assembled
 * in a temporary folder and renamed into place whole, so readers see a complete entry or none;
 * no lock is held, and any number of builds, on one host or several sharing the folder, may
 * read and add entries at once. Two builds adding the same key: the second rename fails and its
 * copy is dropped (the bytes are the same).
 *
 * Every hit checks the archive against its recorded sha256: a damaged entry is dropped with a
 * warning and the image compressed again. Entries are used least recently first when the
 * cache is over its size bound (a hit touches meta.json's mtime).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OutputError, describeSystemError } from '../errors.js';
import { onCleanup } from '../runtime/cleanup.js';
import { readInputText } from '../runtime/input-file.js';

const ENTRIES_DIR = 'images';
const ARCHIVE = 'archive';
const META = 'meta.json';
const TEMP_PREFIX = '.tmp-';
const DROP_PREFIX = '.drop-';
/** Temporary folders older than this were left by a killed build (on any host): removed. */
const STALE_MS = 24 * 3600 * 1000;
const KEY = /^[0-9a-f]{64}$/;

/** What an entry records of its image. */
export interface CachedImage {
  /** Uncompressed tar bytes. */
  readonly size: number;
  /** Tar members. */
  readonly files: number;
  readonly compressedSize: number;
  /** sha256 of the archive. */
  readonly sha256: string;
}

interface Meta extends CachedImage {
  readonly scheme: 1;
  readonly key: string;
  readonly format: string;
}

/**
 * An entry being assembled; removed by discard(), or by the cleanup registry when the command
 * ends early (an error, SIGINT, SIGTERM), unless committed.
 */
export interface PendingEntry {
  readonly folder: string;
  readonly archive: string;
}

export interface CacheReport {
  readonly folder: string;
  readonly maxBytes: number;
  /** Images taken from the cache. */
  hits: number;
  /** Images the cache did not hold (or held damaged): compressed by this build. */
  misses: number;
  /** Entries found damaged and dropped. */
  damaged: number;
  /** Entries removed to stay within the size bound. */
  evicted: number;
  /** Bytes of the entries after eviction. */
  bytes: number;
}

/** How the cache digests its archives (default: a stream on the main thread). */
export type FileDigester = (file: string, size: number) => Promise<string>;

export class ImageCache {
  readonly entries: string;
  readonly report: CacheReport;
  /** Set by the build to read archives for their digests off the main thread. */
  digester: FileDigester = (file) => sha256Of(file);
  /** The cleanup task of each pending entry (removes its folder if the command ends early). */
  private readonly pending = new Map<string, () => void>();

  private constructor(
    readonly folder: string,
    readonly maxBytes: number,
    private readonly warn: (message: string) => void,
  ) {
    this.entries = path.join(folder, ENTRIES_DIR);
    this.report = { folder, maxBytes, hits: 0, misses: 0, damaged: 0, evicted: 0, bytes: 0 };
  }

  static open(folder: string, maxBytes: number, warn: (message: string) => void): ImageCache {
    const cache = new ImageCache(folder, maxBytes, warn);
    try {
      fs.mkdirSync(cache.entries, { recursive: true });
    } catch (err) {
      throw new OutputError(cache.entries, `cannot create the image cache: ${describeSystemError(err)}`, 'choose another folder with --cache, or build with --no-cache');
    }
    return cache;
  }

  private entry(key: string): string {
    return path.join(this.entries, key);
  }

  /** The entry's record, if there is a complete entry for the key. */
  private meta(key: string): Meta | undefined {
    let text: string;
    try {
      text = readInputText(path.join(this.entry(key), META), 'cacheRecord', 'none');
    } catch {
      return undefined;
    }
    try {
      const meta = JSON.parse(text) as Meta;
      if (meta.key === key && typeof meta.sha256 === 'string') return meta;
    } catch {
      // An unreadable record is damage like any other.
    }
    this.drop(key, 'its meta.json is unreadable');
    return undefined;
  }

  /**
   * Checks the entry for `key` and, when `dest` is given, copies its archive there. Undefined on a miss or when the
   * entry is damaged (then it is dropped, with a warning).
   */
  async take(key: string, dest?: string): Promise<CachedImage | undefined> {
    const hit = await this.lookUp(key, dest);
    if (hit) this.report.hits++;
    else this.report.misses++;
    return hit;
  }

  private async lookUp(key: string, dest: string | undefined): Promise<CachedImage | undefined> {
    const meta = this.meta(key);
    if (!meta) return undefined;
    const archive = path.join(this.entry(key), ARCHIVE);
    let digest: string;
    try {
      digest = await this.copyWithDigest(archive, dest);
    } catch (err) {
      if (dest !== undefined) fs.rmSync(dest, { force: true });
      // Evicted by another build between reading the record and the archive: a miss.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || !fs.existsSync(archive)) return undefined;
      if ((err as NodeJS.ErrnoException).code === 'EIO' || !(err as NodeJS.ErrnoException).code) {
        this.drop(key, `its archive cannot be read: ${describeSystemError(err)}`);
        return undefined;
      }
      throw new OutputError(dest ?? archive, `cannot take the image from the cache: ${describeSystemError(err)}`);
    }
    if (digest !== meta.sha256) {
      if (dest !== undefined) fs.rmSync(dest, { force: true });
      this.drop(key, 'its archive does not match its recorded sha256');
      return undefined;
    }
    touch(path.join(this.entry(key), META));
    return { size: meta.size, files: meta.files, compressedSize: meta.compressedSize, sha256: meta.sha256 };
  }

  /** A temporary folder to assemble an entry in; `archive` is where the compressed bytes go. */
  begin(): PendingEntry {
    const folder = path.join(this.entries, `${TEMP_PREFIX}${os.hostname()}-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      fs.mkdirSync(folder);
    } catch (err) {
      throw new OutputError(folder, `cannot write to the image cache: ${describeSystemError(err)}`, 'choose another folder with --cache, or build with --no-cache');
    }
    this.pending.set(folder, onCleanup(() => fs.rmSync(folder, { recursive: true, force: true })));
    return { folder, archive: path.join(folder, ARCHIVE) };
  }

  /** Writes the record and renames the entry into place (or drops it if another build was first). */
  commit(pending: PendingEntry, key: string, format: string, image: CachedImage): void {
    const meta: Meta = { scheme: 1, key, format, size: image.size, files: image.files, compressedSize: image.compressedSize, sha256: image.sha256 };
    try {
      fs.writeFileSync(path.join(pending.folder, META), `${JSON.stringify(meta)}\n`);
      fs.renameSync(pending.folder, this.entry(key));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
        this.discard(pending);
        throw new OutputError(this.entry(key), `cannot add to the image cache: ${describeSystemError(err)}`, 'check the cache folder, or build with --no-cache');
      }
    }
    this.discard(pending);
  }

  /** Adds a finished archive (a file of the medium being staged) under `key`. */
  async add(file: string, key: string, format: string, image: CachedImage): Promise<void> {
    const pending = this.begin();
    try {
      const digest = await this.copyWithDigest(file, pending.archive);
      if (digest !== image.sha256) throw new Error(`${file} changed while it was added to the cache`);
      this.commit(pending, key, format, image);
    } finally {
      this.discard(pending);
    }
  }

  /**
   * Copies `from` to `to` (which must not exist; no copy when undefined) and returns the sha256
   * of what arrived. A copy (in the kernel, a reflink where the file system has them), never a
   * hard link: the medium and the cache never share an inode, so nothing done to one can change
   * the other.
   */
  private async copyWithDigest(from: string, to: string | undefined): Promise<string> {
    if (to !== undefined) await fs.promises.copyFile(from, to, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
    const file = to ?? from;
    return this.digester(file, (await fs.promises.stat(file)).size);
  }

  discard(pending: PendingEntry): void {
    fs.rmSync(pending.folder, { recursive: true, force: true });
    this.pending.get(pending.folder)?.();
    this.pending.delete(pending.folder);
  }

  private drop(key: string, why: string): void {
    this.report.damaged++;
    this.warn(`image cache entry ${this.entry(key)} is damaged (${why}): dropped, the image is compressed again`);
    this.remove(key);
  }

  /** Renames the entry away first, so no reader ever sees it half removed. */
  private remove(key: string): boolean {
    const away = path.join(this.entries, `${DROP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      fs.renameSync(this.entry(key), away);
    } catch {
      return false; // Already removed by another build.
    }
    fs.rmSync(away, { recursive: true, force: true });
    return true;
  }

  /**
   * Removes least recently used entries until the cache is within its bound, never one of
   * `keep` (what the current build uses), and what killed builds left long ago.
   */
  evict(keep: ReadonlySet<string>): void {
    const now = Date.now();
    const entries: Array<{ key: string; used: number; bytes: number }> = [];
    let total = 0;
    for (const name of safeReaddir(this.entries)) {
      const full = path.join(this.entries, name);
      if (name.startsWith(TEMP_PREFIX) || name.startsWith(DROP_PREFIX)) {
        const stat = statOrUndefined(full);
        if (stat && now - stat.mtimeMs > STALE_MS) fs.rmSync(full, { recursive: true, force: true });
        continue;
      }
      if (!KEY.test(name)) continue;
      const meta = statOrUndefined(path.join(full, META));
      const archive = statOrUndefined(path.join(full, ARCHIVE));
      if (!meta || !archive) continue;
      entries.push({ key: name, used: meta.mtimeMs, bytes: archive.size });
      total += archive.size;
    }
    entries.sort((a, b) => a.used - b.used || (a.key < b.key ? -1 : 1));
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (keep.has(e.key)) continue;
      if (this.remove(e.key)) this.report.evicted++;
      total -= e.bytes;
    }
    this.report.bytes = total;
    if (total > this.maxBytes) {
      this.warn(`the image cache holds ${mib(total)} MiB, over its bound of ${mib(this.maxBytes)} MiB, all of it for this build (raise --cache-size)`);
    }
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(0);
}

function safeReaddir(folder: string): string[] {
  try {
    return fs.readdirSync(folder);
  } catch {
    return [];
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // Removed meanwhile by another build: nothing to keep fresh.
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

