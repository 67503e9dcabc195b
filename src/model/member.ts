/**
 * A member of an image as the plan decides it and the archive writer takes it: a root entry,
 * where its content is read from, and whether it is a hardlink to an earlier member.
 */
import type { BytePath, Entry } from './entry.js';

export interface Member {
  readonly entry: Entry;
  /** The root to read the entry's content from. */
  readonly root: string;
  /** For the second and later paths of a hardlink group: the path the link points to. */
  readonly linkTo?: BytePath;
  /** The content's sha256 when the scan compared it; the writer checks it has not changed. */
  readonly digest?: string;
}

/** True for the members whose content goes into the archive: regular files, not hardlinks, not empty. */
export function hasContent(member: Member): boolean {
  return member.linkTo === undefined && member.entry.type === 'file' && member.entry.size > 0;
}

/** A whole root as one archive's members: every entry, later paths of a hardlink group linked to its first. */
export function wholeRootMembers(root: string, entries: readonly Entry[]): Member[] {
  const first = new Map<string, BytePath>();
  return entries.map((entry) => {
    if (entry.inode === undefined) return { entry, root };
    const target = first.get(entry.inode);
    if (target === undefined) {
      first.set(entry.inode, entry.path);
      return { entry, root };
    }
    return { entry, root, linkTo: target };
  });
}
