/**
 * Reader for Debian's package database, var/lib/dpkg:
 *
 * - `status`: one RFC 822-style paragraph per package, paragraphs separated by blank lines;
 *   `Field: value` lines, continuation lines start with a space or tab. Used here: Package,
 *   Status (`<want> <flag> <state>`; see STATES_WITH_FILES), Version,
 *   Architecture. A Package value may carry `:arch` (Multi-Arch: same); the name is before it.
 * - `info/<name>.list`, or `info/<name>:<arch>.list` for Multi-Arch: same packages: the package's
 *   paths, one absolute path a line, directories included; `/.` stands for the root itself.
 */
import { dirname, join, relative } from 'node:path';
import { damagedDatabase, unreadableDatabase } from './dbfile.js';
import type { InstalledPackage } from './package.js';
import { readInputChunked } from '../runtime/input-file.js';
import { resolveInsideRoot } from './root-path.js';

const KIND = 'dpkg';

interface Paragraph {
  /** 1-based line of the paragraph's first field, for messages. */
  line: number;
  fields: Map<string, string>;
}

/**
 * Reads the installed packages of a dpkg `status` file, with file lists from the `info`
 * directory beside it; in the order of the status file. `root` is the root the status file
 * lies in: every list file is resolved inside it, as after chroot (an `info` folder linking to
 * /var/lib/dpkg/info names the root's, not the host's). Without it, the lists are resolved
 * inside the status file's folder.
 */
export async function readDpkgDatabase(statusPath: string, root = dirname(statusPath)): Promise<InstalledPackage[]> {
  const text = await readText(statusPath);
  const infoDir = { root, path: join(relative(root, dirname(statusPath)), 'info') };
  const packages: InstalledPackage[] = [];
  for (const paragraph of parseParagraphs(statusPath, text)) {
    if (!isInstalled(paragraph)) continue;
    const pkg = packageFromParagraph(statusPath, paragraph);
    pkg.files = await readFileList(infoDir, pkg);
    packages.push(pkg);
  }
  return packages;
}

/** A database text file (resolved inside its root: a symlink left is refused); system errors as thrown. */
async function readDatabaseText(path: string): Promise<string> {
  return (await readInputChunked(path, 'dpkgText', 'none')).toString('utf8');
}

async function readText(path: string): Promise<string> {
  try {
    return await readDatabaseText(path);
  } catch (err) {
    if (!(err as NodeJS.ErrnoException).code) throw err;
    throw unreadableDatabase(path, err);
  }
}

/** Splits a control file into paragraphs of fields; field names are kept as written. */
function parseParagraphs(path: string, text: string): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let current: Paragraph | undefined;
  let lastField: string | undefined;
  const lines = text.split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') {
      current = undefined;
      lastField = undefined;
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (!current || lastField === undefined) {
        throw damagedDatabase(path, KIND, `line ${index + 1}: continuation line outside a field`);
      }
      current.fields.set(lastField, `${current.fields.get(lastField) ?? ''}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw damagedDatabase(path, KIND, `line ${index + 1}: expected "Field: value"`);
    if (!current) {
      current = { line: index + 1, fields: new Map() };
      paragraphs.push(current);
    }
    lastField = line.slice(0, colon);
    current.fields.set(lastField, line.slice(colon + 1).trim());
  }
  return paragraphs;
}

/**
 * Package states (the third Status word) in which the package's files are on disk. Besides
 * `installed` these are a package whose configuration, or trigger processing, is pending.
 * Not counted: not-installed, config-files (only conffiles left), half-installed (an unpack or
 * removal broke off midway). The selection (install, hold, deinstall, purge) does not matter.
 */
const STATES_WITH_FILES = new Set(['installed', 'triggers-pending', 'triggers-awaited', 'half-configured', 'unpacked']);

function isInstalled(paragraph: Paragraph): boolean {
  const words = (paragraph.fields.get('Status') ?? '').split(/\s+/);
  return words.length === 3 && STATES_WITH_FILES.has(words[2]!);
}

function packageFromParagraph(path: string, paragraph: Paragraph): InstalledPackage {
  const field = (name: string): string => {
    const value = paragraph.fields.get(name);
    if (!value) {
      const what = paragraph.fields.get('Package') ?? `the package at line ${paragraph.line}`;
      throw damagedDatabase(path, KIND, `${what} (line ${paragraph.line}) has no ${name} field`);
    }
    return value;
  };
  const [name = ''] = field('Package').split(':');
  return { name, version: field('Version'), arch: field('Architecture'), files: [] };
}

/** The package's recorded paths; a package without a list file is taken to own none. */
async function readFileList(infoDir: { root: string; path: string }, pkg: InstalledPackage): Promise<string[]> {
  for (const listName of [`${pkg.name}:${pkg.arch}.list`, `${pkg.name}.list`]) {
    if (listName.includes('/')) continue;
    const path = await resolveInsideRoot(infoDir.root, join(infoDir.path, listName));
    if (path === undefined) continue;
    let text: string;
    try {
      text = await readDatabaseText(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      if (!(err as NodeJS.ErrnoException).code) throw err;
      throw unreadableDatabase(path, err);
    }
    return text.split('\n').filter((line) => line.startsWith('/') && line !== '/.');
  }
  return [];
}
