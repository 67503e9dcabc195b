/**
 * Durability of the swap (case 9 of the hostile-media review), observed with strace: every staged
 * archive and XML file and the staged folder are flushed (fsync) before the rename that swaps
 * images/ in, and the medium folder after it, so that a power loss right after a successful
 * build cannot leave empty or short files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, fingerprint } from '../support/build.js';
import { describeIf, unmet } from '../support/needs.js';
import { type Work, smallMedium } from './hostile.js';

let work: Work;
beforeAll(() => {
  work = smallMedium('mc-durability-');
}, 60_000);
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));


describeIf(unmet({ programs: ['strace'] }), 'case 9: fsync before and after the swap', () => {
  it('flushes each staged file and folder before the swap, the medium folder after it', () => {
    const log = path.join(work.dir, 'strace.log');
    const r = spawnSync('strace', ['-f', '-y', '-qq', '-o', log, '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', process.execPath, BIN, 'build', work.compose, '--quiet'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    const swap = lines.findIndex((l) => /rename(at2?)?\(.*\.mediacompose-staging-\d+\/images", .*\/out\/images"/.test(l));
    expect(swap).toBeGreaterThan(0);
    const synced = (from: number, to: number): string[] =>
      lines.slice(from, to).flatMap((l) => /fsync\(\d+<([^>]+)>\) = 0/.exec(l)?.[1] ?? []);
    const before = synced(0, swap);
    const files = Object.keys(fingerprint(path.join(work.medium, 'images')));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect(before.some((p) => p.endsWith(`/images/${file}`) && p.includes('.mediacompose-staging-'))).toBe(true);
    expect(before.some((p) => /\.mediacompose-staging-\d+\/images$/.test(p))).toBe(true);
    expect(synced(swap, lines.length)).toContain(work.medium);
  }, 60_000);
});
