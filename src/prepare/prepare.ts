/**
 * Stage 1: from the repositories to the pattern roots. Every imageset without a root gets one,
 * installed by the real zypper into `<prepare.roots>/<name>-<arch>`:
 *
 * 1. Per arch, a probe root (`.probe-<arch>`) holds the repositories' metadata: a refresh there
 *    finds unreachable repositories and failed signatures, and a dry-run solve per imageset finds
 *    what no repository provides, all before any root is touched, and says exactly which packages
 *    each root will hold. A repository with `gpgkey:` is refreshed trusting that key alone, so
 *    that one signed with another key stops here (keys.ts).
 * 2. A root is reused while its fingerprint is unchanged: arch, patterns, packages, recommends,
 *    the repositories, the packages the solve chose (name, version, release, arch), and
 *    SOURCE_DATE_EPOCH when set. A version
 *    bump therefore prepares again only the roots that hold the bumped package.
 * 3. A root to prepare starts as a copy of the largest root whose packages are a subset of its own
 *    (then only the difference is installed), or empty with the probe's metadata cache. A copy
 *    keeps the directories and zypper's files of the smaller root identical, so that the medium
 *    stores them once; installing only the difference is also faster (README: "Prepared roots").
 * 4. Every root is staged in `.staging-<name>-<arch>` and all are moved into place together, only
 *    when every installation succeeded; a failure or a signal leaves the previous roots as they
 *    were.
 *
 * Outside the roots folder nothing is written: the package cache, zypp.conf per arch and the logs
 * live in it too.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ComposeSpec, type ImagesetSpec } from '../config/spec.js';
import { InputError, OutputError, describeSystemError } from '../errors.js';
import { FolderLock } from '../runtime/folder-lock.js';
import { onCleanup } from '../runtime/cleanup.js';
import { runProgram } from '../runtime/command.js';
import { readInput, readInputText } from '../runtime/input-file.js';
import type { Progress } from '../runtime/progress.js';
import { KEYRING_PREFIX, type TrustedKeys, readTrustedKeys, reportImportedKeys } from './keys.js';
import {
  type KeyNote,
  type ZypperContext,
  importKeys,
  initRpmDb,
  install,
  installedPackages,
  noProviderError,
  refresh,
  requestOf,
  requirePrograms,
  rpmArchOf,
  solve,
  writeRepositories,
  writeZyppConf,
} from './zypper.js';

/** Bumped when what a record means changes: older records then never match. */
const RECORD_FORMAT = 1;
const STAGING_PREFIX = '.staging-';
const OLD_PREFIX = '.old-';

export interface PreparedRoot {
  readonly imageset: string;
  readonly arch: string;
  /** The root folder. */
  readonly root: string;
  readonly status: 'prepared' | 'reused';
  /** Packages in the root's rpm database (imported keys left out). */
  readonly packages: number;
  /** The imageset whose root this one was copied from before installing the rest. */
  readonly base?: string;
}

export interface PrepareResult {
  readonly roots: readonly PreparedRoot[];
  readonly seconds: number;
}

/** What is kept beside each prepared root, `<name>-<arch>.prepared.json`. */
interface RootRecord {
  readonly format: number;
  readonly fingerprint: string;
  readonly arch: string;
  readonly patterns: readonly string[];
  readonly packages: readonly string[];
  readonly recommends: boolean;
  readonly repositories: ReadonlyArray<{ name: string; url: string; gpgcheck: boolean; gpgkey?: readonly string[]; repomd?: string }>;
  /** The packages installed, sorted NAME-VERSION-RELEASE.ARCH. */
  readonly installed: readonly string[];
  readonly base?: string;
}

interface Target {
  readonly spec: ImagesetSpec;
  readonly key: string;
  readonly request: string[];
  solved: string[];
  fingerprint: string;
  reused: boolean;
  /** Where its finished root is during this run (the staging folder until all are committed). */
  readyAt?: string;
  base?: Target;
  installed?: string[];
}

/** Prepares every imageset without a root; a no-op (and no root needed) when there is none. */
export async function prepareRoots(spec: ComposeSpec, progress: Progress): Promise<PrepareResult> {
  const started = Date.now();
  const specs = spec.imagesets.filter((s) => s.prepared);
  if (specs.length === 0) return { roots: [], seconds: 0 };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new InputError(spec.prepare.rootsAsWritten, 'preparing roots needs root', 'zypper installs packages with their owners and runs their scripts as root: run mediacompose as root, e.g. with sudo');
  }
  requirePrograms();
  const folder = spec.prepare.roots;
  try {
    fs.mkdirSync(path.join(folder, '.logs'), { recursive: true });
    fs.mkdirSync(path.join(folder, '.cache/packages'), { recursive: true });
  } catch (err) {
    throw new OutputError(folder, `cannot create the roots folder: ${describeSystemError(err)}`, 'check prepare.roots, its permissions and free space');
  }
  const lock = FolderLock.acquire(folder, 'roots folder', (note) => progress.warn(note));
  // Registered after the lock: on a signal the cleanup registry ends zypper and removes the staged
  // roots first, then releases the lock.
  const unregister = onCleanup(discardPrepareStagings);
  try {
    removeLeftovers(folder);
    return { roots: await prepareLocked(spec, specs, progress), seconds: (Date.now() - started) / 1000 };
  } finally {
    discardPrepareStagings();
    unregister();
    lock.release();
  }
}

async function prepareLocked(spec: ComposeSpec, specs: readonly ImagesetSpec[], progress: Progress): Promise<PreparedRoot[]> {
  const folder = spec.prepare.roots;
  const { recommends } = spec.prepare;
  const targets: Target[] = specs.map((s) => ({
    spec: s,
    key: `${s.name}-${s.arch}`,
    request: requestOf(s.patterns, s.prepared?.packages ?? []),
    solved: [],
    fingerprint: '',
    reused: false,
  }));

  // 0. The keys of every gpgkey: (keys.ts), read before zypper runs anywhere.
  const trusted = await readTrustedKeys(spec);
  const seenKeys = new Set<string>();
  const reportKeys = (notes: readonly KeyNote[]): void => reportImportedKeys(spec, notes, trusted, seenKeys, progress);

  // 1. Metadata and solving in one probe root per arch; nothing else is touched yet.
  const repomd = new Map<string, Record<string, string>>();
  const missing: string[] = [];
  for (const arch of [...new Set(targets.map((t) => t.spec.arch))]) {
    const probe = path.join(folder, `.probe-${arch}`);
    const ctx = context(spec, probe, arch, `.probe-${arch}`, path.join(spec.prepare.rootsAsWritten, `.probe-${arch}`));
    writeZyppConf(ctx.zyppConf, rpmArchOf(arch));
    // A new rpm database each run: it trusts the gpgkey keys and what this run imports, no more.
    fs.rmSync(path.join(probe, 'usr/lib/sysimage/rpm'), { recursive: true, force: true });
    await initRpmDb(probe);
    if (trusted) await importKeys(probe, trusted.file);
    writeRepositories(probe, spec.repositories, trusted?.fingerprints);
    const t = Date.now();
    if (trusted) await refresh(ctx, [...trusted.fingerprints.keys()], trusted.fingerprints);
    const others = spec.repositories.filter((r) => !trusted?.fingerprints.has(r.name)).map((r) => r.name);
    if (others.length > 0) reportKeys(await refresh(ctx, trusted ? others : []));
    separateHardlinks(path.join(probe, 'var/cache/zypp'));
    repomd.set(arch, repomdDigests(probe, spec));
    for (const target of targets.filter((x) => x.spec.arch === arch)) {
      const solved = await solve(ctx, target.request, recommends, target.spec.name);
      missing.push(...solved.missing);
      target.solved = solved.packages;
    }
    progress.info(`repositories refreshed and solved for ${arch} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
  if (missing.length > 0) throw noProviderError(spec.file, missing);

  // 2. Reuse what is unchanged.
  for (const target of targets) {
    target.fingerprint = fingerprint(spec, target, trusted);
    const record = readRecord(folder, target.key);
    target.reused = record?.fingerprint === target.fingerprint && fs.existsSync(target.spec.root);
    if (target.reused) {
      target.readyAt = target.spec.root;
      target.installed = [...(record?.installed ?? [])];
    }
  }

  // 3. Stage the others, smaller package sets first so that they can serve as bases.
  const order = targets.filter((t) => !t.reused).sort((a, b) => a.solved.length - b.solved.length);
  for (const target of order) {
    target.base = baseFor(target, targets);
    const stage = path.join(folder, `${STAGING_PREFIX}${target.key}`);
    liveStagings.add(stage);
    const t = Date.now();
    await stageRoot(spec, target, stage, trusted, reportKeys);
    target.readyAt = stage;
    progress.info(`prepared ${target.spec.rootAsWritten}: ${target.installed?.length} packages${target.base ? ` (on a copy of ${target.base.key})` : ''} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }

  // 4. All installations succeeded: move the staged roots into place, then their records.
  for (const target of order) commitRoot(folder, target, spec, repomd.get(target.spec.arch) ?? {}, trusted);
  for (const target of targets.filter((t) => t.reused)) progress.info(`reused ${target.spec.rootAsWritten}: ${target.installed?.length} packages`);
  return targets.map((t) => ({
    imageset: t.spec.name,
    arch: t.spec.arch,
    root: t.spec.root,
    status: t.reused ? 'reused' : 'prepared',
    packages: t.installed?.length ?? 0,
    ...(t.base ? { base: t.base.spec.name } : {}),
  }));
}

function context(spec: ComposeSpec, root: string, arch: string, logName: string, label: string): ZypperContext {
  const folder = spec.prepare.roots;
  return {
    root,
    label,
    zyppConf: path.join(folder, `.zypp-${arch}.conf`),
    logFile: path.join(folder, '.logs', `${logName}.zypp.log`),
    packageCache: path.join(folder, '.cache/packages'),
    repositories: spec.repositories,
    composeFile: spec.file,
    autoImportKeys: spec.repositories.some((r) => r.gpgcheck && r.gpgkey === undefined),
    onStart: (pid) => liveChildren.add(pid),
    onExit: (pid) => liveChildren.delete(pid),
  };
}

/** The largest root ready in this run whose packages are all in `target`'s (same arch). */
function baseFor(target: Target, targets: readonly Target[]): Target | undefined {
  const mine = new Set(target.solved);
  let best: Target | undefined;
  for (const other of targets) {
    if (other === target || other.spec.arch !== target.spec.arch || !other.readyAt || !other.installed) continue;
    if (!other.installed.every((p) => mine.has(p))) continue;
    if (!best || other.installed.length > (best.installed?.length ?? 0)) best = other;
  }
  return best;
}

async function stageRoot(spec: ComposeSpec, target: Target, stage: string, trusted: TrustedKeys | undefined, reportKeys: (notes: readonly KeyNote[]) => void): Promise<void> {
  const ctx = context(spec, stage, target.spec.arch, target.key, target.spec.rootAsWritten);
  const outputLog = path.join(spec.prepare.roots, '.logs', `${target.key}.log`);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.writeFileSync(outputLog, '');
  if (target.base?.readyAt) {
    await copyTree(target.base.readyAt, stage);
  } else {
    fs.mkdirSync(stage, { recursive: true });
    await initRpmDb(stage);
    // A copied base holds these keys already (the fingerprint covers them).
    if (trusted) await importKeys(stage, trusted.file);
    // The probe's metadata: the root does not download it again.
    const cache = path.join(spec.prepare.roots, `.probe-${target.spec.arch}`, 'var/cache/zypp');
    fs.mkdirSync(path.join(stage, 'var/cache'), { recursive: true });
    if (fs.existsSync(cache)) await copyTree(cache, path.join(stage, 'var/cache/zypp'));
  }
  writeRepositories(stage, spec.repositories, trusted?.fingerprints);
  reportKeys(await install(ctx, target.request, spec.prepare.recommends, outputLog, target.spec.name));
  fs.rmSync(path.join(stage, 'run/zypp.pid'), { force: true });
  separateHardlinks(path.join(stage, 'var/cache/zypp'));
  target.installed = await installedPackages(stage);
  const expected = target.solved.join('\n');
  if (target.installed.join('\n') !== expected) {
    if (target.base) {
      // Installed on top of another root, zypper chose differently: install from scratch.
      target.base = undefined;
      return stageRoot(spec, target, stage, trusted, reportKeys);
    }
    fs.appendFileSync(outputLog, `\nsolved:\n${expected}\ninstalled:\n${target.installed.join('\n')}\n`);
  }
  // Last: even rpm's query above writes to the database's files (its -shm).
  const epoch = sourceDateEpoch();
  if (epoch !== undefined) clampMtimes(stage, epoch);
}

/**
 * SOURCE_DATE_EPOCH, when set: the latest mtime a prepared root may hold. Files and folders
 * written while installing (zypper's state, the repository files, folders a package added to)
 * otherwise carry the time of the installation, so roots prepared at other times hold them
 * differently and share fewer of them, and a root prepared again differs where nothing changed.
 */
function sourceDateEpoch(): number | undefined {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new InputError('SOURCE_DATE_EPOCH', `"${value}" is not a number of seconds since 1970`, 'set it to a whole number, e.g. SOURCE_DATE_EPOCH=$(date +%s), or unset it');
  return Number(value);
}

/** Every entry of `root` newer than `epoch` gets `epoch` as its mtime (links themselves, not their targets). */
function clampMtimes(root: string, epoch: number): void {
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (fs.lstatSync(file).mtimeMs > epoch * 1000) fs.lutimesSync(file, epoch, epoch);
  }
  if (fs.lstatSync(root).mtimeMs > epoch * 1000) fs.utimesSync(root, epoch, epoch);
}

/**
 * libzypp hardlinks metadata from a dir:// repository on the same file system into the cache,
 * and touches the cached repomd.xml on every refresh: the repository's own file would change,
 * and a root whenever another root or the probe is refreshed. Each such file gets an inode of
 * its own (after the probe's refresh and after each installation).
 */
function separateHardlinks(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = fs.statSync(file);
    if (stat.nlink < 2) continue;
    const copy = `${file}.mediacompose-copy`;
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, stat.mode & 0o7777);
    fs.chownSync(copy, stat.uid, stat.gid);
    fs.utimesSync(copy, stat.atime, stat.mtime);
    fs.renameSync(copy, file);
  }
}

/** `cp -a`: owners, modes, times, links, hardlinks and extended attributes as they are. */
async function copyTree(from: string, to: string): Promise<void> {
  const result = await runProgram(['cp', '-a', '--reflink=auto', '--', from, to], {
    onStart: (pid) => liveChildren.add(pid),
    onExit: (pid) => liveChildren.delete(pid),
  });
  if (result.status !== 0) throw new OutputError(to, `cannot copy ${from}: ${result.stderr.trim().split('\n')[0] ?? ''}`, 'check free space in the roots folder');
}

function commitRoot(folder: string, target: Target, spec: ComposeSpec, repomd: Record<string, string>, trusted: TrustedKeys | undefined): void {
  const stage = target.readyAt!;
  const root = target.spec.root;
  const old = path.join(folder, `${OLD_PREFIX}${target.key}`);
  const recordFile = recordPath(folder, target.key);
  try {
    fs.rmSync(recordFile, { force: true });
    fs.rmSync(old, { recursive: true, force: true });
    if (fs.existsSync(root)) fs.renameSync(root, old);
    fs.renameSync(stage, root);
    liveStagings.delete(stage);
    const record: RootRecord = {
      format: RECORD_FORMAT,
      fingerprint: target.fingerprint,
      arch: target.spec.arch,
      patterns: target.spec.patterns,
      packages: target.spec.prepared?.packages ?? [],
      recommends: spec.prepare.recommends,
      repositories: repositoryInputs(spec, trusted).map((r) => ({ ...r, repomd: repomd[r.name] })),
      installed: target.installed ?? [],
      ...(target.base ? { base: target.base.key } : {}),
    };
    fs.writeFileSync(`${recordFile}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    fs.renameSync(`${recordFile}.tmp`, recordFile);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    throw new OutputError(root, `cannot move the prepared root into place: ${describeSystemError(err)}`);
  }
}

/** What a root depends on of each repository; the gpgkey fingerprints only when one is named (older fingerprints stay). */
function repositoryInputs(spec: ComposeSpec, trusted: TrustedKeys | undefined): Array<{ name: string; url: string; gpgcheck: boolean; gpgkey?: readonly string[] }> {
  return spec.repositories.map((r) => {
    const gpgkey = trusted?.fingerprints.get(r.name);
    return { name: r.name, url: r.url, gpgcheck: r.gpgcheck, ...(gpgkey ? { gpgkey } : {}) };
  });
}

function fingerprint(spec: ComposeSpec, target: Target, trusted: TrustedKeys | undefined): string {
  const epoch = sourceDateEpoch();
  const input = {
    format: RECORD_FORMAT,
    arch: target.spec.arch,
    patterns: target.spec.patterns,
    packages: target.spec.prepared?.packages ?? [],
    recommends: spec.prepare.recommends,
    repositories: repositoryInputs(spec, trusted),
    solved: target.solved,
    // The clamp changes the roots' mtimes: another SOURCE_DATE_EPOCH is another root. Absent
    // when unset, so that roots prepared without it keep their fingerprints.
    ...(epoch === undefined ? {} : { sourceDateEpoch: epoch }),
  };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/** sha256 of each repository's repomd.xml as the probe fetched it (kept in the records). */
function repomdDigests(probe: string, spec: ComposeSpec): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const repo of spec.repositories) {
    try {
      const text = readInput(path.join(probe, 'var/cache/zypp/raw', repo.name, 'repodata/repomd.xml'), 'repositoryIndex', 'none');
      digests[repo.name] = createHash('sha256').update(text).digest('hex');
    } catch {
      // Not every repository type has a repomd.xml (susetags); the solve still decides reuse.
    }
  }
  return digests;
}

function recordPath(folder: string, key: string): string {
  return path.join(folder, `${key}.prepared.json`);
}

function readRecord(folder: string, key: string): RootRecord | undefined {
  try {
    const record = JSON.parse(readInputText(recordPath(folder, key), 'rootRecord', 'none')) as RootRecord;
    return record.format === RECORD_FORMAT ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Staging and old folders and gpgkey keyrings a killed prepare left (the caller holds the folder's lock). */
function removeLeftovers(folder: string): void {
  for (const name of fs.readdirSync(folder)) {
    if (name.startsWith(KEYRING_PREFIX)) fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    if (!name.startsWith(STAGING_PREFIX) && !name.startsWith(OLD_PREFIX)) continue;
    const key = name.slice(name.startsWith(STAGING_PREFIX) ? STAGING_PREFIX.length : OLD_PREFIX.length);
    const root = path.join(folder, key);
    // An old root whose replacement never arrived is the previous root: put it back.
    if (name.startsWith(OLD_PREFIX) && !fs.existsSync(root)) fs.renameSync(path.join(folder, name), root);
    else fs.rmSync(path.join(folder, name), { recursive: true, force: true });
  }
}

const liveStagings = new Set<string>();
const liveChildren = new Set<number>();

/** Ends running zypper/cp children and removes staged roots (a cleanup task; idempotent). */
function discardPrepareStagings(): void {
  for (const pid of liveChildren) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const stage of liveStagings) fs.rmSync(stage, { recursive: true, force: true });
  liveStagings.clear();
}
