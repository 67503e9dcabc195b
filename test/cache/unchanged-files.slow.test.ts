/**
 * Rebuilds read only what changed: files whose stamp is unchanged since an earlier build are not
 * read again (cache/file-digests.ts), and a change of content that keeps size and mtime is still
 * seen, because it changes the ctime. Measured through `build --json`'s `digests` figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, fingerprint } from '../support/build.js';
import { deploy } from '../support/installer.js';
import { diffTrees, listTree } from '../support/tree.js';
import { buildJson, twoRoots } from './helpers.js';

let work: string;
let composeIn: ReturnType<typeof twoRoots>;
const mediumOf = (compose: string): string => path.join(path.dirname(compose), 'out', 'images');
const compressed = (r: { images: Array<{ file: string; cached: boolean }> }): string[] => r.images.filter((i) => !i.cached).map((i) => i.file).sort();
const digestsOf = (r: object): { bytesRead: number; filesRemembered: number } => (r as { digests: { bytesRead: number; filesRemembered: number } }).digests;
/** Regular files with content in a root, and their bytes. */
function contentOf(root: string): { files: number; bytes: number } {
  const sizes = [...listTree(root).entries.values()].filter((e) => e.type === 'f' && Number(e.size) > 0).map((e) => Number(e.size));
  return { files: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) };
}
/** Waits until the roots' last change is more than 2 s old: builds remember only such files. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2100));

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-unchanged-'));
  composeIn = twoRoots(work, 1 << 20, 256 << 10);
  // A whole second, so that setting it again gives the very same mtime to the nanosecond.
  fs.utimesSync(path.join(work, 'roots', 'b', 'usr', 'share', 'b.bin'), 1_700_000_000, 1_700_000_000);
  await settle();
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('rebuilds read only changed files', () => {
  it('a rebuild of unchanged roots reads no content; a changed file is read alone and its image alone compressed', async () => {
    const cache = path.join(work, 'cache');
    const compose = composeIn('rebuild');
    const a = contentOf(path.join(work, 'roots', 'a'));
    const b = contentOf(path.join(work, 'roots', 'b'));

    const cold = buildJson(compose, '--cache', cache);
    // Every file's content is read once: the shared file in both roots (compared), the rest for the keys.
    expect(digestsOf(cold)).toEqual({ bytesRead: a.bytes + b.bytes, filesRemembered: 0 });

    const warm = buildJson(compose, '--cache', cache);
    expect(digestsOf(warm)).toEqual({ bytesRead: 0, filesRemembered: a.files + b.files });
    expect(compressed(warm)).toEqual([]);
    const before = fingerprint(mediumOf(compose));

    // New content, same size and mtime: only the ctime tells, and it is enough.
    const own = path.join(work, 'roots', 'b', 'usr', 'share', 'b.bin');
    const content = fs.readFileSync(own);
    content[4096] = content[4096]! ^ 0x5a;
    const stat = fs.statSync(own, { bigint: true });
    fs.writeFileSync(own, content);
    fs.utimesSync(own, 1_700_000_000, 1_700_000_000);
    const restored = fs.statSync(own, { bigint: true });
    expect([restored.size, restored.mtimeNs, restored.ino]).toEqual([stat.size, stat.mtimeNs, stat.ino]);
    expect(restored.ctimeNs).not.toEqual(stat.ctimeNs);
    const changed = buildJson(compose, '--cache', cache);
    expect(digestsOf(changed)).toEqual({ bytesRead: content.length, filesRemembered: a.files + b.files - 1 });
    expect(compressed(changed)).toEqual(['b-x86_64.tar.gz']);
    const after = fingerprint(mediumOf(compose));
    expect(after['b-x86_64.tar.gz']).not.toEqual(before['b-x86_64.tar.gz']);
    const reference = composeIn('reference');
    buildOk(reference, '--no-cache');
    expect(after).toEqual(fingerprint(mediumOf(reference)));
    const { target, warnings } = deploy(path.dirname(mediumOf(compose)), 'base,b', work);
    expect(warnings).toEqual([]);
    expect(diffTrees(listTree(path.join(work, 'roots', 'b')), listTree(target))).toEqual([]);

    // Changed less than 2 s before that build started: not remembered by it, so read once more;
    // once settled, remembered.
    expect(digestsOf(buildJson(compose, '--cache', cache))).toEqual({ bytesRead: content.length, filesRemembered: a.files + b.files - 1 });
    await settle();
    buildJson(compose, '--cache', cache);
    expect(digestsOf(buildJson(compose, '--cache', cache))).toEqual({ bytesRead: 0, filesRemembered: a.files + b.files });

    // Without the cache, everything is read.
    expect(digestsOf(buildJson(compose, '--no-cache'))).toMatchObject({ filesRemembered: 0 });
  });
});
