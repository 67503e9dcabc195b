/**
 * Mount points inside a root (case 6 of the hostile-media review): with the host's /dev
 * bind-mounted, or a tmpfs or /proc mounted, in a root being prepared, the build stops with exit
 * 3 naming the mount point and the hint to unmount, instead of archiving the host's device nodes
 * or failing on /proc with a message that never says "mount". The same for a /proc file
 * bind-mounted onto a root file, which would be archived empty (or block a reader, /proc/kmsg).
 * The previous medium is intact.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, mediacompose } from '../support/build.js';
import { describeIf, unmet } from '../support/needs.js';
import { type Work, changesSince, smallMedium, snapshot } from './hostile.js';

describeIf(unmet({ root: true }), 'case 6: mount points inside a root', () => {
  let work: Work;
  let previous: Record<string, string>;
  let mounted: string | undefined;
  beforeAll(() => {
    work = smallMedium('mc-mounts-');
    previous = fingerprint(path.join(work.medium, 'images'));
  }, 60_000);
  afterEach(() => {
    if (mounted) execFileSync('umount', [mounted]);
    mounted = undefined;
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mounted]);
    fs.rmSync(work.dir, { recursive: true, force: true });
  });

  const cases: Array<[string, string, string[]]> = [
    ['the host /dev bind-mounted', 'dev', ['--bind', '/dev']],
    ['a tmpfs', 'run', ['-t', 'tmpfs', 'tmpfs']],
    ['/proc', 'proc', ['-t', 'proc', 'proc']],
  ];
  /** Mounts onto `point`, builds, and checks the refusal (within seconds) and the unchanged medium. */
  function buildRefusesMountPoint(point: string, mountArgs: readonly string[]): void {
    execFileSync('mount', [...mountArgs, point]);
    mounted = point;
    const before = snapshot(path.join(work.dir, 'out'));
    const started = Date.now();
    const r = mediacompose('build', work.compose, '--quiet');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(
      `error: ${point}: a mount point: another file system is mounted here inside the root (unmount it first (umount ${point}); the build archives one file system per root)\n`,
    );
    expect(changesSince(before, path.join(work.dir, 'out'), '')).toEqual([]);
    expect(fingerprint(path.join(work.medium, 'images'))).toEqual(previous);
    execFileSync('umount', [point]);
    mounted = undefined;
  }

  for (const [what, name, args] of cases) {
    it(`${what} at roots/a/${name}: exit 3 naming the mount point; the medium is unchanged`, () => {
      const point = path.join(work.dir, 'roots', 'a', name);
      fs.mkdirSync(point, { recursive: true });
      buildRefusesMountPoint(point, args);
      fs.rmdirSync(point);
    }, 60_000);
  }

  // /proc/kmsg blocks a reader until the kernel logs something: the build must not open it.
  for (const source of ['/proc/self/status', '/proc/kmsg']) {
    it(`${source} bind-mounted onto a root file: exit 3 naming it, within seconds; the medium is unchanged`, () => {
      const point = path.join(work.dir, 'roots', 'a', 'etc', 'bound');
      fs.writeFileSync(point, 'placeholder\n');
      buildRefusesMountPoint(point, ['--bind', source]);
      fs.rmSync(point);
    }, 60_000);
  }
});
