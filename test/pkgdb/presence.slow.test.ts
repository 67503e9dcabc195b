/**
 * A root without a package database the installer could open: a warning in build and verify,
 * naming the root and the imageset; with --strict an error, exit 3, nothing written. A root
 * with an rpm database (any backend, either folder) or a dpkg status file has none.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPackageDatabase, buildOk, composeYaml, mediacompose, writeCompose } from '../support/build.js';

const SAMPLES = path.join(import.meta.dirname, '../fixtures/rpmdb-samples');
const warningFor = (root: string, name: string): string =>
  `warning: ${root}: no package database the installer could open, for imageset ${name} ` +
  '(looked for rpm in usr/lib/sysimage/rpm and var/lib/rpm, and var/lib/dpkg/status; the installer needs one to finish the installation)';

let work: string;
const root = (name: string): string => path.join(work, 'roots', name);
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-presence-'));
  for (const name of ['dpkg', 'sqlite', 'ndb', 'none', 'dir']) {
    fs.mkdirSync(path.join(root(name), 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root(name), 'etc', 'hostname'), `${name}\n`);
  }
  addPackageDatabase(root('dpkg'));
  fs.mkdirSync(path.join(root('sqlite'), 'usr/lib/sysimage/rpm'), { recursive: true });
  fs.copyFileSync(path.join(SAMPLES, 'cbl-mariner-2.0/rpmdb.sqlite'), path.join(root('sqlite'), 'usr/lib/sysimage/rpm/rpmdb.sqlite'));
  fs.mkdirSync(path.join(root('ndb'), 'var/lib/rpm'), { recursive: true });
  fs.copyFileSync(path.join(SAMPLES, 'sle15-bci/Packages.db'), path.join(root('ndb'), 'var/lib/rpm/Packages.db'));
  // A folder where dpkg's status file belongs opens nothing.
  fs.mkdirSync(path.join(root('dir'), 'var/lib/dpkg/status'), { recursive: true });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function compose(dir: string, names: string[]): string {
  fs.mkdirSync(path.join(work, dir), { recursive: true });
  return writeCompose(
    path.join(work, dir),
    composeYaml({
      medium: 'medium',
      compression: 'gzip',
      level: 1,
      imagesets: names.map((name, i) => ({ name, patterns: i ? ['base', name] : ['base'], root: root(name) })),
    }),
  );
}

/** The warning lines, less the one about the missing checksums key (no key in these compose files). */
const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('warning: ') && !l.startsWith('warning: no checksums key'));

describe('a root without a package database', () => {
  it('build warns once per such imageset, names the root, and writes the medium (exit 0)', () => {
    const file = compose('warn', ['dpkg', 'none', 'dir']);
    const r = mediacompose('build', file, '--quiet');
    expect(r.status, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([warningFor(root('none'), 'none'), warningFor(root('dir'), 'dir')]);
    expect(fs.existsSync(path.join(work, 'warn', 'medium', 'images', 'images.xml'))).toBe(true);
  });

  it('verify warns the same way and still compares (exit 0)', () => {
    const file = path.join(work, 'warn', 'compose.yaml');
    const r = mediacompose('verify', file);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([warningFor(root('none'), 'none'), warningFor(root('dir'), 'dir')]);
    expect(r.stdout).toMatch(/^verify: exact: /m);
  });

  it('build --strict fails with exit 3 before anything is written', () => {
    const file = compose('strict', ['dpkg', 'none']);
    const r = mediacompose('build', file, '--quiet', '--strict');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(
      `error: ${file}: --strict: 1 warning about the roots, the first: ${warningFor(root('none'), 'none').slice('warning: '.length)} ` +
        '(fix the roots as the warnings say, or build without --strict)\n',
    );
    expect(fs.existsSync(path.join(work, 'strict', 'medium'))).toBe(false);
  });

  it('verify --strict fails with exit 3', () => {
    const r = mediacompose('verify', path.join(work, 'warn', 'compose.yaml'), '--strict');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(`^error: .*compose\\.yaml: --strict: 2 warnings about the roots, the first: ${root('none').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no package database .* \\(fix the roots as the warnings say, or verify without --strict\\)$`, 'm'),
    );
  });
});

describe('roots with a package database', () => {
  it('dpkg, rpm sqlite in usr/lib/sysimage/rpm and rpm ndb in var/lib/rpm build without a warning, also with --strict', () => {
    const file = compose('fine', ['dpkg', 'sqlite', 'ndb']);
    const out = buildOk(file, '--strict');
    expect(out).toContain('images');
    const r = mediacompose('verify', file, '--strict');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([]);
  });
});
