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
 *    stores them once; installing only the difference is also faster (docs/prepare.md).
 * 4. Every root is staged in `.staging-<name>-<arch>` and all are moved into place together, only
 *    when every installation succeeded; a failure or a signal leaves the previous roots as they
 *    were.
 *
 * Outside the roots folder nothing is written: the package cache, zypp.conf per arch and the logs
 * live in it too.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ComposeSpec, ImagesetSpec } from '../config/spec.js';
import { InputError, OutputError, describeSystemError } from '../errors.js';
import { FolderLock } from '../runtime/folder-lock.js';
import { onCleanup } from '../runtime/cleanup.js';
import type { Progress } from '../runtime/progress.js';
import { fingerprint, readRecord, recordOf, recordPath, repomdDigests, writeRecord } from './records.js';
import { PrepareRun, clampMtimes, copyTree, separateHardlinks, sourceDateEpoch } from './root-tree.js';
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
  const lock = FolderLock.acquire(folder, 'roots folder', (note) => progress.warn(note, 'MC-W-LOCK'));
  // Registered after the lock: on a signal the cleanup registry ends zypper and removes the staged
  // roots first, then releases the lock.
  const run = new PrepareRun();
  const unregister = onCleanup(() => run.discard());
  try {
    removeLeftovers(folder);
    return { roots: await prepareLocked(spec, specs, run, progress), seconds: (Date.now() - started) / 1000 };
  } finally {
    run.discard();
    unregister();
    lock.release();
  }
}

async function prepareLocked(spec: ComposeSpec, specs: readonly ImagesetSpec[], run: PrepareRun, progress: Progress): Promise<PreparedRoot[]> {
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
    const ctx = context(spec, run, probe, arch, `.probe-${arch}`, path.join(spec.prepare.rootsAsWritten, `.probe-${arch}`));
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
    target.fingerprint = fingerprint(spec, target.spec, target.solved, trusted);
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
    run.staged(stage);
    const t = Date.now();
    await stageRoot(spec, run, target, stage, trusted, reportKeys);
    target.readyAt = stage;
    progress.info(`prepared ${target.spec.rootAsWritten}: ${target.installed?.length} packages${target.base ? ` (on a copy of ${target.base.key})` : ''} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }

  // 4. All installations succeeded: move the staged roots into place, then their records.
  for (const target of order) commitRoot(folder, run, target, spec, repomd.get(target.spec.arch) ?? {}, trusted);
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

function context(spec: ComposeSpec, run: PrepareRun, root: string, arch: string, logName: string, label: string): ZypperContext {
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
    ...run.children,
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

async function stageRoot(spec: ComposeSpec, run: PrepareRun, target: Target, stage: string, trusted: TrustedKeys | undefined, reportKeys: (notes: readonly KeyNote[]) => void): Promise<void> {
  const ctx = context(spec, run, stage, target.spec.arch, target.key, target.spec.rootAsWritten);
  const outputLog = path.join(spec.prepare.roots, '.logs', `${target.key}.log`);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.writeFileSync(outputLog, '');
  if (target.base?.readyAt) {
    await copyTree(target.base.readyAt, stage, run);
  } else {
    fs.mkdirSync(stage, { recursive: true });
    await initRpmDb(stage);
    // A copied base holds these keys already (the fingerprint covers them).
    if (trusted) await importKeys(stage, trusted.file);
    // The probe's metadata: the root does not download it again.
    const cache = path.join(spec.prepare.roots, `.probe-${target.spec.arch}`, 'var/cache/zypp');
    fs.mkdirSync(path.join(stage, 'var/cache'), { recursive: true });
    if (fs.existsSync(cache)) await copyTree(cache, path.join(stage, 'var/cache/zypp'), run);
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
      return stageRoot(spec, run, target, stage, trusted, reportKeys);
    }
    fs.appendFileSync(outputLog, `\nsolved:\n${expected}\ninstalled:\n${target.installed.join('\n')}\n`);
  }
  // Last: even rpm's query above writes to the database's files (its -shm).
  const epoch = sourceDateEpoch();
  if (epoch !== undefined) clampMtimes(stage, epoch);
}

function commitRoot(folder: string, run: PrepareRun, target: Target, spec: ComposeSpec, repomd: Record<string, string>, trusted: TrustedKeys | undefined): void {
  const stage = target.readyAt!;
  const root = target.spec.root;
  const old = path.join(folder, `${OLD_PREFIX}${target.key}`);
  const recordFile = recordPath(folder, target.key);
  try {
    fs.rmSync(recordFile, { force: true });
    fs.rmSync(old, { recursive: true, force: true });
    if (fs.existsSync(root)) fs.renameSync(root, old);
    fs.renameSync(stage, root);
    run.committed(stage);
    const fields = { fingerprint: target.fingerprint, installed: target.installed ?? [], ...(target.base ? { base: target.base.key } : {}) };
    writeRecord(recordFile, recordOf(spec, target.spec, fields, repomd, trusted));
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    throw new OutputError(root, `cannot move the prepared root into place: ${describeSystemError(err)}`);
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

