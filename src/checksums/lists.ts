/**
 * The checksum lists libzypp's Fetcher reads for every file the installer fetches (docs:
 * yast-contract.md): their two formats, how they are read and merged, and directory.yast.
 * Pure text in, text out.
 *
 * - `CHECKSUMS`: `<64 lowercase hex sha256>  <path>` (GNU sha256sum text output), the path
 *   relative to the list's folder; '#' lines are comments.
 * - `content`: `HASH SHA256 <hex>  <path>` among the product's other lines, the path relative to
 *   the list's folder (`images/<file>` in the root `content`).
 * - Fetcher reads, for a file in /images: /images/CHECKSUMS (or SHA1SUMS), /images/content,
 *   /CHECKSUMS (or SHA1SUMS), /content, into one map; a later list overwrites an earlier one.
 */
import { byBytes } from '../model/installer.js';

/** One file and its sha256, the path relative to the images folder. */
export interface FileDigest {
  readonly path: string;
  readonly sha256: string;
}

/** The signed list mediacompose writes into images/, with its signature and public key. */
export const IMAGES_LIST = 'CHECKSUMS';
export const SIGNATURE_SUFFIX = '.asc';
export const KEY_SUFFIX = '.key';
export const DIRECTORY_YAST = 'directory.yast';

/** Files of images/ that no list covers: the lists, their signatures and keys, directory.yast. */
export function isListFile(name: string): boolean {
  const base = name.replace(/\.(asc|key)$/, '');
  return name === DIRECTORY_YAST || base === 'CHECKSUMS' || base === 'SHA1SUMS' || base === 'content';
}

export type ListForm = 'checksums' | 'content';

/** One line of a list, without its newline. `prefix` is the path from the list's folder to images/. */
function listLine(form: ListForm, file: FileDigest, prefix: string): string {
  return form === 'checksums' ? `${file.sha256}  ${prefix}${file.path}` : `HASH SHA256 ${file.sha256}  ${prefix}${file.path}`;
}

/** The lines for these files, sorted by path in byte order. */
export function listLines(form: ListForm, files: readonly FileDigest[], prefix: string): string[] {
  return [...files].sort((a, b) => byBytes(a.path, b.path)).map((f) => listLine(form, f, prefix));
}

/** images/CHECKSUMS: every file, LF endings. */
export function imagesListText(files: readonly FileDigest[]): string {
  return listLines('checksums', files, '').map((l) => `${l}\n`).join('');
}

/**
 * What libzypp reads from a list: path (relative to the list's folder) -> digest text as written.
 * CHECKSUMS: the first word is the digest, the rest of the line (left-trimmed) the path; lines
 * starting with '#' and digests of no known length are skipped. content: `HASH <algo> <hex> <path>`.
 */
export function readList(form: ListForm, text: string): Map<string, { algorithm: string; digest: string }> {
  const out = new Map<string, { algorithm: string; digest: string }>();
  for (const line of text.split('\n')) {
    if (form === 'checksums') {
      if (line.startsWith('#')) continue;
      const m = /^\s*(\S+)\s*(.*)$/.exec(line);
      if (!m || m[2] === '') continue;
      const algorithm = ({ 32: 'MD5', 40: 'SHA1', 56: 'SHA224', 64: 'SHA256', 96: 'SHA384', 128: 'SHA512' } as Record<number, string>)[m[1]!.length];
      if (!algorithm) continue;
      out.set(m[2]!, { algorithm, digest: m[1]! });
    } else {
      const m = /^HASH\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line);
      if (m) out.set(m[3]!, { algorithm: m[1]!.toUpperCase(), digest: m[2]! });
    }
  }
  return out;
}

/** Whether a line of a root list names a file under images/ (the lines mediacompose owns there). */
function namesImagesFile(form: ListForm, line: string): boolean {
  const path = form === 'checksums' ? /^\s*(?!#)\S+\s+(.*)$/.exec(line)?.[1] : /^HASH\s+\S+\s+\S+\s+(\S+)/.exec(line)?.[1];
  return path !== undefined && path.startsWith('images/');
}

/**
 * A root list with its images/ lines replaced by `lines`, every other line kept as it was: the
 * new lines go where the first old images/ line was, or at the end.
 */
export function replaceImagesLines(form: ListForm, text: string, lines: readonly string[]): string {
  const kept: string[] = [];
  let at = -1;
  const old = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  for (const line of old) {
    if (namesImagesFile(form, line)) {
      if (at < 0) at = kept.length;
      continue;
    }
    kept.push(line);
  }
  if (at < 0) at = kept.length;
  kept.splice(at, 0, ...lines);
  return kept.map((l) => `${l}\n`).join('');
}

/** directory.yast: one name per line, folders with a trailing '/', itself included, byte order. */
export function directoryYastText(entries: ReadonlyArray<{ name: string; folder: boolean }>): string {
  const names = new Set(entries.map((e) => (e.folder ? `${e.name}/` : e.name)));
  names.add(DIRECTORY_YAST);
  return [...names].sort(byBytes).map((n) => `${n}\n`).join('');
}
