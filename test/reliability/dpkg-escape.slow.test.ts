/**
 * The dpkg reader stays inside its root (case 2 of the hostile-media review): every database
 * file is resolved as after chroot, and only regular files are opened. A metadata image whose
 * `var/lib/dpkg/info` links to the host's /var/lib/dpkg/info gets no file lists from the host; a
 * root whose `info` is an absolute symlink gets its own lists; a FIFO or a link to /dev/zero is
 * never opened for reading.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, mediacompose } from '../support/build.js';
import { readDetailsXml } from '../support/installer.js';
import { type Work, changesSince, smallMedium, snapshot, tarStream } from './hostile.js';

let work: Work;
beforeAll(() => {
  work = smallMedium('mc-dpkg-escape-', { dpkg: true });
}, 60_000);
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

const statusOf = (name: string): Buffer => Buffer.from(`Package: ${name}\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n`);

/** Replaces a-meta-x86_64.tar.gz with a hand-made archive holding a dpkg database. */
function hostileMetaImage(members: Parameters<typeof tarStream>[0]): void {
  const dirs = ['var/', 'var/lib/', 'var/lib/dpkg/'].map((name) => ({ name, type: '5' }));
  fs.writeFileSync(path.join(work.medium, 'images', 'a-meta-x86_64.tar.gz'), gzipSync(tarStream([...dirs, ...members])));
}

describe('case 2: the dpkg reader never reaches the host', () => {
  it('details: var/lib/dpkg/info -> /var/lib/dpkg/info in a metadata image reads no host list', () => {
    // The host's base-files owns /etc/os-release, which a-x86_64.tar.gz holds.
    expect(fs.readFileSync('/var/lib/dpkg/info/base-files.list', 'utf8')).toContain('/etc/os-release\n');
    hostileMetaImage([
      { name: 'var/lib/dpkg/status', data: statusOf('base-files') },
      { name: 'var/lib/dpkg/info', type: '2', linkname: '/var/lib/dpkg/info' },
    ]);
    const before = snapshot(work.dir);
    const r = mediacompose('details', work.medium);
    expect(r.stderr).not.toContain('error');
    expect(r.status).toBe(0);
    const image = readDetailsXml(work.medium, 'x86_64').find((i) => i.file === 'a-x86_64.tar.gz')!;
    expect(image.rpms).toEqual([]);
    expect(changesSince(before, work.dir).filter((l) => !/^out\/images(\/details-x86_64\.xml)?: /.test(l))).toEqual([]);
  });

  it('details: a file list linking to /dev/zero or /dev/stdin is not read (ends at once, no list)', () => {
    hostileMetaImage([
      { name: 'var/lib/dpkg/status', data: Buffer.concat([statusOf('zero'), statusOf('stdin')]) },
      { name: 'var/lib/dpkg/info/', type: '5' },
      { name: 'var/lib/dpkg/info/zero.list', type: '2', linkname: '/dev/zero' },
      { name: 'var/lib/dpkg/info/stdin.list', type: '2', linkname: '../../../../../../dev/stdin' },
    ]);
    const started = Date.now();
    const r = mediacompose('details', work.medium, '--check');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.stderr).not.toContain('error');
    expect([0, 1]).toContain(r.status);
  });

  it('build: a root whose info folder is an absolute symlink gets its own lists, not the host path', () => {
    const root = path.join(work.dir, 'roots', 'a');
    const info = path.join(root, 'var', 'lib', 'dpkg', 'info');
    fs.mkdirSync(path.join(root, 'srv'));
    fs.renameSync(info, path.join(root, 'srv', 'dpkg-info'));
    fs.symlinkSync('/srv/dpkg-info', info);
    try {
      buildOk(work.compose);
      const images = readDetailsXml(work.medium, 'x86_64');
      const holding = images.filter((i) => i.rpms?.includes('base-a'));
      expect(holding.map((i) => i.file)).toEqual(['a-x86_64.tar.gz']);
      expect(mediacompose('verify', work.compose).status).toBe(0);
    } finally {
      fs.rmSync(info);
      fs.renameSync(path.join(root, 'srv', 'dpkg-info'), info);
      fs.rmSync(path.join(root, 'srv'), { recursive: true });
    }
  });

  it('build: a FIFO as a file list is refused with exit 3, not waited on', () => {
    const list = path.join(work.dir, 'roots', 'b', 'var', 'lib', 'dpkg', 'info', 'base-b.list');
    const saved = fs.readFileSync(list);
    fs.rmSync(list);
    execFileSync('mkfifo', [list]);
    const before = snapshot(path.join(work.medium));
    try {
      const started = Date.now();
      const r = mediacompose('build', work.compose, '--quiet');
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(
        `error: ${list}: package database file is a FIFO, not a regular file (only a regular file is read; the root or medium is damaged or hostile)\n`,
      );
      expect(changesSince(before, work.medium, '')).toEqual([]);
    } finally {
      fs.rmSync(list);
      fs.writeFileSync(list, saved);
    }
  });
});
