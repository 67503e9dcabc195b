/**
 * Replay: an imageset's archives applied, in images.xml order, as GNU tar extracts them, into an
 * in-memory tree of what each path would hold on the installed system.
 */
import { type BytePath, type EntryType, isAtOrBelow, parentsOf, printable } from '../model/entry.js';
import type { ListedMember, Listing } from './archives.js';

/** What one path of the deployed tree holds. Hardlinked paths share one node, as an inode. */
export interface DeployedNode {
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds; undefined when tar leaves the time of extraction (see touchParent). */
  mtime: number | undefined;
  size: number;
  digest?: string;
  target?: BytePath;
  devmajor: number;
  devminor: number;
  /** The archive that wrote it last. */
  from: string;
  /** Created by tar as a missing parent directory, with no member of its own. */
  implicit?: boolean;
}

/**
 * The tree that extracting archives in order leaves, following GNU tar 1.34 as the installer runs
 * it (as root, default options): an existing non-directory is unlinked and replaced (hardlinks
 * to it keep the old inode); an existing directory keeps existing and takes the member's
 * metadata; a directory's metadata is applied when tar leaves its subtree, so only entries added
 * to it afterwards (a later archive without a member for it) leave it with the time of
 * extraction; missing parents are created implicitly.
 */
export class DeployedTree {
  readonly nodes = new Map<BytePath, DeployedNode>();

  constructor(private readonly report: (path: BytePath, what: string) => void) {}

  extract(listing: Listing): void {
    // Directories of this archive whose metadata tar applies once it leaves their subtree.
    const pending: BytePath[] = [];
    for (const member of listing.members) {
      const path = member.path;
      if (path === undefined) continue;
      while (pending.length > 0 && !isInside(path, pending[pending.length - 1]!)) pending.pop();
      if (!this.makeParents(path, listing.file, pending)) continue;
      this.apply(member, path, listing.file, pending);
    }
  }

  private apply(member: ListedMember, path: BytePath, from: string, pending: BytePath[]): void {
    const h = member.header;
    const common = { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, size: 0, devmajor: 0, devminor: 0, from };
    switch (h.type) {
      case 'dir':
        return this.extractDirectory(path, { ...common, type: 'dir' }, pending);
      case 'link':
        return this.extractHardlink(path, member.linkTarget!, pending);
      case 'file':
        return this.replace(path, { ...common, type: 'file', size: h.size, digest: member.digest }, pending);
      case 'symlink':
        // A symlink's permission bits are always 0777 on Linux, whatever the header says.
        return this.replace(path, { ...common, type: 'symlink', mode: 0o777, target: h.linkname }, pending);
      case 'char':
      case 'block':
        return this.replace(path, { ...common, type: h.type, devmajor: h.devmajor, devminor: h.devminor }, pending);
      case 'fifo':
        return this.replace(path, { ...common, type: 'fifo' }, pending);
      case 'other':
        return; // reported with the archive
    }
  }

  /** Creates missing parents as tar does; false (reported) when a parent is not a directory. */
  private makeParents(path: BytePath, from: string, pending: readonly BytePath[]): boolean {
    for (const parent of parentsOf(path)) {
      const node = this.nodes.get(parent);
      if (node === undefined) {
        this.nodes.set(parent, { type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: undefined, size: 0, devmajor: 0, devminor: 0, from, implicit: true });
        this.touchParent(parent, from, pending);
      } else if (node.type === 'symlink') {
        this.report(path, `not extracted from ${from}: its parent ${printable(parent)} is a symlink, which tar would follow out of place`);
        return false;
      } else if (node.type !== 'dir') {
        this.report(path, `not extracted from ${from}: its parent ${printable(parent)} is a ${TYPE_NAMES[node.type]} (tar fails, the installer aborts)`);
        return false;
      }
    }
    return true;
  }

  private extractDirectory(path: BytePath, node: DeployedNode, pending: BytePath[]): void {
    const existing = this.nodes.get(path);
    if (existing?.type === 'symlink') {
      this.report(path, `directory member in ${node.from} meets a symlink: tar keeps the symlink and follows it`);
      return;
    }
    if (existing?.type === 'dir') Object.assign(existing, node, { implicit: false });
    else this.replace(path, node, pending);
    pending.push(path);
  }

  private extractHardlink(path: BytePath, target: BytePath, pending: BytePath[]): void {
    const node = this.nodes.get(target);
    if (node === undefined || node.type === 'dir') {
      this.report(path, `hard link to ${printable(target)}, which is ${node ? 'a directory' : 'not there'} when it is extracted (tar fails, the installer aborts)`);
      return;
    }
    if (path !== target) this.replace(path, node, pending);
  }

  /** Puts a node at a path, unlinking what was there; a non-empty directory cannot be unlinked. */
  private replace(path: BytePath, node: DeployedNode, pending: readonly BytePath[]): void {
    if (this.nodes.get(path)?.type === 'dir' && node.type !== 'dir' && this.hasChildren(path)) {
      this.report(path, `a ${TYPE_NAMES[node.type]} from ${node.from} replaces a directory that is not empty (tar fails, the installer aborts)`);
      return;
    }
    this.nodes.set(path, node);
    this.touchParent(path, node.from, pending);
  }

  /**
   * Creating or unlinking an entry sets its directory's mtime to now. tar puts it back only for
   * directories of the current archive whose subtree it has not left yet.
   */
  private touchParent(path: BytePath, from: string, pending: readonly BytePath[]): void {
    const slash = path.lastIndexOf('/');
    if (slash === -1) return;
    const parent = path.slice(0, slash);
    if (pending.includes(parent)) return;
    const node = this.nodes.get(parent);
    if (node) Object.assign(node, { mtime: undefined, from });
  }

  /** Only when a directory is about to be replaced: rare, so a scan is fine. */
  private hasChildren(dir: BytePath): boolean {
    for (const path of this.nodes.keys()) if (isInside(path, dir)) return true;
    return false;
  }
}

function isInside(path: BytePath, dir: BytePath): boolean {
  return path !== dir && isAtOrBelow(path, dir);
}

/** Entry types as problems name them. */
export const TYPE_NAMES: Readonly<Record<EntryType, string>> = {
  file: 'file',
  dir: 'directory',
  symlink: 'symlink',
  char: 'character device',
  block: 'block device',
  fifo: 'fifo',
};
