/**
 * Output failures on real file systems (small tmpfs mounts, so root only): a disk that fills in
 * the middle of a rebuild and a medium on a read-only file system. Each is exit 4 with one line
 * naming the file and the cause; the previous medium keeps its bytes and nothing else is left.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPackageDatabase, buildOk, composeYaml, fingerprint, mediacompose, writeCompose } from '../support/build.js';
import { describeIf, unmet } from '../support/needs.js';

const MiB = 1 << 20;

/** Mounts a tmpfs of `size` on a new folder; undefined when mounting is not possible here. */
function mountTmpfs(parent: string, name: string, size: string): string | undefined {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch {
    return undefined;
  }
}

function unmount(dir: string | undefined): void {
  if (dir) execFileSync('umount', [dir]);
}

describeIf(unmet({ root: true }), 'output failures (root: mounts a small and a read-only file system)', () => {
  let work: string;
  const mounts: string[] = [];
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-output-'));
    // 2 MiB that gzip cannot shrink: one medium fits a 3 MiB tmpfs, a second copy beside it not.
    fs.mkdirSync(path.join(work, 'roots', 'a', 'etc'), { recursive: true });
    fs.writeFileSync(path.join(work, 'roots', 'a', 'etc', 'hostname'), 'a\n');
    fs.writeFileSync(path.join(work, 'roots', 'a', 'data'), randomBytes(2 * MiB));
    addPackageDatabase(path.join(work, 'roots', 'a'));
  });
  afterAll(() => {
    for (const dir of mounts) unmount(dir);
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A compose file whose medium lies on `mount`. */
  function composeOn(mount: string): string {
    return writeCompose(
      work,
      composeYaml({
        medium: path.join(mount, 'medium'),
        compression: 'gzip',
        imagesets: [{ name: 'a', patterns: ['base'], root: 'roots/a' }],
      }),
    );
  }

  it('a disk that fills in the middle of a rebuild: exit 4 naming the file, no debris', (ctx) => {
    const mount = mountTmpfs(work, 'small', '3m');
    if (!mount) return ctx.skip();
    mounts.push(mount);
    const compose = composeOn(mount);
    buildOk(compose);
    const medium = path.join(mount, 'medium');
    const before = fingerprint(path.join(medium, 'images'));

    // Compressing again (--no-cache), and taking the archive from the image cache: both fill the disk.
    for (const [args, what] of [[['--no-cache'], 'cannot write'], [[], 'cannot take the image from the cache']] as const) {
      const r = mediacompose('build', compose, '--quiet', ...args);
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(
        new RegExp(`^error: ${medium}/\\.mediacompose-staging-\\d+/images/a-x86_64\\.tar\\.gz: ${what}: no space left on device\\n$`),
      );
      expect(fs.readdirSync(medium)).toEqual(['images']);
      expect(fingerprint(path.join(medium, 'images'))).toEqual(before);
    }
    // The space is free again: only the previous medium is left on the disk.
    const used = Number(execFileSync('du', ['-s', '-B1', mount], { encoding: 'utf8' }).split('\t')[0]);
    expect(used).toBeLessThan(2.5 * MiB);
  });

  it('a medium on a read-only file system: exit 4, the medium as it was', (ctx) => {
    const mount = mountTmpfs(work, 'readonly', '16m');
    if (!mount) return ctx.skip();
    mounts.push(mount);
    const compose = composeOn(mount);
    buildOk(compose);
    const medium = path.join(mount, 'medium');
    const before = fingerprint(path.join(medium, 'images'));
    execFileSync('mount', ['-o', 'remount,ro', mount]);

    const r = mediacompose('build', compose, '--quiet');
    expect(r.status).toBe(4);
    expect(r.stderr).toBe(
      `error: ${medium}: cannot lock the medium: read-only file system (the medium is on a read-only file system; choose a writable medium folder)\n`,
    );
    expect(fs.readdirSync(medium)).toEqual(['images']);
    expect(fingerprint(path.join(medium, 'images'))).toEqual(before);
  });

  it('a medium folder that cannot be created on a read-only file system: exit 4', (ctx) => {
    const mount = mounts.find((m) => m.endsWith('readonly'));
    if (!mount) return ctx.skip();
    const r = mediacompose('build', writeCompose(work, `version: 1\nmedium: ${mount}/other\narch: x86_64\nimagesets:\n  - {name: a, patterns: [base], root: roots/a}\n`), '--quiet');
    expect(r.status).toBe(4);
    expect(r.stderr).toBe(`error: ${mount}/other: cannot create the medium folder: read-only file system (check the path and its permissions)\n`);
  });
});
