/**
 * Units of sharing. A unit is one entry, or a whole hardlink group (never split across images).
 * Two imagesets hold a unit identically when its signature is equal in both: type, permission
 * bits, owner, mtime, size and content digest, link target, device numbers and, for a hardlink
 * group, the exact set of its paths.
 */
import type { BytePath, Entry } from '../model/entry.js';

export interface Unit {
  /** The unit's first path in archive order; a group is known by it. */
  readonly key: BytePath;
  /** Its entries in archive order (one, or the paths of a hardlink group). */
  readonly entries: readonly Entry[];
  readonly signature: string;
}

/** File content digests, by path, for the files whose content was compared. */
export type Digests = ReadonlyMap<BytePath, string>;

/** The metadata part of a signature: everything but content. */
export function metadataSignature(e: Entry): string {
  const common = `${e.mode}|${e.uid}|${e.gid}|${e.mtime}`;
  switch (e.type) {
    case 'file': return `f|${common}|${e.size}`;
    case 'dir': return `d|${common}`;
    case 'symlink': return `l|${common}|${e.target}`;
    case 'char': return `c|${common}|${e.devmajor}:${e.devminor}`;
    case 'block': return `b|${common}|${e.devmajor}:${e.devminor}`;
    case 'fifo': return `p|${common}`;
  }
}

/**
 * Groups a root's entries into units. `digests` holds the content digests of the files that may
 * be shared; a file without one gets a signature that equals no other root's (`uniqueTag`), so
 * it is never shared by mistake.
 */
export function unitsOf(entries: readonly Entry[], digests: Digests, uniqueTag: string): Map<BytePath, Unit> {
  const units = new Map<BytePath, Unit>();
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.inode === undefined) {
      units.set(e.path, { key: e.path, entries: [e], signature: signature(e, digests, uniqueTag) });
      continue;
    }
    const group = groups.get(e.inode);
    if (group) group.push(e);
    else groups.set(e.inode, [e]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const paths = group.length > 1 ? `|${group.map((e) => e.path).join('\u0000')}` : '';
    units.set(first.path, { key: first.path, entries: group, signature: signature(first, digests, uniqueTag) + paths });
  }
  return units;
}

function signature(e: Entry, digests: Digests, uniqueTag: string): string {
  const meta = metadataSignature(e);
  if (e.type !== 'file') return meta;
  return `${meta}|${digests.get(e.path) ?? `unique:${uniqueTag}`}`;
}
