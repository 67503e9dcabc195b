/**
 * Shards: `build --shard K/N` compresses the images of shard K (1..N) into the image cache. Which
 * image belongs to which shard is a pure function of the images' tar sizes, so N workers that
 * see the same compose file and roots agree without talking to each other: largest first, each
 * to the shard with the fewest bytes so far (the lowest-numbered one on a tie).
 */
import { UsageError } from '../errors.js';

export interface ShardSpec {
  /** 1-based: 1..count. */
  readonly index: number;
  readonly count: number;
}

/** "2/4" -> { index: 2, count: 4 }; a usage error (exit 2) for anything else. */
export function parseShard(text: string): ShardSpec {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new UsageError(undefined, `--shard ${text}: not K/N`, 'write the shard number and the number of shards, e.g. --shard 1/4');
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || !Number.isSafeInteger(count)) throw new UsageError(undefined, `--shard ${text}: N must be at least 1`, 'e.g. --shard 1/4');
  if (index < 1 || index > count) {
    throw new UsageError(undefined, `--shard ${text}: K must be between 1 and ${count}`, 'shards are numbered from 1; with a 0-based index such as JOB_COMPLETION_INDEX pass $((INDEX + 1))');
  }
  return { index, count };
}

/** The shard (1-based) of every image, by name. */
export function assignShards(images: ReadonlyArray<{ readonly name: string; readonly bytes: number }>, count: number): Map<string, number> {
  const order = [...images].sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const shardOf = new Map<string, number>();
  for (const image of order) {
    let least = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[least]!) least = s;
    load[least]! += image.bytes;
    shardOf.set(image.name, least + 1);
  }
  return shardOf;
}
