/**
 * The layering plan: which entry of which root goes into which image. Pure: compose spec and
 * scans in, images and their members out; no I/O.
 *
 * For every arch:
 * - an imageset's metadata paths (and every hardlink group touching them) go to its metadata
 *   image, with every directory of the imageset, so that extracting that image last leaves each
 *   directory with the root's exact mode, owner and mtime;
 * - any other unit goes to the first declared shared image whose imagesets all hold it
 *   identically;
 * - what is left is grouped by the set of imagesets holding it identically: with automatic
 *   layering, groups large enough get shared images of their own; the rest goes to each
 *   imageset's own image;
 * - every image carries the parent directories its members need.
 */
import type { ComposeSpec, ImagesetSpec, SharedImageSpec } from '../config/spec.js';
import { type BytePath, type Entry, comparePaths, isAtOrBelow, parentsOf } from '../model/entry.js';
import type { Member } from '../model/member.js';
import { imageStem, metaStem, uniqueStem } from '../model/names.js';
import { type Digests, type Unit, metadataSignature, unitsOf } from './units.js';

export interface ImagesetScan {
  readonly imageset: ImagesetSpec;
  /** Root entries in archive order. */
  readonly entries: readonly Entry[];
  /** Content digests of the files compared with other roots. */
  readonly digests: Digests;
}

type ImageKind = 'shared' | 'own' | 'meta';

export interface PlannedImage {
  /** File name without the ".tar.<ext>" suffix, e.g. "common-base-x86_64". */
  readonly stem: string;
  readonly kind: ImageKind;
  readonly arch: string;
  /** For shared images: the label in "<title> [<label>]". */
  readonly label: string;
  /** Names of the imagesets that list it, in compose order. */
  readonly imagesets: readonly string[];
  /** Members in archive order. */
  readonly members: readonly Member[];
}

interface PlannedImageset {
  readonly spec: ImagesetSpec;
  /** Stems of its images in extraction order: shared ones, its own, its metadata image. */
  readonly images: readonly string[];
  readonly pkgImage: string;
}

export interface MediumPlan {
  readonly archs: readonly string[];
  readonly images: readonly PlannedImage[];
  readonly imagesets: readonly PlannedImageset[];
  /** Content stored more than once, and why. */
  readonly duplicates: readonly Duplicate[];
}

/**
 * The files that need a content digest: those whose path and metadata match the same path in
 * another root of the same arch. Returns, for each scan, the paths to digest.
 */
export function filesToCompare(scans: ReadonlyArray<{ arch: string; entries: readonly Entry[] }>): Set<BytePath>[] {
  const seen = new Map<string, number>();
  const keyOf = (arch: string, e: Entry): string => `${arch}\u0000${e.path}\u0000${metadataSignature(e)}`;
  for (const scan of scans) {
    for (const e of scan.entries) {
      if (e.type !== 'file') continue;
      const key = keyOf(scan.arch, e);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return scans.map((scan) => {
    const paths = new Set<BytePath>();
    for (const e of scan.entries) {
      if (e.type === 'file' && (seen.get(keyOf(scan.arch, e)) ?? 0) > 1) paths.add(e.path);
    }
    return paths;
  });
}

export function planMedium(spec: ComposeSpec, scans: readonly ImagesetScan[]): MediumPlan {
  const archs = [...new Set(spec.imagesets.map((s) => s.arch))];
  const images: PlannedImage[] = [];
  const imagesets: PlannedImageset[] = [];
  const duplicates: Duplicate[] = [];
  for (const arch of archs) {
    const arched = scans.filter((s) => s.imageset.arch === arch);
    const result = planArch(spec, arch, arched);
    images.push(...result.images);
    imagesets.push(...result.imagesets);
    duplicates.push(...result.duplicates);
  }
  // Imagesets keep their compose order across archs.
  const order = new Map(spec.imagesets.map((s, i) => [s, i]));
  imagesets.sort((a, b) => order.get(a.spec)! - order.get(b.spec)!);
  return { archs, images, imagesets, duplicates };
}

interface ImageBuilder {
  readonly stem: string;
  readonly kind: ImageKind;
  readonly label: string;
  readonly users: readonly ImagesetScan[];
  readonly members: Map<BytePath, Member>;
}

/** A unit that no declared image took, with every imageset that also has it left over. */
interface Leftover {
  readonly unit: Unit;
  readonly holders: ImagesetScan[];
}

function planArch(spec: ComposeSpec, arch: string, scans: readonly ImagesetScan[]) {
  const units = new Map<ImagesetScan, Map<BytePath, Unit>>(
    scans.map((s, i) => [s, unitsOf(s.entries, s.digests, `${arch}/${i}`)]),
  );
  const declared = spec.images
    .map((image) => sharedBuilder(image, arch, scans))
    .filter((b): b is ImageBuilder => b !== undefined);
  const own = new Map(scans.map((s) => [s, builder(imageStem(s.imageset.name, arch), 'own', '', [s])]));
  const meta = new Map(scans.map((s) => [s, builder(metaStem(s.imageset.name, arch), 'meta', 'meta', [s])]));

  // Metadata and declared images first; what is left is grouped by the imagesets holding it.
  // Leftovers are found by path, then by signature (no composite string key per unit: at a
  // million entries those strings would cost more than the units themselves).
  const leftovers = new Map<BytePath, Leftover[]>();
  for (const scan of scans) {
    for (const unit of units.get(scan)!.values()) {
      if (unit.entries.some((e) => isMetadata(e.path, spec.metadata))) {
        addUnit(meta.get(scan)!, unit, scan);
        continue;
      }
      const target = declared.find(
        (image) => image.users.includes(scan) && image.users.every((u) => units.get(u)!.get(unit.key)?.signature === unit.signature),
      );
      // A shared unit is read from the image's first imageset: all of them hold it identically.
      if (target) {
        addUnit(target, unit, target.users[0]!);
        continue;
      }
      const atPath = leftovers.get(unit.key);
      const leftover = atPath?.find((l) => l.unit.signature === unit.signature);
      if (leftover) leftover.holders.push(scan);
      else if (atPath) atPath.push({ unit, holders: [scan] });
      else leftovers.set(unit.key, [{ unit, holders: [scan] }]);
    }
    for (const e of scan.entries) {
      if (e.type === 'dir') meta.get(scan)!.members.set(e.path, { entry: e, root: scan.imageset.root });
    }
  }

  const { auto, duplicates } = layLeftovers(spec, arch, [...leftovers.values()].flat(), own, [...declared.map((d) => d.stem), ...[...own.values(), ...meta.values()].map((b) => b.stem)]);

  const dirs = new Map(scans.map((s) => [s, new Map(s.entries.filter((e) => e.type === 'dir').map((e) => [e.path, e]))]));
  const shared = [...declared, ...auto];
  const all = [...shared, ...own.values(), ...meta.values()];
  for (const image of all) addParents(image, dirs);

  const finished = new Map(all.map((b) => [b, finish(b, arch)]));
  const images = [...finished.values()].filter((image) => image.kind === 'meta' || image.members.length > 0);
  const kept = new Set(images);
  const imagesets: PlannedImageset[] = scans.map((scan) => {
    const chain = [...shared.filter((b) => b.users.includes(scan)), own.get(scan)!, meta.get(scan)!]
      .map((b) => finished.get(b)!)
      .filter((image) => kept.has(image));
    return { spec: scan.imageset, images: chain.map((i) => i.stem), pkgImage: meta.get(scan)!.stem };
  });
  return { images, imagesets, duplicates };
}

/**
 * Places the units no declared image took. Units held identically by the same set of two or
 * more imagesets form a group; with automatic layering, a group whose content reaches the
 * minimum size becomes a shared image. Every other unit goes to each holder's own image, and
 * what that stores more than once is reported.
 *
 * Extraction order cannot matter between these images: each path of an imageset belongs to
 * exactly one of its units, and each unit to exactly one group.
 */
function layLeftovers(
  spec: ComposeSpec,
  arch: string,
  leftovers: readonly Leftover[],
  own: ReadonlyMap<ImagesetScan, ImageBuilder>,
  takenStems: readonly string[],
): { auto: ImageBuilder[]; duplicates: Duplicate[] } {
  const groups = new Map<string, { holders: ImagesetScan[]; units: Unit[]; bytes: number }>();
  for (const { unit, holders } of leftovers) {
    if (holders.length < 2) {
      addUnit(own.get(holders[0]!)!, unit, holders[0]!);
      continue;
    }
    const id = holders.map((h) => h.imageset.name).join('\u0000');
    const group = groups.get(id) ?? { holders, units: [], bytes: 0 };
    groups.set(id, group);
    group.units.push(unit);
    group.bytes += unit.entries[0]!.size;
  }

  const auto: ImageBuilder[] = [];
  const duplicates: Duplicate[] = [];
  const taken = new Set(takenStems);
  // Most widely shared first (a base before the layers above it), then by name.
  const ordered = [...groups.values()].sort((a, b) => b.holders.length - a.holders.length || compareNames(a.holders, b.holders));
  for (const group of ordered) {
    const names = group.holders.map((h) => h.imageset.name);
    if (spec.layering.auto && group.bytes >= spec.layering.minSize) {
      const image = builder(uniqueStem(`shared-${names.join('-')}`, arch, taken), 'shared', names.join('+'), group.holders);
      for (const unit of group.units) addUnit(image, unit, group.holders[0]!);
      auto.push(image);
      continue;
    }
    for (const holder of group.holders) for (const unit of group.units) addUnit(own.get(holder)!, unit, holder);
    const reason = !spec.layering.auto
      ? `no shared image is declared for exactly ${names.join(', ')}`
      : `below layering.min_size (${group.bytes} < ${spec.layering.minSize} bytes)`;
    duplicates.push({ arch, imagesets: names, members: group.units.reduce((n, u) => n + u.entries.length, 0), bytes: group.bytes, extraBytes: group.bytes * (names.length - 1), reason });
  }
  return { auto, duplicates };
}

/** Content held identically by several imagesets that each of their own images stores. */
export interface Duplicate {
  readonly arch: string;
  readonly imagesets: readonly string[];
  readonly members: number;
  /** Content bytes of the group, stored once per imageset. */
  readonly bytes: number;
  /** Bytes stored beyond the first copy. */
  readonly extraBytes: number;
  readonly reason: string;
}

function compareNames(a: readonly ImagesetScan[], b: readonly ImagesetScan[]): number {
  const x = a.map((s) => s.imageset.name).join(',');
  const y = b.map((s) => s.imageset.name).join(',');
  return x < y ? -1 : x > y ? 1 : 0;
}

function sharedBuilder(image: SharedImageSpec, arch: string, scans: readonly ImagesetScan[]): ImageBuilder | undefined {
  const users = image.sharedBy === 'all' ? scans : scans.filter((s) => (image.sharedBy as readonly string[]).includes(s.imageset.name));
  if (users.length === 0) return undefined;
  return builder(imageStem(image.name, arch), 'shared', image.label, users);
}

function builder(stem: string, kind: ImageKind, label: string, users: readonly ImagesetScan[]): ImageBuilder {
  return { stem, kind, label, users, members: new Map() };
}

function isMetadata(path: BytePath, metadata: readonly string[]): boolean {
  return metadata.some((prefix) => isAtOrBelow(path, prefix));
}

/** Adds a unit; a hardlink group's later paths become links to its first. */
function addUnit(image: ImageBuilder, unit: Unit, from: ImagesetScan): void {
  const root = from.imageset.root;
  unit.entries.forEach((entry, i) => {
    if (i > 0) {
      image.members.set(entry.path, { entry, root, linkTo: unit.key });
      return;
    }
    const digest = entry.type === 'file' ? from.digests.get(entry.path) : undefined;
    image.members.set(entry.path, digest === undefined ? { entry, root } : { entry, root, digest });
  });
}

/** Adds the parent directories an image's members need, with the metadata of a root that has them. */
function addParents(image: ImageBuilder, dirs: Map<ImagesetScan, Map<BytePath, Entry>>): void {
  const source = image.users[0]!;
  const sourceDirs = dirs.get(source)!;
  for (const path of [...image.members.keys()]) {
    for (const parent of parentsOf(path)) {
      if (image.members.has(parent)) continue;
      const entry = sourceDirs.get(parent);
      if (!entry) throw new Error(`internal: ${parent} is not a directory of ${source.imageset.root}`);
      image.members.set(parent, { entry, root: source.imageset.root });
    }
  }
}

function finish(b: ImageBuilder, arch: string): PlannedImage {
  const members = [...b.members.values()].sort((x, y) => comparePaths(x.entry.path, y.entry.path));
  return {
    stem: b.stem,
    kind: b.kind,
    arch,
    label: b.label,
    imagesets: b.users.map((u) => u.imageset.name),
    members,
  };
}
