/**
 * compose.yaml's budget: a build whose archives do not fit fails with exit 5, names the largest
 * archives and how far over they are, and leaves the previous medium byte for byte as it was.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incompressible } from '../support/tree.js';
import { addPackageDatabase, buildOk, composeYaml, fingerprint, mediacompose, writeCompose } from '../support/build.js';

let work: string;
let images: string;

/** Two roots sharing a base; `big` holds 600 kB that does not compress, `small` 50 kB. */
function compose(budget: string[] = []): string {
  const text = composeYaml({
    medium: 'out',
    compression: 'gzip',
    imagesets: [{ name: 'big', patterns: ['big'], root: 'big' }, { name: 'small', patterns: ['small'], root: 'small' }],
  });
  return writeCompose(work, text + budget.map((l) => `${l}\n`).join(''));
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-budget-'));
  for (const [name, size] of [['big', 600_000], ['small', 50_000]] as const) {
    fs.mkdirSync(path.join(work, name, 'usr/lib'), { recursive: true });
    fs.writeFileSync(path.join(work, name, 'usr/lib/base.so'), incompressible('base', 100_000));
    fs.writeFileSync(path.join(work, name, `usr/lib/${name}.so`), incompressible(name, size));
    addPackageDatabase(path.join(work, name));
  }
  images = path.join(work, 'out/images');
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('budget', () => {
  it('a build over budget.medium fails with exit 5, names the largest archives and keeps the previous medium', () => {
    buildOk(compose());
    const before = fingerprint(images);
    // The roots grew since: the next build would be larger, and it is over budget.
    fs.writeFileSync(path.join(work, 'big/usr/lib/more.so'), incompressible('more', 300_000));
    const r = mediacompose('build', compose(['budget:', '  medium: 500kB']), '--quiet');
    expect(r.status).toBe(5);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: .*compose\.yaml: over budget: the images come to 1\.\d MB \(\d+ bytes\), \d+\.\d kB over budget\.medium 500 kB; largest: big-x86_64\.tar\.gz 1\.0 MB, small-x86_64\.tar\.gz 0\.2 MB, /,
    );
    expect(lines[0]).toContain('(the previous medium is kept;');
    expect(fingerprint(images)).toEqual(before);
    expect(fs.readdirSync(path.join(work, 'out')).sort()).toEqual(['images']);
    fs.rmSync(path.join(work, 'big/usr/lib/more.so'));
  });

  it('an archive at or above budget.file fails the same way, naming it', () => {
    const before = fingerprint(images);
    const r = mediacompose('build', compose(['budget: {file: 600000}']), '--quiet');
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/over budget: big-x86_64\.tar\.gz is [\d.]+ kB \(\d+ bytes\), [\d.]+ kB over budget\.file \(every archive strictly below 600 kB\)/);
    expect(r.stderr).not.toContain('small-x86_64');
    expect(fingerprint(images)).toEqual(before);
  });

  it('a medium within budget is written, and plan says it fits', () => {
    const file = compose(['budget: {medium: 4.7GB, file: 4GiB}']);
    buildOk(file);
    const plan = JSON.parse(mediacompose('plan', file, '--json').stdout);
    expect(plan.budget).toEqual({ medium: 'fits', files: [], file_limit: 4 * 1024 ** 3 });
    expect(plan.summary.budget).toEqual({ medium: 4_700_000_000, file: 4 * 1024 ** 3, file_warning: null });
  });

  it('plan says when the estimate does not fit', () => {
    const plan = mediacompose('plan', compose(['budget: {medium: 100kB}']));
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('budget.medium 100 kB: does not fit');
  });
});
