/**
 * The image cache's key: an image's compressed bytes are a pure function of its tar stream, the
 * format, the level and the encoder. The tar stream is fully described by its members in order:
 * each one's header (the exact bytes the writer emits, pax records included) and, for regular
 * files, the sha256 of the content. The end padding follows from those. Nothing else goes in:
 * not the root's path, not the image's name, not a time.
 */
import { createHash } from 'node:crypto';
import { encodeHeader } from '../model/tar-header.js';
import { headerOf } from '../model/member-header.js';
import type { Member } from '../model/member.js';

/** Changes whenever the writer's output for the same members could change. */
const KEY_SCHEME = 'mediacompose image cache 1';

export interface EncoderDescription {
  /** Format name: xz, lzma, gzip, bzip2. */
  readonly format: string;
  readonly level: number;
  /** The encoder's name and version, e.g. "lzma-native 8.0.6 (liblzma 5.2.3)". */
  readonly encoder: string;
}

/**
 * The key of the image these members make, as 64 hex digits. Every member with content must
 * carry its `digest`; a missing one is a programming error.
 */
export function imageKey(members: readonly Member[], encoding: EncoderDescription): string {
  const hash = createHash('sha256');
  hash.update(`${KEY_SCHEME}\0${encoding.format}\0${encoding.level}\0${encoding.encoder}\0`);
  for (const member of members) {
    const header = headerOf(member);
    hash.update(encodeHeader(header));
    if (header.type === 'file' && header.size > 0) {
      if (member.digest === undefined) throw new Error(`no content digest for ${member.root}:${member.entry.path}`);
      hash.update(member.digest);
    }
  }
  return hash.digest('hex');
}
