/**
 * Which images a build takes on, and in which order: pure, so that the order is tested on its own
 * and every machine of a sharded build agrees on it.
 */
import type { Member } from '../model/member.js';
import { type ShardSpec, assignShards } from './shard.js';

/** One image as the plan hands it to production: its members, file name and exact tar bytes. */
export interface ImageJob {
  readonly stem: string;
  /** Its file name on the medium (the format's extension after the stem). */
  readonly file: string;
  readonly tarBytes: number;
  readonly members: readonly Member[];
}

/**
 * The images to produce, in the order their threads are asked for: only `shard`'s images when
 * one is given (shard.ts decides), largest first so that the long compressions start early and
 * small ones fill the gaps; equal sizes in byte order of their stems.
 */
export function compressionOrder<T extends Pick<ImageJob, 'stem' | 'tarBytes'>>(jobs: readonly T[], shard?: ShardSpec): T[] {
  let selected = jobs;
  if (shard) {
    const shardOf = assignShards(jobs.map((j) => ({ name: j.stem, bytes: j.tarBytes })), shard.count);
    selected = jobs.filter((j) => shardOf.get(j.stem) === shard.index);
  }
  return [...selected].sort((a, b) => b.tarBytes - a.tarBytes || (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
}
