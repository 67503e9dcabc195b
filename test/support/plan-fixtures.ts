/**
 * Synthetic input for the planner: root entries, imagesets, a compose spec and scans, without a
 * file system. Shared by the plan tests.
 */
import { type ComposeSpec, type ImagesetSpec, type SharedImageSpec } from '../../src/config/spec.js';
import type { Entry } from '../../src/model/entry.js';
import type { ImagesetScan } from '../../src/plan/plan.js';

export const MB = 1 << 20;

export function dirEntry(path: string, extra: Partial<Entry> = {}): Entry {
  return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 100, size: 0, devmajor: 0, devminor: 0, ...extra };
}

export function fileEntry(path: string, size: number, extra: Partial<Entry> = {}): Entry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 100, size, devmajor: 0, devminor: 0, ...extra };
}

export function imagesetSpec(name: string, arch = 'x86_64'): ImagesetSpec {
  return { name, title: name.toUpperCase(), patterns: [name], root: `/roots/${name}`, rootAsWritten: name, arch };
}

export function composeSpec(imagesets: ImagesetSpec[], images: SharedImageSpec[], layering: ComposeSpec['layering']): ComposeSpec {
  return {
    file: '/c/compose.yaml', medium: '/c/out', compression: 'xz', level: 6, imagesets, images,
    imagesDeclared: images.length > 0, metadata: ['var/lib/rpm'], layering, budget: {}, checkAttributes: true,
    repositories: [], prepare: { roots: '/c/roots', rootsAsWritten: 'roots', recommends: true },
  };
}

/** A scan in archive order whose files all get a digest from `content` (default: same content everywhere). */
export function syntheticScan(set: ImagesetSpec, entries: Entry[], content: Record<string, string> = {}): ImagesetScan {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : 1));
  const digests = new Map(sorted.filter((e) => e.type === 'file').map((e) => [e.path, content[e.path] ?? 'same']));
  return { imageset: set, entries: sorted, digests };
}
