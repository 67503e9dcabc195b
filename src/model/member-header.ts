/**
 * A planned member's tar header, and the exact length of an image's tar stream computed from the
 * headers alone. Pure: no I/O, so the plan report can size images without reading a file.
 */
import type { Member } from './member.js';
import { BLOCK, RECORD, type MemberHeader, headerLength, paddingAfter } from './tar-header.js';

/** A member's header. One object shape for every type: this runs once per member. */
export function headerOf(member: Member): MemberHeader {
  const e = member.entry;
  const isLink = member.linkTo !== undefined;
  return {
    path: e.path,
    type: isLink ? 'link' : e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime,
    size: !isLink && e.type === 'file' ? e.size : 0,
    devmajor: e.devmajor,
    devminor: e.devminor,
    linkname: isLink ? member.linkTo : e.type === 'symlink' ? (e.target ?? '') : undefined,
  };
}

/** The exact length of the tar stream `tarChunks` writes for these members, without reading them. */
export function tarSize(members: readonly Member[]): number {
  let bytes = 0;
  for (const member of members) {
    const header = headerOf(member);
    bytes += headerLength(header) + header.size + paddingAfter(header.size);
  }
  bytes += 2 * BLOCK;
  return bytes + ((RECORD - (bytes % RECORD)) % RECORD);
}
