/**
 * Automatic layering on the real roots: each imageset deploys exactly, the medium stores little
 * more than the distinct entries, and `plan --json` says what `build` then writes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIf, unmet } from '../support/needs.js';
import { buildOk, composeYaml, mediacompose, writeCompose } from '../support/build.js';
import { deploy, readDetailsXml } from '../support/installer.js';
import { REAL_ROOT_NAMES, realRoots } from '../support/real-roots.js';
import { type Tree, diffTrees, listTree } from '../support/tree.js';

// Root and the installer's programs first, so that no roots are made for a test that then skips.
const LACKING = unmet({ root: true, programs: ['tar', 'xzdec', 'lzmadec'] });
const REAL = LACKING ? undefined : realRoots();

describeIf(LACKING ?? REAL?.skip, 'automatic layering on real roots (root)', () => {
  let work: string;
  let roots: string;
  let compose: string;
  let built: { images: Array<{ file: string; files: number; size: number }> };
  let trees: Map<string, Tree>;
  beforeAll(() => {
    roots = REAL!.dir!;
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-auto-'));
    compose = writeCompose(
      work,
      composeYaml({
        medium: 'medium',
        compression: 'gzip',
        level: 1,
        imagesets: REAL_ROOT_NAMES.map((n, i) => ({ name: n, patterns: i ? ['base', n] : ['base'], root: `${roots}/${n}` })),
      }),
    );
    built = JSON.parse(buildOk(compose, '--json'));
    trees = new Map(REAL_ROOT_NAMES.map((n) => [n, listTree(path.join(roots, n))]));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it.each(REAL_ROOT_NAMES.map((n, i) => [n, i ? `base,${n}` : 'base']))('%s deploys exactly its root', (name, patterns) => {
    const { target, warnings } = deploy(path.join(work, 'medium'), patterns, work);
    expect(warnings).toEqual([]);
    expect(diffTrees(trees.get(name)!, listTree(target))).toEqual([]);
    fs.rmSync(target, { recursive: true, force: true });
  });

  it('finds the shared base by itself', () => {
    const shared = built.images.filter((i) => i.file.startsWith('shared-'));
    expect(shared.map((i) => i.file)).toEqual(['shared-minimal-standard-python-x86_64.tar.gz']);
    expect(shared[0]!.size).toBeGreaterThan(150e6);
  });

  it('stores within 2% of the distinct entries', () => {
    // The tar cost of each distinct entry (path and every attribute and content), counted once.
    const distinct = new Map<string, number>();
    for (const tree of trees.values()) {
      for (const [p, e] of tree.entries) {
        distinct.set(`${p}\0${JSON.stringify(e)}`, 512 + Math.ceil(Number(e.size || 0) / 512) * 512);
      }
    }
    const distinctBytes = [...distinct.values()].reduce((a, b) => a + b, 0);
    const medium = readDetailsXml(path.join(work, 'medium'), 'x86_64').reduce((n, d) => n + Number(d.size), 0);
    expect(Math.abs(medium / distinctBytes - 1)).toBeLessThan(0.02);
  });

  it('plan --json agrees with what build wrote: members and bytes per image', () => {
    const r = mediacompose('plan', compose, '--json');
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout) as { images: Array<{ file: string; members: number; bytes: number }> };
    expect(plan.images.map((i) => ({ file: i.file, files: i.members, size: i.bytes }))).toEqual(
      built.images.map((i) => ({ file: i.file, files: i.files, size: i.size })),
    );
    const details = readDetailsXml(path.join(work, 'medium'), 'x86_64');
    for (const image of plan.images) expect(Number(details.find((d) => d.file === image.file)!.size)).toBe(image.bytes);
  });

  it('verify says the medium deploys every root exactly (last step)', { timeout: 600_000 }, () => {
    expect(mediacompose('verify', compose).status).toBe(0);
  });
});
