/**
 * A small rpm-md repository built with the real rpmbuild and createrepo_c: tiny noarch packages
 * and pattern packages (`Provides: pattern() = NAME`, requiring their packages), as openSUSE's
 * patterns-* packages are made.
 *
 *   pattern base : patterns-base  -> bash-lite -> filesystem
 *   pattern x11  : patterns-x11   -> pattern() = base, xorg-lite
 *   pattern tools: patterns-tools -> pattern() = base, htop-lite (Recommends: xorg-lite)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TinyPackage {
  name: string;
  version: string;
  /** Extra spec lines: Requires:, Provides:, Recommends: */
  deps: string[];
  /** Bytes of its data file (in /usr/share/NAME/data): some content for the medium to hold. */
  size: number;
  /** A %pre scriptlet that fails: the package resolves but cannot be installed. */
  failsToInstall?: boolean;
}

const TINY_PACKAGES: readonly TinyPackage[] = [
  { name: 'filesystem', version: '1.0', deps: [], size: 800_000 },
  { name: 'bash-lite', version: '1.0', deps: ['Requires: filesystem'], size: 2_400_000 },
  { name: 'xorg-lite', version: '1.0', deps: ['Requires: bash-lite'], size: 3_600_000 },
  { name: 'htop-lite', version: '1.0', deps: ['Requires: bash-lite', 'Recommends: xorg-lite'], size: 1_600_000 },
  { name: 'patterns-base', version: '1.0', deps: ['Provides: pattern() = base', 'Requires: bash-lite'], size: 100 },
  { name: 'patterns-x11', version: '1.0', deps: ['Provides: pattern() = x11', 'Requires: pattern() = base', 'Requires: xorg-lite'], size: 100 },
  { name: 'patterns-tools', version: '1.0', deps: ['Provides: pattern() = tools', 'Requires: pattern() = base', 'Requires: htop-lite'], size: 100 },
  // Its %pre needs /bin/sh, which it claims to provide but does not ship: zypper's solve and
  // dry run pass, rpm fails when it installs the package.
  { name: 'broken-lite', version: '1.0', deps: ['Requires: bash-lite', 'Provides: /bin/sh'], size: 100, failsToInstall: true },
  { name: 'orphan-lite', version: '1.0', deps: ['Requires: no-such-capability'], size: 100 },
];

/**
 * Builds (or rebuilds) the repository in `repo` from `packages`; `work` holds rpmbuild's files.
 * Only packages whose rpm is missing are built, so a version bump rebuilds one package.
 */
export function buildRpmRepo(repo: string, work: string, packages: readonly TinyPackage[] = TINY_PACKAGES): void {
  fs.mkdirSync(repo, { recursive: true });
  fs.mkdirSync(path.join(work, 'rpmdb'), { recursive: true });
  const wanted = new Set(packages.map((p) => `${p.name}-${p.version}-1.noarch.rpm`));
  const rpmDir = path.join(repo, 'noarch');
  for (const name of fs.existsSync(rpmDir) ? fs.readdirSync(rpmDir) : []) {
    if (!wanted.has(name)) fs.rmSync(path.join(rpmDir, name));
  }
  for (const pkg of packages) {
    if (fs.existsSync(path.join(rpmDir, `${pkg.name}-${pkg.version}-1.noarch.rpm`))) continue;
    const spec = path.join(work, `${pkg.name}.spec`);
    fs.writeFileSync(spec, specText(pkg));
    const r = spawnSync('rpmbuild', [
      '--define', `_topdir ${path.join(work, 'top')}`,
      '--define', `_rpmdir ${repo}`,
      '--define', `_dbpath ${path.join(work, 'rpmdb')}`,
      '--define', '__os_install_post %{nil}',
      '--define', 'debug_package %{nil}',
      '--define', '_build_id_links none',
      // Same input, same rpm: a fixed build time and host.
      '--define', 'use_source_date_epoch_as_buildtime 1',
      '--define', '_buildhost build.example',
      '-bb', spec,
    ], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', HOME: work } });
    if (r.status !== 0) throw new Error(`rpmbuild ${pkg.name} failed: ${r.stderr}`);
  }
  execFileSync('createrepo_c', ['--quiet', '--update', repo], { env: { ...process.env, HOME: work } });
}

/**
 * Signs a repository as openSUSE's are: every package (rpmsign), then repodata/repomd.xml
 * (repomd.xml.asc, a detached armored signature) with the public keys `offered` beside it
 * (repomd.xml.key; none when empty). `home` is the keyring folder holding `fingerprint`'s secret
 * key, without a passphrase.
 */
export function signRpmRepo(repo: string, home: string, fingerprint: string, offered: readonly string[] = [fingerprint]): void {
  signPackages(fs.readdirSync(path.join(repo, 'noarch')).map((n) => path.join(repo, 'noarch', n)), home, fingerprint);
  indexSigned(repo, home, fingerprint, offered);
}

/** Signs rpm files with `fingerprint`'s key (replacing a signature they have). */
export function signPackages(rpms: readonly string[], home: string, fingerprint: string): void {
  // Debian's rpm names gpg2, which Debian's gnupg does not install.
  execFileSync('rpmsign', ['--define', '__gpg /usr/bin/gpg', '--define', `_gpg_name ${fingerprint}`, '--addsign', ...rpms], { env: { ...process.env, GNUPGHOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Indexes the repository anew and signs its repomd.xml, offering the keys `offered`. */
export function indexSigned(repo: string, home: string, fingerprint: string, offered: readonly string[]): void {
  const env = { ...process.env, GNUPGHOME: home };
  // Not --update: signing keeps a package's size (rpm reserves the space) and may keep its
  // mtime, and createrepo_c would keep the unsigned package's checksum.
  execFileSync('createrepo_c', ['--quiet', repo], { env });
  const repomd = path.join(repo, 'repodata', 'repomd.xml');
  execFileSync('gpg', ['--batch', '--yes', '--local-user', `${fingerprint}!`, '--armor', '--detach-sign', '--output', `${repomd}.asc`, repomd], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.rmSync(`${repomd}.key`, { force: true });
  if (offered.length > 0) fs.writeFileSync(`${repomd}.key`, execFileSync('gpg', ['--batch', '--armor', '--export', ...offered], { env }));
}

/** The packages with one of them at another version. */
export function bumped(name: string, version: string, packages: readonly TinyPackage[] = TINY_PACKAGES): TinyPackage[] {
  return packages.map((p) => (p.name === name ? { ...p, version } : p));
}

function specText(pkg: TinyPackage): string {
  return [
    `Name: ${pkg.name}`,
    `Version: ${pkg.version}`,
    'Release: 1',
    `Summary: tiny ${pkg.name}`,
    'License: MIT',
    'BuildArch: noarch',
    ...pkg.deps,
    '%description',
    `The tiny package ${pkg.name}.`,
    ...(pkg.failsToInstall ? ['%pre', 'echo "broken-lite refuses to install" >&2', 'exit 1'] : []),
    '%install',
    `mkdir -p %{buildroot}/usr/share/${pkg.name} %{buildroot}/etc`,
    `echo "${pkg.name} ${pkg.version}" > %{buildroot}/usr/share/${pkg.name}/README`,
    // Content that compresses poorly enough to be seen in the medium's sizes.
    `head -c ${pkg.size} /dev/zero | tr '\\0' '${pkg.name[0]}' | fold -w 64 > %{buildroot}/usr/share/${pkg.name}/data`,
    `echo "# ${pkg.name}" > %{buildroot}/etc/${pkg.name}.conf`,
    '%files',
    `/usr/share/${pkg.name}`,
    `%config(noreplace) /etc/${pkg.name}.conf`,
    '',
  ].join('\n');
}
