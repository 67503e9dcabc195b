/**
 * zypper and rpm as the prepare stage runs them: always with `--root`, never on the host's own
 * system. The arch and the solver options come from a zypp.conf beside the roots (ZYPP_CONF), the
 * repositories from the root's own etc/zypp/repos.d, the log goes beside the roots
 * (ZYPP_LOGFILE), downloaded packages to one shared cache (--pkg-cache-dir).
 *
 * What zypper prints on failure is turned into one line with the documented exit status:
 * - `No provider of 'X' found.` (exit 104): a pattern or package no repository provides, exit 3;
 * - `Repository 'A' is invalid.` after a refresh (exit 4): unreachable, not a repository, or its
 *   signature failed (GPG), exit 3 with the repository's URL; when the refresh trusted only a
 *   gpgkey's keys and zypper refused the repository's key, exit 3 naming both keys;
 * - anything else from an installation: exit 4, with zypper's last line and the log to read.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RepositorySpec } from '../config/spec.js';
import { InputError, OutputError } from '../errors.js';
import { CommandError, onPath, runProgram, type ProgramResult } from '../runtime/command.js';
import { readInputText } from '../runtime/input-file.js';

/** Where rpm keeps its database inside a prepared root (openSUSE's place since 2021). */
const RPMDB_PATH = '/usr/lib/sysimage/rpm';

/** Debian packages that provide the programs the prepare stage runs. */
const PACKAGES: Readonly<Record<string, string>> = { zypper: 'zypper', rpm: 'rpm', cp: 'coreutils' };

/** Exit 4 naming the Debian package when a program the prepare stage needs is missing. */
export function requirePrograms(): void {
  for (const [program, pkg] of Object.entries(PACKAGES)) {
    if (!onPath(program)) {
      throw new OutputError(program, 'program not found', `preparing roots needs it: install the Debian package ${pkg} (apt-get install ${pkg})`);
    }
  }
}

/** How one zypper run is set up: the root, its configuration and where its log goes. */
export interface ZypperContext {
  readonly root: string;
  /** The root as messages name it (its final place, not the staging folder). */
  readonly label: string;
  /** zypp.conf with the arch, outside the root. */
  readonly zyppConf: string;
  /** libzypp's log, outside the root. */
  readonly logFile: string;
  /** Shared package cache. */
  readonly packageCache: string;
  readonly repositories: readonly RepositorySpec[];
  /** The compose file, for messages. */
  readonly composeFile: string;
  /**
   * Import a repository's key on first use (`--gpg-auto-import-keys`): on when a repository with
   * gpgcheck names no gpgkey (keys.ts); a repository with one is refreshed without it.
   */
  readonly autoImportKeys: boolean;
  /** Receives the child's pid (to end it on a signal). */
  readonly onStart?: (pid: number) => void;
  readonly onExit?: (pid: number) => void;
}

/** A request for zypper: patterns as `pattern() = NAME`, packages by name. */
export function requestOf(patterns: readonly string[], packages: readonly string[]): string[] {
  return [...patterns.map((p) => `pattern() = ${p}`), ...packages];
}

async function zypper(ctx: ZypperContext, args: readonly string[], options: { onLine?: (l: string) => void; onStdout?: (c: string) => void } = {}, autoImportKeys = ctx.autoImportKeys): Promise<ProgramResult> {
  const argv = [
    'zypper', '--root', ctx.root, '--non-interactive', ...(autoImportKeys ? ['--gpg-auto-import-keys'] : []),
    '--pkg-cache-dir', ctx.packageCache, ...args,
  ];
  try {
    return await runProgram(argv, {
      env: { ZYPP_CONF: ctx.zyppConf, ZYPP_LOGFILE: ctx.logFile, LC_ALL: 'C.UTF-8' },
      ...options,
      onStart: ctx.onStart,
      onExit: ctx.onExit,
    });
  } catch (err) {
    if (err instanceof CommandError) throw new OutputError('zypper', 'program not found', 'install the Debian package zypper (apt-get install zypper)');
    throw err;
  }
}

/** A signing key zypper met: imported (on first use), or refused because no trusted key matched. */
export interface KeyNote {
  readonly repository: string;
  /** The primary key's fingerprint, when the repository offers the key (repomd.xml.key). */
  readonly fingerprint?: string;
  /** The signature's key id, when it offers none. */
  readonly keyId?: string;
  readonly imported: boolean;
}

/**
 * The keys zypper reports on stdout: an `Automatically importing the following key:` or `New
 * repository or package signing key received:` block (Repository:, Key Fingerprint: lines), or
 * `File 'repomd.xml' from repository 'A' is signed with an unknown key 'ID'` (no key offered).
 */
function keyNotes(): { readonly notes: KeyNote[]; readonly onLine: (line: string) => void } {
  const notes: KeyNote[] = [];
  let block: { imported: boolean; repository?: string } | undefined;
  return {
    notes,
    onLine: (line) => {
      if (/^Automatically importing the following key:/.test(line)) block = { imported: true };
      else if (/^New repository or package signing key received:/.test(line)) block = { imported: false };
      else if (block && /^\s*Repository:\s/.test(line)) block.repository = line.replace(/^\s*Repository:\s+/, '').trim();
      else if (block?.repository && /^\s*Key Fingerprint:\s/.test(line)) {
        notes.push({ repository: block.repository, fingerprint: line.replace(/^\s*Key Fingerprint:/, '').replace(/\s+/g, ''), imported: block.imported });
        block = undefined;
      } else {
        const unknown = /^File '.+' from repository '(.+)' is signed with an unknown key '([0-9A-Fa-f]+)'\. Continue\?/.exec(line);
        if (unknown) notes.push({ repository: unknown[1]!, keyId: unknown[2]!.toUpperCase(), imported: false });
      }
    },
  };
}

/**
 * Fetches the repositories' metadata (all, or those named) into the root's cache, and returns
 * the keys imported meanwhile. With `trusted` (repository name -> the fingerprints its gpgkey
 * holds, already in the root's rpm database) no key is imported: a repository signed with another
 * key is exit 3 naming both. Any other failure: exit 3 naming the repository.
 */
export async function refresh(ctx: ZypperContext, aliases: readonly string[] = [], trusted?: ReadonlyMap<string, readonly string[]>): Promise<KeyNote[]> {
  const keys = keyNotes();
  const result = await zypper(ctx, ['refresh', ...aliases], { onLine: keys.onLine }, trusted ? false : ctx.autoImportKeys);
  if (result.status === 0) return keys.notes;
  const refused = trusted && keys.notes.find((n) => !n.imported && trusted.has(n.repository));
  throw (refused && keyMismatchError(ctx, refused, trusted.get(refused.repository)!)) ?? repositoryError(ctx, result) ?? zypperFailed(ctx, 'refresh', result);
}

/** A repository whose metadata is signed with a key its gpgkey does not hold. */
function keyMismatchError(ctx: ZypperContext, note: KeyNote, fingerprints: readonly string[]): InputError {
  const repo = ctx.repositories.find((r) => r.name === note.repository);
  const where = repo ? `repository "${repo.name}" (${repo.url})` : `repository "${note.repository}"`;
  const signer = note.fingerprint ? `key ${note.fingerprint}` : `unknown key ${note.keyId} (the repository offers no repomd.xml.key)`;
  return new InputError(ctx.composeFile, `${where}: repomd.xml is signed with ${signer}, not with gpgkey ${repo?.gpgkeyAsWritten ?? ''} (${fingerprints.join(', ')})`,
    'nothing was installed; if the repository changed its key, check the new one with its publisher and name it in gpgkey:');
}

/**
 * What installing `request` into an empty root would install, as sorted NAME-VERSION-RELEASE.ARCH
 * lines (zypper's dry run). Names nothing a repository does not provide: those are returned.
 */
export async function solve(ctx: ZypperContext, request: readonly string[], recommends: boolean, imageset: string): Promise<{ packages: string[]; missing: string[] }> {
  const packages: string[] = [];
  const problems: string[] = [];
  const errors: string[] = [];
  let inInstall = false;
  let inError: string[] | undefined;
  const result = await zypper(ctx, ['--xmlout', 'install', '--dry-run', '--auto-agree-with-licenses', recommends ? '--recommends' : '--no-recommends', '--', ...request], {
    onLine: (line) => {
      // With --xmlout, zypper's errors are <message type="error"> elements on stdout.
      if (inError) {
        const end = line.indexOf('</message>');
        inError.push(unescapeXml(end < 0 ? line : line.slice(0, end)));
        if (end >= 0) {
          errors.push(inError.join('\n'));
          inError = undefined;
        }
        return;
      }
      // A dependency problem is a prompt; its description's first line names it.
      const problem = /^(?:<description>)?Problem: (.+)$/.exec(line);
      if (problem) problems.push(unescapeXml(problem[1]!));
      if (line.startsWith('<message type="error">')) {
        const rest = line.slice('<message type="error">'.length);
        const end = rest.indexOf('</message>');
        if (end >= 0) errors.push(unescapeXml(rest.slice(0, end)));
        else inError = [unescapeXml(rest)];
      } else if (line.startsWith('<to-install>')) inInstall = true;
      else if (line.startsWith('</to-install>')) inInstall = false;
      else if (inInstall && line.startsWith('<solvable ')) {
        const name = attribute(line, 'name');
        const type = attribute(line, 'type');
        if (type === 'package' && name) packages.push(`${name}-${attribute(line, 'edition')}.${attribute(line, 'arch')}`);
      }
    },
  });
  const all = { ...result, stderr: `${result.stderr}\n${errors.join('\n')}` };
  const missing = noProviders(all.stderr);
  if (missing.length > 0) return { packages: [], missing };
  if (problems.length > 0) throw dependencyError(ctx.composeFile, imageset, problems);
  if (result.status !== 0) throw repositoryError(ctx, all) ?? zypperFailed(ctx, 'dry-run install', all);
  return { packages: packages.sort(), missing };
}

/** Installs `request` into the root; its output is appended to `outputLog`; returns the keys imported meanwhile. */
export async function install(ctx: ZypperContext, request: readonly string[], recommends: boolean, outputLog: string, imageset: string): Promise<KeyNote[]> {
  const fd = fs.openSync(outputLog, 'a');
  const problems: string[] = [];
  const keys = keyNotes();
  try {
    const result = await zypper(ctx, ['install', '--auto-agree-with-licenses', recommends ? '--recommends' : '--no-recommends', '--', ...request], {
      onStdout: (chunk) => fs.writeSync(fd, chunk),
      onLine: (line) => {
        keys.onLine(line);
        const problem = /^Problem: (.+)$/.exec(line);
        if (problem) problems.push(problem[1]!);
      },
    });
    fs.writeSync(fd, result.stderr);
    if (result.status === 0) return keys.notes;
    const missing = noProviders(result.stderr);
    if (missing.length > 0) throw noProviderError(ctx.composeFile, missing);
    if (problems.length > 0) throw dependencyError(ctx.composeFile, imageset, problems);
    throw repositoryError(ctx, result) ?? gpgPackageError(ctx, result) ?? zypperFailed(ctx, 'install', result, outputLog);
  } finally {
    fs.closeSync(fd);
  }
}

/** The packages in a root's rpm database, sorted, gpg-pubkey entries (imported keys) left out. */
export async function installedPackages(root: string): Promise<string[]> {
  const lines: string[] = [];
  await rpm(root, ['-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n'], '-qa', (line) => { if (line && !line.startsWith('gpg-pubkey-')) lines.push(line); });
  return lines.sort();
}

/** An empty rpm database at RPMDB_PATH, with var/lib/rpm linked to it as on openSUSE. */
export async function initRpmDb(root: string): Promise<void> {
  fs.mkdirSync(path.join(root, RPMDB_PATH), { recursive: true });
  fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
  if (!fs.existsSync(path.join(root, 'var/lib/rpm'))) fs.symlinkSync('../../usr/lib/sysimage/rpm', path.join(root, 'var/lib/rpm'));
  await rpm(root, ['--initdb'], '--initdb');
}

/** Imports the public keys of an armored file into the root's rpm database: zypper trusts them there. */
export async function importKeys(root: string, file: string): Promise<void> {
  await rpm(root, ['--import', '--', file], '--import of the gpgkey keys');
}

/** rpm on the root's database; exit 4 when it is missing or fails (`what` names the step). */
async function rpm(root: string, args: readonly string[], what: string, onLine?: (line: string) => void): Promise<void> {
  const result = await runProgram(['rpm', '--root', root, '--dbpath', RPMDB_PATH, ...args], { onLine }).catch(() => {
    throw new OutputError('rpm', 'program not found', 'install the Debian package rpm (apt-get install rpm)');
  });
  if (result.status !== 0) throw new OutputError(root, `rpm ${what} failed: ${lastLine(result.stderr)}`);
}

/**
 * The root's repository files: exactly the compose file's repositories. `trusted` (repository
 * name -> its gpgkey's fingerprints) is written as a comment: metadata cached before the key was
 * named, or under another one, is then dropped as for any other change.
 */
export function writeRepositories(root: string, repositories: readonly RepositorySpec[], trusted?: ReadonlyMap<string, readonly string[]>): void {
  const dir = path.join(root, 'etc/zypp/repos.d');
  const previous = new Map<string, string>();
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    try {
      previous.set(name, readInputText(path.join(dir, name), 'repositoryFile', 'none'));
    } catch {
      // Not a file mediacompose wrote (a folder, a FIFO, too large): replaced like any other.
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const repo of repositories) {
    const keys = trusted?.get(repo.name);
    const text = [
      ...(keys ? [`# signatures trusted with the keys of gpgkey: ${keys.join(', ')}`] : []),
      `[${repo.name}]`,
      `name=${repo.name}`,
      `baseurl=${repo.url}`,
      'enabled=1',
      'autorefresh=1',
      `gpgcheck=${repo.gpgcheck ? 1 : 0}`,
      // Both the metadata's and every package's signature, not one instead of the other.
      `repo_gpgcheck=${repo.gpgcheck ? 1 : 0}`,
      `pkg_gpgcheck=${repo.gpgcheck ? 1 : 0}`,
      // Downloads stay in the shared cache, so that the next root does not fetch them again.
      'keeppackages=1',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, `${repo.name}.repo`), text);
    // Metadata cached under other settings (another url, gpgcheck off) is not trusted: zypper
    // would call it up to date without checking its signature again.
    if (previous.get(`${repo.name}.repo`) !== text) {
      for (const cache of ['raw', 'solv', 'packages']) fs.rmSync(path.join(root, 'var/cache/zypp', cache, repo.name), { recursive: true, force: true });
    }
  }
}

/** zypp.conf for one arch (outside the roots: a root's own etc/zypp/zypp.conf belongs to libzypp's package). */
export function writeZyppConf(file: string, rpmArch: string): void {
  fs.writeFileSync(file, ['[main]', `arch = ${rpmArch}`, ''].join('\n'));
}

/** The rpm arch zypper solves for, from the installer's short arch. */
export function rpmArchOf(arch: string): string {
  const map: Record<string, string> = { i386: 'i686', ppc: 'ppc64le', s390: 's390x', arm: 'armv7hl' };
  return map[arch] ?? arch;
}

function attribute(line: string, name: string): string {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(line);
  return unescapeXml(m?.[1] ?? '');
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

/** The capabilities named by `No provider of 'X' found.` lines. */
function noProviders(stderr: string): string[] {
  return [...stderr.matchAll(/^No provider of '(.+)' found\.$/gm)].map((m) => m[1]!);
}

/** `pattern "x11"` or `package "vim"`, from what zypper was asked for. */
function describeCapability(capability: string): string {
  const pattern = /^pattern\(\) = (.+)$/.exec(capability);
  return pattern ? `pattern "${pattern[1]}"` : `package "${capability}"`;
}

export function noProviderError(composeFile: string, missing: readonly string[]): InputError {
  const what = [...new Set(missing)].map(describeCapability).join(', ');
  return new InputError(composeFile, `no repository provides ${what}`, 'check the names against the repositories (zypper search), or add the repository that has them');
}

/** What the solver cannot resolve: `nothing provides X needed by P`, conflicts. */
function dependencyError(composeFile: string, imageset: string, problems: readonly string[]): InputError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new InputError(composeFile, `imageset "${imageset}" cannot be installed: ${problems[0]}${more}`,
    'the repositories cannot satisfy its dependencies: add the repository that provides them, or change its patterns and packages');
}

/** A repository that cannot be read: unreachable, not a repository, or a failed signature. */
function repositoryError(ctx: ZypperContext, result: ProgramResult): InputError | undefined {
  const m = /^(?:Repository '(.+)' is invalid\.|Problem retrieving files from '(.+)'\.|Skipping repository '(.+)' because)/m.exec(result.stderr);
  if (!m) return undefined;
  const alias = m[1] ?? m[2] ?? m[3];
  const repo = ctx.repositories.find((r) => r.name === alias);
  const where = repo ? `repository "${repo.name}" (${repo.url})` : `repository "${alias}"`;
  if (/Signature verification failed|is unsigned|signed with an unknown key|Signature verification/i.test(result.stderr)) {
    return new InputError(ctx.composeFile, `${where}: GPG check failed: ${gpgDetail(result.stderr)}`,
      'sign the repository and publish its key (repodata/repomd.xml.key), or set gpgcheck: false for a repository you trust');
  }
  return new InputError(ctx.composeFile, `${where} cannot be read: ${repositoryDetail(result.stderr)}`, 'check the url, the network and that it is an rpm-md repository');
}

/** A package whose signature fails in a repository with gpgcheck. */
function gpgPackageError(ctx: ZypperContext, result: ProgramResult): InputError | undefined {
  const m = /^.*(?:not signed|Signature verification failed|NOKEY|BADSIG|digest verification failed).*$/im.exec(result.stderr);
  if (!m) return undefined;
  return new InputError(ctx.composeFile, `GPG check failed: ${m[0].trim()}`, 'sign the packages with the repository key, or set gpgcheck: false for a repository you trust');
}

function gpgDetail(stderr: string): string {
  const m = /^.*(?:Signature verification failed[^\n]*|is unsigned[^\n]*)$/m.exec(stderr);
  return (m?.[0] ?? 'signature verification failed').replace(/^\s*-\s*/, '');
}

function repositoryDetail(stderr: string): string {
  const message = /^Error message: (.+)$/m.exec(stderr);
  if (message) return message[1]!.trim();
  const history = /^History:\n\s*- (.+)$/m.exec(stderr);
  if (history) return history[1]!.replace(/^\[[^\]]*\]\s*/, '').trim();
  const valid = /\] (.+)$/m.exec(stderr);
  return valid?.[1]?.trim() ?? 'valid metadata not found';
}

function zypperFailed(ctx: ZypperContext, what: string, result: ProgramResult, outputLog?: string): OutputError {
  const status = result.signal ? `killed by ${result.signal}` : `exit status ${result.status}`;
  return new OutputError(ctx.label, `zypper ${what} failed (${status}): ${lastLine(result.stderr)}`,
    `see ${outputLog ?? ctx.logFile}`);
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no message';
}
