/**
 * Each imageset's deployed tree against a fresh scan of its root: paths, types, permission bits,
 * owners, content digests, mtimes to the second, symlink targets, device numbers and hardlink
 * groups (the invariant of docs/compose-spec.md).
 */
import { warnAll } from '../runtime/warnings.js';
import type { ComposeSpec, ImagesetSpec } from '../config/spec.js';
import type { Progress } from '../runtime/progress.js';
import { digestFile, digestFileInterruptible } from '../scan/digest.js';
import { type BytePath, type Entry, comparePaths, printable } from '../model/entry.js';
import { type RootScan, scanRoot } from '../scan/walk.js';
import { signalCheckpoint } from '../runtime/signal-checkpoint.js';
import type { ArchiveReading, Listing } from './archives.js';
import { type Medium, labelOf } from '../manifest/medium.js';
import { type DeployedNode, DeployedTree, TYPE_NAMES } from './replay.js';
import type { VerifyProblem } from '../manifest/problems.js';
import type { VerifiedImageset } from './result.js';
import { secondsSince } from '../runtime/format.js';

/** A root scanned once, with content digests computed on demand (once per inode). */
class ScannedRoot {
  private readonly digests = new Map<string, string>();
  readonly entries: ReadonlyMap<BytePath, Entry>;

  constructor(readonly scan: RootScan) {
    this.entries = new Map(scan.entries.map((e) => [e.path, e]));
  }

  /** Digests the entry ahead of digest(), with signal checkpoints between its chunks. */
  async prefetch(entry: Entry): Promise<void> {
    const key = entry.inode ?? `path:${entry.path}`;
    if (!this.digests.has(key)) this.digests.set(key, await digestFileInterruptible(this.scan.root, entry));
  }

  digest(entry: Entry): string {
    const key = entry.inode ?? `path:${entry.path}`;
    let digest = this.digests.get(key);
    if (digest === undefined) {
      digest = digestFile(this.scan.root, entry);
      this.digests.set(key, digest);
    }
    return digest;
  }
}

export async function compareImagesets(
  spec: ComposeSpec,
  medium: Medium,
  archives: ReadonlyMap<string, ArchiveReading>,
  problems: VerifyProblem[],
  progress: Progress,
): Promise<Array<Omit<VerifiedImageset, 'differences'>>> {
  const roots = new Map<string, ScannedRoot>();
  const rootOf = async (imageset: ImagesetSpec): Promise<ScannedRoot> => {
    let root = roots.get(imageset.root);
    if (!root) {
      const started = Date.now();
      const scan = await scanRoot(imageset.root);
      warnAll(progress, scan.warnings);
      progress.info(`scanned ${imageset.rootAsWritten}: ${scan.entries.length} entries in ${secondsSince(started)}`);
      root = new ScannedRoot(scan);
      roots.set(imageset.root, root);
    }
    return root;
  };

  const compared: Array<Omit<VerifiedImageset, 'differences'>> = [];
  for (const imageset of spec.imagesets) compared.push(await compareImageset(imageset));
  return compared;

  async function compareImageset(imageset: ImagesetSpec): Promise<Omit<VerifiedImageset, 'differences'>> {
    const set = medium.matched.get(imageset);
    const files = set?.images.map((i) => i.file) ?? [];
    const root = await rootOf(imageset);
    const label = labelOf(spec, imageset);
    const summary = { name: imageset.name, arch: imageset.arch, label, images: files, entries: root.scan.entries.length };
    const listings = files.map((file) => archives.get(file));
    // A missing or unreadable archive aborts the installer: there is no deployed tree to compare.
    if (!set || listings.some((l) => l?.kind !== 'listing')) return { ...summary, compared: false };

    const before = problems.length;
    const report = (p: BytePath, what: string): void => void problems.push({ imageset: label, path: printable(p), what });
    const tree = new DeployedTree(report);
    for (const listing of listings as Listing[]) tree.extract(listing);
    // The contents to compare are digested first, interruptibly (runtime/signal-checkpoint.ts).
    for (const [p, entry] of root.entries) {
      const node = tree.nodes.get(p);
      if (entry.type === 'file' && node?.type === 'file' && !node.implicit && node.size === entry.size) await root.prefetch(entry);
    }
    await compareTree(root, tree, report);
    const differences = problems.length - before;
    progress.info(`${label}: ${tree.nodes.size} entries deployed, ${differences === 0 ? 'exactly its root' : `${differences} differences`}`);
    return { ...summary, compared: true };
  }
}

async function compareTree(root: ScannedRoot, tree: DeployedTree, report: (path: BytePath, what: string) => void): Promise<void> {
  const paths = [...new Set([...root.entries.keys(), ...tree.nodes.keys()])].sort(comparePaths);
  for (const [i, path] of paths.entries()) {
    if (i % 1024 === 0) await signalCheckpoint();
    compareEntry(root, root.entries.get(path), tree.nodes.get(path), (what) => report(path, what));
  }
  compareHardlinks(root, tree, report);
}

function compareEntry(root: ScannedRoot, entry: Entry | undefined, node: DeployedNode | undefined, report: (what: string) => void): void {
  if (node === undefined) return report(`in the root (${TYPE_NAMES[entry!.type]}), not deployed`);
  if (entry === undefined) return report(`deployed (${TYPE_NAMES[node.type]} from ${node.from}), not in the root`);
  if (node.implicit) {
    return report(
      `no image has this ${TYPE_NAMES[entry.type]} before its contents (first needed by ${node.from}): ` +
        'tar creates a directory with owner 0:0, a mode from its umask and the time of extraction',
    );
  }
  const differs = (what: string, inRoot: string, deployed: string): void => report(`${what}: ${inRoot} in the root, ${deployed} deployed (from ${node.from})`);
  if (entry.type !== node.type) return differs('type differs', TYPE_NAMES[entry.type], TYPE_NAMES[node.type]);
  if (entry.mode !== node.mode) differs('mode differs', octal(entry.mode), octal(node.mode));
  if (entry.uid !== node.uid || entry.gid !== node.gid) differs('owner differs', `${entry.uid}:${entry.gid}`, `${node.uid}:${node.gid}`);
  if (entry.mtime !== node.mtime) {
    const deployed = node.mtime === undefined ? 'the time of extraction (an entry was added to it after its metadata was set)' : time(node.mtime);
    differs('mtime differs', time(entry.mtime), deployed);
  }
  switch (entry.type) {
    case 'file':
      if (entry.size !== node.size) differs('size differs', `${entry.size} bytes`, `${node.size} bytes`);
      else if (root.digest(entry) !== node.digest) {
        differs('content differs', `sha256 ${root.digest(entry).slice(0, 16)}…`, `sha256 ${node.digest?.slice(0, 16)}…`);
      }
      return;
    case 'symlink':
      if (entry.target !== node.target) {
        differs('symlink target differs', JSON.stringify(printable(entry.target ?? '')), JSON.stringify(printable(node.target ?? '')));
      }
      return;
    case 'char':
    case 'block':
      if (entry.devmajor !== node.devmajor || entry.devminor !== node.devminor) {
        differs('device numbers differ', `${entry.devmajor}:${entry.devminor}`, `${node.devmajor}:${node.devminor}`);
      }
      return;
    default:
      return;
  }
}

/** Hardlink groups: the root's paths grouped by inode against the deployed paths grouped by node. */
function compareHardlinks(root: ScannedRoot, tree: DeployedTree, report: (path: BytePath, what: string) => void): void {
  const inRoot = new Map<string, BytePath[]>();
  for (const e of root.entries.values()) if (e.inode) inRoot.set(e.inode, [...(inRoot.get(e.inode) ?? []), e.path]);
  const deployed = new Map<DeployedNode, BytePath[]>();
  for (const [p, node] of tree.nodes) if (node.type === 'file') deployed.set(node, [...(deployed.get(node) ?? []), p]);

  // One line per tangle: the paths of both groups are then covered.
  const covered = new Set<BytePath>();
  for (const entry of root.entries.values()) {
    const node = tree.nodes.get(entry.path);
    if (entry.type !== 'file' || node?.type !== 'file' || covered.has(entry.path)) continue;
    const rootGroup = entry.inode ? inRoot.get(entry.inode)! : [entry.path];
    const deployedGroup = [...deployed.get(node)!].sort(comparePaths);
    if (rootGroup.join('\0') === deployedGroup.join('\0')) continue;
    for (const p of [...rootGroup, ...deployedGroup]) covered.add(p);
    report(entry.path, `hard links differ: ${linkedWith(rootGroup, entry.path)} in the root, ${linkedWith(deployedGroup, entry.path)} deployed`);
  }
}

function linkedWith(group: readonly BytePath[], self: BytePath): string {
  const others = group.filter((p) => p !== self);
  if (others.length === 0) return 'not linked';
  const shown = others.slice(0, 5).map(printable).join(', ');
  return `linked with ${shown}${others.length > 5 ? ` and ${others.length - 5} more` : ''}`;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** Seconds, with the date when JavaScript can show it. */
function time(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : `${seconds} (${date.toISOString().replace('.000Z', 'Z')})`;
}
