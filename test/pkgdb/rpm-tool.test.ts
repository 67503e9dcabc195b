/**
 * Against rpm itself: build two tiny packages with rpmbuild, record them in a fresh root's
 * database with rpm (sqlite, as Debian's rpm 4.18 writes), and compare what rpm reports with
 * what readPackageDatabase reads. rpm is only ever pointed at a copy of the database for
 * queries, since opening it touches the -shm file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPackageDatabase } from '../../src/pkgdb/index.js';
import { describeIf, unmet } from '../support/needs.js';

const DB_PATH = '/usr/lib/sysimage/rpm';

const SPECS = {
  'mc-alpha': `
Name: mc-alpha
Epoch: 2
Version: 1.2
Release: 3.mc
Summary: test package with an epoch and a nested directory
License: MIT
BuildArch: noarch
%description
test
%install
mkdir -p %{buildroot}/usr/share/mc-alpha/nested/deeper %{buildroot}/usr/bin
echo hello > %{buildroot}/usr/share/mc-alpha/nested/deeper/file.txt
printf '#!/bin/sh\\n' > %{buildroot}/usr/bin/mc-alpha
%files
/usr/bin/mc-alpha
/usr/share/mc-alpha
`,
  'mc-beta': `
Name: mc-beta
Version: 0.9~rc1
Release: 1
Summary: test package with a config file
License: MIT
BuildArch: noarch
%description
test
%install
mkdir -p %{buildroot}/etc/mc-beta %{buildroot}/usr/lib/mc-beta
echo setting=1 > "%{buildroot}/etc/mc-beta/beta.conf"
echo data > "%{buildroot}/usr/lib/mc-beta/with space.dat"
%files
%dir /etc/mc-beta
%config(noreplace) /etc/mc-beta/beta.conf
/usr/lib/mc-beta
`,
};

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describeIf(unmet({ programs: ['rpm', 'rpmbuild'] }), 'against rpm', () => {
  let work: string;
  let root: string;
  let queryDb: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'pkgdb-rpm-'));
    root = join(work, 'root');
    const top = join(work, 'rpmbuild');
    mkdirSync(join(root, 'var/lib'), { recursive: true });
    symlinkSync('../../usr/lib/sysimage/rpm', join(root, 'var/lib/rpm'));
    run('rpm', ['--root', root, '--dbpath', DB_PATH, '--initdb']);

    const rpmFiles = Object.entries(SPECS).map(([name, spec]) => {
      const specFile = join(work, `${name}.spec`);
      writeFileSync(specFile, spec);
      run('rpmbuild', ['--define', `_topdir ${top}`, '--define', `_tmppath ${work}/tmp`, '-bb', specFile]);
      return join(top, 'RPMS/noarch', `${name}-${spec.match(/Version: (\S+)/)![1]}-${spec.match(/Release: (\S+)/)![1]}.noarch.rpm`);
    });
    run('rpm', ['--root', root, '--dbpath', DB_PATH, '-i', '--nodeps', '--noscripts', '--justdb', ...rpmFiles]);

    queryDb = join(work, 'query-copy');
    cpSync(join(root, DB_PATH), queryDb, { recursive: true });
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds the sqlite database in usr/lib/sysimage/rpm', async () => {
    const db = await readPackageDatabase(root);
    expect(db?.kind).toBe('rpm-sqlite');
    expect(db?.file).toBe(join(root, DB_PATH, 'rpmdb.sqlite'));
  });

  it('lists the same packages as rpm -qa', async () => {
    const format = '%{NAME}|%|EPOCH?{%{EPOCH}}:{}||%{VERSION}|%{RELEASE}|%{ARCH}\\n';
    const fromRpm = run('rpm', ['--dbpath', queryDb, '-qa', '--qf', format]).trim().split('\n').sort();
    const db = await readPackageDatabase(root);
    const ours = db!.packages
      .map((p) => [p.name, p.epoch ?? '', p.version, p.release, p.arch].join('|'))
      .sort();
    expect(ours).toEqual(fromRpm);
    expect(ours).toEqual(['mc-alpha|2|1.2|3.mc|noarch', 'mc-beta||0.9~rc1|1|noarch']);
  });

  it.each(Object.keys(SPECS))('lists the same files as rpm -ql %s', async (name) => {
    const fromRpm = run('rpm', ['--dbpath', queryDb, '-ql', name]).trim().split('\n');
    const db = await readPackageDatabase(root);
    expect(db!.packages.find((p) => p.name === name)!.files).toEqual(fromRpm);
  });

  it('leaves the database directory exactly as it was', async () => {
    const dbDir = join(root, DB_PATH);
    const fingerprint = () =>
      readdirSync(dbDir)
        .sort()
        .map((name) => {
          const path = join(dbDir, name);
          const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
          return `${name} ${statSync(path).mtimeMs} ${hash}`;
        });
    const before = fingerprint();
    await readPackageDatabase(root);
    expect(fingerprint()).toEqual(before);
  });

  it('has the nested directories and the file with a space', async () => {
    const db = await readPackageDatabase(root);
    const files = db!.packages.flatMap((p) => p.files);
    expect(files).toContain('/usr/share/mc-alpha/nested/deeper/file.txt');
    expect(files).toContain('/usr/lib/mc-beta/with space.dat');
  });
});
