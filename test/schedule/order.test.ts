import { describe, expect, it } from 'vitest';
import { compressionOrder } from '../../src/schedule/order.js';
import { assignShards } from '../../src/schedule/shard.js';
import { ThreadBudget } from '../../src/schedule/threads.js';

const jobs = [
  { stem: 'b-x86_64', tarBytes: 10 },
  { stem: 'a-x86_64', tarBytes: 10 },
  { stem: 'big-x86_64', tarBytes: 900 },
  { stem: 'mid-x86_64', tarBytes: 300 },
  { stem: 'meta-x86_64', tarBytes: 1 },
];

describe('the order images are produced in', () => {
  it('is largest first, equal sizes in byte order of their stems, whatever order the plan gives', () => {
    const expected = ['big-x86_64', 'mid-x86_64', 'a-x86_64', 'b-x86_64', 'meta-x86_64'];
    expect(compressionOrder(jobs).map((j) => j.stem)).toEqual(expected);
    expect(compressionOrder([...jobs].reverse()).map((j) => j.stem)).toEqual(expected);
  });

  it("is one shard's images only, in the same order, and the shards together are every image once", () => {
    const shardOf = assignShards(jobs.map((j) => ({ name: j.stem, bytes: j.tarBytes })), 2);
    const one = compressionOrder(jobs, { index: 1, count: 2 }).map((j) => j.stem);
    const two = compressionOrder(jobs, { index: 2, count: 2 }).map((j) => j.stem);
    expect(one.every((s) => shardOf.get(s) === 1)).toBe(true);
    expect(two.every((s) => shardOf.get(s) === 2)).toBe(true);
    expect([...one, ...two].sort()).toEqual(jobs.map((j) => j.stem).sort());
    expect(one).toEqual(compressionOrder(jobs).map((j) => j.stem).filter((s) => one.includes(s)));
  });
});

describe('threads asked for in turn', () => {
  it('are granted in turn order, whatever order the requests arrive in, and a passed turn lets the next ask', async () => {
    const budget = new ThreadBudget(2);
    const granted: string[] = [];
    const ask = (turn: number, want: number, name: string): Promise<number> =>
      budget.acquireInTurn(turn, want).then((n) => {
        granted.push(`${name}:${n}`);
        return n;
      });
    // Turn 2 and turn 1 arrive before turn 0; turn 3 is a cache hit and passes.
    const late = ask(2, 1, 'small');
    const mid = ask(1, 2, 'mid');
    budget.pass(3);
    const first = await ask(0, 2, 'large');
    expect(first).toBe(2);
    expect(granted).toEqual(['large:2']);
    budget.release(first);
    const m = await mid;
    expect(m).toBe(2);
    budget.release(m);
    expect(await late).toBe(1);
    expect(granted).toEqual(['large:2', 'mid:2', 'small:1']);
    expect(budget.peak).toBe(2);
    // Turns passed before their predecessors do not block later ones.
    expect(await budget.acquireInTurn(4, 1)).toBe(1);
  });
});
