/**
 * Quiet surprises (case 12 of the hostile-media review; the checksum offset is tested with the
 * hostile archives in extended-headers.slow.test.ts): a sparse file is archived dense and the build
 * says so; `details` on a read-only medium says its details are current (or fails naming the
 * difference) instead of failing to take the lock.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, composeYaml, fingerprint, mediacompose, writeCompose } from '../support/build.js';
import { isRoot } from '../support/installer.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-surprises-'));
  fs.mkdirSync(path.join(dir, 'roots', 'a', 'etc'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'roots', 'a', 'etc', 'hostname'), 'a\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('case 12: a sparse file', () => {
  it('is archived and warned about: 64 MiB with 4 KiB allocated', () => {
    const file = path.join(dir, 'roots', 'a', 'disk.img');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, Buffer.from('x'), 0, 1, 64 * (1 << 20) - 1);
    fs.closeSync(fd);
    const allocated = fs.statSync(file).blocks * 512;
    expect(allocated).toBeLessThan(1 << 20);
    const compose = writeCompose(dir, composeYaml({ medium: 'out', compression: 'gzip', imagesets: [{ name: 'a', patterns: ['a'], root: 'roots/a' }] }));
    const r = mediacompose('build', compose, '--quiet');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      `warning: ${dir}/roots/a/disk.img: sparse file of ${64 << 20} bytes with ${allocated} allocated (archived as all its bytes; the installer writes it dense, using the full size on the installed disk)`,
    );
    fs.rmSync(file);
  }, 60_000);
});

describe.skipIf(!isRoot)('case 12: details on a read-only medium', () => {
  let mount: string;
  let compose: string;
  beforeAll(() => {
    mount = path.join(dir, 'ro');
    fs.mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount]);
    compose = writeCompose(dir, composeYaml({ medium: 'ro/medium', compression: 'gzip', imagesets: [{ name: 'a', patterns: ['a'], root: 'roots/a' }] }));
    buildOk(compose);
  }, 60_000);
  afterAll(() => execFileSync('umount', [mount]));

  it('current details: exit 0, "current"; stale details: exit 4 naming the difference', () => {
    const medium = path.join(mount, 'medium');
    const details = path.join(medium, 'images', 'details-x86_64.xml');
    const text = fs.readFileSync(details, 'utf8');
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    try {
      const before = fingerprint(path.join(medium, 'images'));
      const r = mediacompose('details', medium);
      expect(r.stderr).not.toContain('error');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${details}: current\n`);
      expect(fingerprint(path.join(medium, 'images'))).toEqual(before);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mount]);
    }
    fs.writeFileSync(details, text.replace(/<files>\d+<\/files>/, '<files>99</files>'));
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    try {
      const r = mediacompose('details', medium);
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(
        new RegExp(`^error: ${details}: differs from the archives, and the medium is on a read-only file system \\(details-x86_64\\.xml: a-meta-x86_64\\.tar\\.gz: files 99 on the medium, \\d+ in the archive\\) \\(copy the medium`, 'm'),
      );
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mount]);
    }
  }, 60_000);
});
