/**
 * Near misses: paths whose content is identical in several imagesets of one arch but that are
 * not shared, because their metadata differs (mtime, mode, owner, device type, hardlink
 * grouping). A symlink's target is its content: symlinks count when their targets are equal. The most common reason roots stop sharing is invisible otherwise: a `touch`, a
 * package script or an install on another day moves a file out of its shared image, and each
 * imageset's own image then stores it again.
 *
 * Pure: scans in, near misses out; no I/O. The content digests it needs are those of
 * `nearMissCandidates` (files at the same path with the same size but other metadata), which the
 * scan takes on request in addition to the files it compares for sharing.
 */
import type { ComposeSpec } from '../config/spec.js';
import { type BytePath, type Entry, isAtOrBelow, printable } from '../model/entry.js';
import type { ImagesetScan } from './plan.js';
import { type Unit, metadataSignature, unitsOf } from './units.js';

/** A metadata field that keeps identical content from being shared. */
type NearMissField = 'type' | 'mode' | 'owner' | 'mtime' | 'hardlinks';
const FIELDS: readonly NearMissField[] = ['type', 'mode', 'owner', 'mtime', 'hardlinks'];

interface NearMiss {
  readonly arch: string;
  /** The path inside the roots (printable). */
  readonly path: string;
  /** The imagesets holding this content at this path, in compose order. */
  readonly imagesets: readonly string[];
  /** The fields that differ between them. */
  readonly differs: readonly NearMissField[];
  /** Content bytes stored more than once because of the difference. */
  readonly bytes: number;
  /** The declared shared image it would have joined if its metadata were equal, if any. */
  readonly would_join: string | null;
}

/** Near misses of one cause between the same imagesets. */
interface NearMissGroup {
  readonly arch: string;
  readonly imagesets: readonly string[];
  readonly differs: readonly NearMissField[];
  readonly paths: number;
  readonly bytes: number;
  /** The largest few. */
  readonly examples: readonly string[];
  readonly would_join: readonly string[];
}

export interface NearMisses {
  /** Every near miss, largest first. */
  readonly near_misses: readonly NearMiss[];
  /** Grouped by arch, imagesets and fields, largest first. */
  readonly groups: readonly NearMissGroup[];
  readonly bytes: number;
}

const EXAMPLES = 3;

/**
 * The files to digest so that near misses can be told from different content: for each scan,
 * regular files whose path and size appear in another root of the same arch with other metadata.
 * (Files whose metadata matches are digested for sharing anyway.)
 */
export function nearMissCandidates(scans: ReadonlyArray<{ arch: string; entries: readonly Entry[] }>): Set<BytePath>[] {
  const bySize = new Map<string, Set<string>>();
  const keyOf = (arch: string, e: Entry): string => `${arch}\u0000${e.path}\u0000${e.size}`;
  for (const scan of scans) {
    for (const e of scan.entries) {
      if (e.type !== 'file' || e.size === 0) continue;
      const key = keyOf(scan.arch, e);
      const signatures = bySize.get(key) ?? new Set<string>();
      bySize.set(key, signatures);
      signatures.add(metadataSignature(e));
    }
  }
  return scans.map((scan) => {
    const paths = new Set<BytePath>();
    for (const e of scan.entries) {
      if (e.type === 'file' && e.size > 0 && (bySize.get(keyOf(scan.arch, e))?.size ?? 0) > 1) paths.add(e.path);
    }
    return paths;
  });
}

/**
 * Finds the near misses of a plan's scans. A path is one when at least two imagesets of an arch
 * hold the same content there (same digest for files, same device numbers for devices) but not
 * all of them hold it identically; it costs its content once per extra variant.
 */
export function findNearMisses(spec: ComposeSpec, scans: readonly ImagesetScan[]): NearMisses {
  const found: NearMiss[] = [];
  const archs = [...new Set(scans.map((s) => s.imageset.arch))];
  for (const arch of archs) {
    const arched = scans.filter((s) => s.imageset.arch === arch);
    const units = arched.map((s, i) => unitsOf(s.entries, s.digests, `${arch}/${i}`));
    const paths = new Map<BytePath, Array<{ scan: ImagesetScan; unit: Unit }>>();
    arched.forEach((scan, i) => {
      for (const unit of units[i]!.values()) {
        const first = unit.entries[0]!;
        if (first.type === 'dir' || spec.metadata.some((m) => isAtOrBelow(unit.key, m))) continue;
        const holders = paths.get(unit.key);
        if (holders) holders.push({ scan, unit });
        else paths.set(unit.key, [{ scan, unit }]);
      }
    });
    for (const [key, holders] of paths) {
      if (holders.length < 2) continue;
      const byContent = new Map<string, Array<{ scan: ImagesetScan; unit: Unit }>>();
      for (const holder of holders) {
        const content = contentOf(holder.unit.entries[0]!, holder.scan);
        if (content === undefined) continue;
        const same = byContent.get(content);
        if (same) same.push(holder);
        else byContent.set(content, [holder]);
      }
      for (const same of byContent.values()) {
        const variants = new Set(same.map((h) => h.unit.signature)).size;
        if (same.length < 2 || variants < 2) continue;
        const names = same.map((h) => h.scan.imageset.name);
        found.push({
          arch,
          path: printable(key),
          imagesets: names,
          differs: differingFields(same.map((h) => h.unit)),
          bytes: same[0]!.unit.entries[0]!.size * (variants - 1),
          would_join: declaredImageFor(spec, arch, arched, names),
        });
      }
    }
  }
  found.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || (a.arch < b.arch ? -1 : 1));
  return { near_misses: found, groups: groupNearMisses(found), bytes: found.reduce((n, m) => n + m.bytes, 0) };
}

/** What must be equal for content to count as the same; undefined for a file not digested. */
function contentOf(e: Entry, scan: ImagesetScan): string | undefined {
  switch (e.type) {
    case 'file': {
      const digest = scan.digests.get(e.path);
      return digest === undefined ? undefined : `f:${e.size}:${digest}`;
    }
    // A symlink's content is its target: another target is another symlink, not a near miss.
    // Devices count by their numbers, so a char and a block device of the same numbers differ
    // only in type.
    case 'symlink': return `l:${e.target ?? ''}`;
    case 'char':
    case 'block': return `dev:${e.devmajor}:${e.devminor}`;
    case 'fifo': return 'p';
    case 'dir': return undefined;
  }
}

function differingFields(units: readonly Unit[]): NearMissField[] {
  const valueOf: Record<NearMissField, (u: Unit) => string> = {
    type: (u) => u.entries[0]!.type,
    mode: (u) => String(u.entries[0]!.mode),
    owner: (u) => `${u.entries[0]!.uid}:${u.entries[0]!.gid}`,
    mtime: (u) => String(u.entries[0]!.mtime),
    hardlinks: (u) => u.entries.map((e) => e.path).join('\u0000'),
  };
  return FIELDS.filter((field) => new Set(units.map(valueOf[field])).size > 1);
}

/**
 * The declared shared image the planner would have put the path in had every holder the same
 * metadata: for the first holder, the first declared image that lists it and whose imagesets
 * (of this arch) all hold the path.
 */
function declaredImageFor(spec: ComposeSpec, arch: string, scans: readonly ImagesetScan[], holders: readonly string[]): string | null {
  for (const image of spec.images) {
    const users = image.sharedBy === 'all' ? scans.map((s) => s.imageset.name) : scans.map((s) => s.imageset.name).filter((n) => (image.sharedBy as readonly string[]).includes(n));
    if (users.includes(holders[0]!) && users.every((u) => holders.includes(u))) return `${image.name}-${arch}`;
  }
  return null;
}

function groupNearMisses(misses: readonly NearMiss[]): NearMissGroup[] {
  const groups = new Map<string, { arch: string; imagesets: readonly string[]; differs: readonly NearMissField[]; paths: number; bytes: number; examples: string[]; join: Set<string> }>();
  for (const miss of misses) {
    const id = [miss.arch, miss.imagesets.join(','), miss.differs.join(',')].join('\u0000');
    let group = groups.get(id);
    if (!group) {
      group = { arch: miss.arch, imagesets: miss.imagesets, differs: miss.differs, paths: 0, bytes: 0, examples: [], join: new Set() };
      groups.set(id, group);
    }
    group.paths++;
    group.bytes += miss.bytes;
    // Misses come largest first, so the first few are the largest.
    if (group.examples.length < EXAMPLES) group.examples.push(miss.path);
    if (miss.would_join) group.join.add(miss.would_join);
  }
  return [...groups.values()]
    .map(({ join, ...g }) => ({ ...g, would_join: [...join].sort() }))
    .sort((a, b) => b.bytes - a.bytes || b.paths - a.paths);
}
