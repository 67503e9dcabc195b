/**
 * The memo of content digests (cache/file-digests.ts) on its own: what it keeps across builds,
 * what it refuses to remember (files changed just before the build), and a damaged memo.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileDigestMemo } from '../../src/cache/file-digests.js';
import type { FileStamp } from '../../src/model/entry.js';

let cache: string;
let warnings: string[];
const open = (): FileDigestMemo => FileDigestMemo.open(cache, (w) => warnings.push(w));
const stamp = (id: string, changedMs: number): FileStamp => ({ id, changedMs });
const digest = (c: string): string => c.repeat(64);
const memoFile = (): string => {
  const folder = path.join(cache, 'file-digests');
  const [file] = fs.readdirSync(folder);
  return path.join(folder, file!);
};

beforeEach(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-memo-'));
  warnings = [];
});
afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

describe('remembered content digests', () => {
  it('a digest remembered by one build is found by the next for the same stamp only', () => {
    const old = Date.now() - 60_000;
    const first = open();
    expect(first.lookup(stamp('2049:12:5:1:2', old))).toBeUndefined();
    first.remember(stamp('2049:12:5:1:2', old), digest('a'));
    first.save();

    const second = open();
    expect(second.lookup(stamp('2049:12:5:1:2', old))).toBe(digest('a'));
    // Another ctime (the file was written since), another inode or size: not the same file state.
    expect(second.lookup(stamp('2049:12:5:1:3', old))).toBeUndefined();
    expect(second.lookup(stamp('2049:13:5:1:2', old))).toBeUndefined();
    expect(second.lookup(stamp('2049:12:6:1:2', old))).toBeUndefined();
    expect(second.reused).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('does not remember a file changed less than 2 seconds before the build started', () => {
    const memo = open();
    const now = Date.now();
    memo.remember(stamp('1:1:1:1:1', now - 1000), digest('b'));
    memo.remember(stamp('1:2:1:1:1', now + 5000), digest('c'));
    memo.remember(stamp('1:3:1:1:1', now - 3000), digest('d'));
    memo.save();
    const next = open();
    expect(next.lookup(stamp('1:1:1:1:1', now - 1000))).toBeUndefined();
    expect(next.lookup(stamp('1:2:1:1:1', now + 5000))).toBeUndefined();
    expect(next.lookup(stamp('1:3:1:1:1', now - 3000))).toBe(digest('d'));
  });

  it('keeps what an earlier build remembered and this one did not use', () => {
    const old = Date.now() - 60_000;
    const first = open();
    first.remember(stamp('1:1:1:1:1', old), digest('e'));
    first.save();
    const second = open();
    second.remember(stamp('1:2:1:1:1', old), digest('f'));
    second.save();
    const third = open();
    expect(third.lookup(stamp('1:1:1:1:1', old))).toBe(digest('e'));
    expect(third.lookup(stamp('1:2:1:1:1', old))).toBe(digest('f'));
  });

  it('ignores a damaged memo with one warning, and a later save replaces it', () => {
    const old = Date.now() - 60_000;
    const first = open();
    first.remember(stamp('1:1:1:1:1', old), digest('a'));
    first.save();
    const file = memoFile();
    // One digit of a digest changed: the line still parses, the checksum does not match.
    fs.writeFileSync(file, fs.readFileSync(file, 'latin1').replace(digest('a'), digest('b')), 'latin1');

    const second = open();
    expect(second.lookup(stamp('1:1:1:1:1', old))).toBeUndefined();
    expect(warnings).toEqual([`${file}: damaged (its checksum does not match): ignored, every file is read again`]);
    second.remember(stamp('1:1:1:1:1', old), digest('c'));
    second.save();
    expect(open().lookup(stamp('1:1:1:1:1', old))).toBe(digest('c'));
    expect(warnings).toHaveLength(1);
  });

  it('a memo that cannot be written costs a warning, not the build', () => {
    fs.writeFileSync(path.join(cache, 'file-digests'), 'a file where the folder goes');
    const memo = open();
    memo.remember(stamp('1:1:1:1:1', Date.now() - 60_000), digest('a'));
    memo.save();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/file-digests\/[^:]+: not written \(.*\): the next build reads every file again$/);
  });
});
