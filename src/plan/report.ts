/**
 * What a plan means for a person: per image, who uses it and how big it is; per imageset, its
 * images in extraction order; what is stored more than once and why; the medium's total
 * against one archive per root. The same document backs `plan`, `plan --json` and build's
 * summary.
 */
import { tarSize } from '../model/member-header.js';
import { wholeRootMembers } from '../model/member.js';
import type { Duplicate, ImagesetScan, MediumPlan } from './plan.js';

export interface PlanReport {
  readonly images: ReadonlyArray<{
    readonly file: string;
    readonly kind: 'shared' | 'own' | 'meta';
    readonly arch: string;
    readonly imagesets: readonly string[];
    readonly members: number;
    /** Exact length of the uncompressed tar stream. */
    readonly bytes: number;
  }>;
  readonly imagesets: ReadonlyArray<{ readonly name: string; readonly arch: string; readonly patterns: string; readonly images: readonly string[] }>;
  readonly duplicates: readonly Duplicate[];
  readonly totals: {
    /** Uncompressed bytes of every image of the medium. */
    readonly medium: number;
    /** Uncompressed bytes of one archive per root holding the whole root. */
    readonly onePerRoot: number;
    /** Bytes stored more than once (sum of the duplicates' extra bytes). */
    readonly storedTwice: number;
  };
}

export function reportPlan(plan: MediumPlan, scans: readonly ImagesetScan[], fileOf: (stem: string) => string): PlanReport {
  const images = plan.images.map((image) => ({
    file: fileOf(image.stem),
    kind: image.kind,
    arch: image.arch,
    imagesets: image.imagesets,
    members: image.members.length,
    bytes: tarSize(image.members),
  }));
  const onePerRoot = scans.reduce((n, scan) => n + tarSize(wholeRootMembers(scan.imageset.root, scan.entries)), 0);
  return {
    images,
    imagesets: plan.imagesets.map((s) => ({
      name: s.spec.name,
      arch: s.spec.arch,
      patterns: s.spec.patterns.join(','),
      images: s.images.map(fileOf),
    })),
    duplicates: plan.duplicates,
    totals: {
      medium: images.reduce((n, i) => n + i.bytes, 0),
      onePerRoot,
      storedTwice: plan.duplicates.reduce((n, d) => n + d.extraBytes, 0),
    },
  };
}

