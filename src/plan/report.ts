/**
 * What a plan means for a person: per image, who uses it and how big it is; per imageset, its
 * images in extraction order; what is stored more than once and why; the medium's total
 * against one archive per root. The same document backs `plan`, `plan --json` and build's
 * summary.
 */
import { tarSize } from '../archive/member-header.js';
import type { BytePath } from '../model/entry.js';
import type { Member } from '../model/member.js';
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
  const onePerRoot = scans.reduce((n, scan) => n + tarSize(wholeRoot(scan)), 0);
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

/** A root as one archive: every entry, hardlinks to the first path of their group. */
function wholeRoot(scan: ImagesetScan): Member[] {
  const first = new Map<string, BytePath>();
  return scan.entries.map((entry) => {
    const root = scan.imageset.root;
    if (entry.inode === undefined) return { entry, root };
    const target = first.get(entry.inode);
    if (target === undefined) {
      first.set(entry.inode, entry.path);
      return { entry, root };
    }
    return { entry, root, linkTo: target };
  });
}

/** The report as text: tables for images and imagesets, then duplicates and the saving. */
export function formatPlanReport(report: PlanReport): string {
  const lines: string[] = [];
  lines.push(
    ...table(
      ['image', 'members', 'tar MB', 'used by'],
      report.images.map((i) => [i.file, String(i.members), mb(i.bytes), i.imagesets.join(', ')]),
      [1, 2],
    ),
    '',
    ...table(
      ['imageset', 'arch', 'patterns', 'images in extraction order'],
      report.imagesets.map((s) => [s.name, s.arch, s.patterns, s.images.join(' ')]),
      [],
    ),
    '',
  );
  if (report.duplicates.length === 0) lines.push('stored more than once: nothing');
  else {
    lines.push(`stored more than once: ${mb(report.totals.storedTwice)} MB`);
    for (const d of report.duplicates) {
      lines.push(`  ${mb(d.extraBytes)} MB extra: ${d.members} members held by ${d.imagesets.join(', ')} (${d.arch}): ${d.reason}`);
    }
  }
  const { medium, onePerRoot } = report.totals;
  const saving = onePerRoot > 0 ? (100 * (1 - medium / onePerRoot)).toFixed(1) : '0.0';
  lines.push(`medium: ${mb(medium)} MB uncompressed; one archive per root: ${mb(onePerRoot)} MB; saving ${saving}%`);
  return `${lines.join('\n')}\n`;
}

function table(header: string[], rows: string[][], rightAligned: number[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (rightAligned.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
