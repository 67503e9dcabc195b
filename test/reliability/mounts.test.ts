/**
 * Mount points inside a root (case 6 of the hostile-media review): with the host's /dev
 * bind-mounted, or a tmpfs or /proc mounted, in a root being prepared, the build stops with exit
 * 3 naming the mount point and the hint to unmount, instead of archiving the host's device nodes
 * or failing on /proc with a message that never says "mount". The previous medium is intact.
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
  for (const [what, name, args] of cases) {
    it(`${what} at roots/a/${name}: exit 3 naming the mount point; the medium is unchanged`, () => {
      const point = path.join(work.dir, 'roots', 'a', name);
      fs.mkdirSync(point, { recursive: true });
      execFileSync('mount', [...args, point]);
      mounted = point;
      const before = snapshot(path.join(work.dir, 'out'));
      const r = mediacompose('build', work.compose, '--quiet');
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(
        `error: ${point}: a mount point: another file system is mounted here inside the root (unmount it first (umount ${point}); the build archives one file system per root)\n`,
      );
      expect(changesSince(before, path.join(work.dir, 'out'), '')).toEqual([]);
      expect(fingerprint(path.join(work.medium, 'images'))).toEqual(previous);
      execFileSync('umount', [point]);
      mounted = undefined;
      fs.rmdirSync(point);
    }, 60_000);
  }
});
