/**
 * The build command as a user meets it: exit statuses, one-line errors, nothing written on bad
 * input, the previous medium intact after a failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, composeYaml, fingerprint, mediacompose, mediacomposeWith, writeCompose } from '../support/build.js';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cli-'));
  for (const name of ['a', 'b']) {
    fs.mkdirSync(path.join(work, 'roots', name, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(work, 'roots', name, 'etc', 'os-release'), 'NAME=demo\n');
    fs.writeFileSync(path.join(work, 'roots', name, 'etc', 'hostname'), `${name}\n`);
    // One mtime for all: files written on either side of a second would differ, and not be shared.
    for (const rel of ['etc/os-release', 'etc/hostname', 'etc', '.']) fs.utimesSync(path.join(work, 'roots', name, rel), 1_700_000_000, 1_700_000_000);
  }
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const composeText = (compression = 'gzip'): string =>
  composeYaml({
    medium: 'out',
    compression,
    imagesets: [
      { name: 'a', patterns: ['base'], root: 'roots/a' },
      { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
    ],
    images: [{ name: 'common', sharedBy: 'all' }],
  });

describe('mediacompose build', () => {
  it('writes the medium and prints a summary naming every archive', () => {
    const file = writeCompose(work, composeText());
    const out = buildOk(file);
    expect(out).toContain('common-x86_64.tar.gz');
    expect(fs.readdirSync(path.join(work, 'out', 'images')).sort()).toEqual([
      'a-meta-x86_64.tar.gz', 'a-x86_64.tar.gz', 'b-meta-x86_64.tar.gz', 'b-x86_64.tar.gz',
      'common-x86_64.tar.gz', 'details-x86_64.xml', 'directory.yast', 'images.xml',
    ]);
    expect(fs.readFileSync(path.join(work, 'out', 'images', 'directory.yast'), 'utf8').split('\n').filter(Boolean)).toEqual(
      fs.readdirSync(path.join(work, 'out', 'images')).sort(),
    );
    // No staging debris beside images/.
    expect(fs.readdirSync(path.join(work, 'out'))).toEqual(['images']);
  });

  it('prints one JSON document with --json', () => {
    const r = mediacompose('build', writeCompose(work, composeText()), '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.images.map((i: { file: string }) => i.file)).toContain('common-x86_64.tar.gz');
    expect(doc.imagesets).toEqual([
      { name: 'a', arch: 'x86_64', images: ['common-x86_64.tar.gz', 'a-x86_64.tar.gz', 'a-meta-x86_64.tar.gz'] },
      { name: 'b', arch: 'x86_64', images: ['common-x86_64.tar.gz', 'b-x86_64.tar.gz', 'b-meta-x86_64.tar.gz'] },
    ]);
  });

  it('reports compose errors with file:line:column, exit 2, and writes nothing', () => {
    const dir = fs.mkdtempSync(path.join(work, 'bad-'));
    const file = writeCompose(dir, composeText().replace('roots/b', 'roots/missing').replace('compression: gzip', 'compresion: gzip'));
    const r = mediacompose('build', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: .*compose\.yaml:3:1: unknown key "compresion"/m);
    expect(r.stderr).toMatch(/compose\.yaml:\d+:\d+: .*roots\/missing/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('reports a usage error with exit 2', () => {
    const r = mediacompose('build');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: /m);
  });

  it('leaves the previous medium byte-identical when a build fails', () => {
    const file = writeCompose(work, composeText('bzip2'));
    buildOk(file);
    const before = fingerprint(path.join(work, 'out', 'images'));
    // No bzip2 compressor on PATH: the build must fail while writing, after staging began.
    const r = mediacomposeWith({ PATH: '/nonexistent' }, 'build', file, '--quiet');
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/^error: .*\.tar\.bzip2: compression failed: (l?bzip2): program not found/m);
    expect(fingerprint(path.join(work, 'out', 'images'))).toEqual(before);
    expect(fs.readdirSync(path.join(work, 'out'))).toEqual(['images']);
  });

  it('prints its version', () => {
    const r = mediacompose('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });
});
