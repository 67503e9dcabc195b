/**
 * Stage 1 with the real zypper, rpm, rpmbuild and createrepo_c: a local rpm-md repository with
 * patterns base, x11 and tools; `prepare` then `build`; every imageset deployed as the installer
 * does must equal its prepared root, and hold in its rpm database what zypper installed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, fingerprint, mediacompose } from '../support/build.js';
import { deploy } from '../support/installer.js';
import { describeIf, unmet } from '../support/needs.js';
import { exportKey, newKey } from '../support/gpg-keys.js';
import { buildRpmRepo, bumped, indexSigned, signPackages, signRpmRepo } from '../support/rpm-repo.js';
import { diffTrees, listTree } from '../support/tree.js';

// zypper installs as root; the repository is built with rpmbuild and createrepo_c.
const unavailable = unmet({ root: true, programs: ['zypper', 'rpm', 'rpmbuild', 'createrepo_c'] });

interface SetText {
  name: string;
  patterns: string[];
  packages?: string[];
}

const SETS: SetText[] = [
  { name: 'base', patterns: ['base'] },
  { name: 'x11', patterns: ['base', 'x11'] },
  { name: 'tools', patterns: ['base', 'tools'] },
];

let work: string;
let repo: string;
let compose: string;
/** The roots folder, `roots` unless a test prepares into another one. */
const roots = (folder = 'roots'): string => path.join(work, folder);
const rootOf = (name: string, folder = 'roots'): string => path.join(roots(folder), `${name}-x86_64`);
const images = (): string => path.join(work, 'out/medium/images');

function composeText(options: { repoUrl?: string; gpgcheck?: boolean; gpgkey?: string; roots?: string; sets?: SetText[]; moreRepositories?: string[] } = {}): string {
  const sets: SetText[] = options.sets ?? SETS;
  return [
    'medium: out/medium',
    'arch: x86_64',
    'repositories:',
    `  - {name: local, url: "${options.repoUrl ?? `dir://${repo}`}", gpgcheck: ${options.gpgcheck ?? false}${options.gpgkey ? `, gpgkey: ${options.gpgkey}` : ''}}`,
    ...(options.moreRepositories ?? []).map((r) => `  - ${r}`),
    `prepare: {roots: ${options.roots ?? 'roots'}, recommends: true}`,
    'layering: {min_size: 0}',
    'imagesets:',
    ...sets.map((s) => `  - {name: ${s.name}, patterns: [${s.patterns.join(', ')}]${s.packages ? `, packages: [${s.packages.join(', ')}]` : ''}}`),
    '',
  ].join('\n');
}

function writeComposeAt(file: string, text: string): string {
  fs.writeFileSync(file, text);
  return file;
}

function json<T>(args: string[]): T {
  const r = mediacompose(...args);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

type Prepared = Array<{ imageset: string; status: string; packages: number; base?: string }>;
const statusOf = (prepared: Prepared): Record<string, string> => Object.fromEntries(prepared.map((r) => [r.imageset, r.status]));

/** What zypper installed into a root, from its own history (var/log/zypp/history). */
function zypperHistory(root: string): string[] {
  const installed = new Set<string>();
  for (const line of fs.readFileSync(path.join(root, 'var/log/zypp/history'), 'utf8').split('\n')) {
    const f = line.split('|');
    if (f[1] === 'install') installed.add(`${f[2]}-${f[3]}.${f[4]}`);
  }
  return [...installed].sort();
}

/** `rpm -qa` of a deployed tree, on a copy of it (rpm may touch the database it reads). */
function rpmQa(tree: string): string[] {
  const copy = fs.mkdtempSync(path.join(work, 'rpmqa-'));
  execFileSync('cp', ['-a', `${tree}/.`, copy]);
  const out = execFileSync('rpm', ['--root', copy, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n'], { encoding: 'utf8' });
  fs.rmSync(copy, { recursive: true, force: true });
  return out.split('\n').filter(Boolean).sort();
}

/** The prepared roots and their records, as a tree listing (to show they are untouched). */
function rootsState(folder?: string): string {
  return SETS.map((s) => {
    const tree = listTree(rootOf(s.name, folder));
    const record = fs.readFileSync(`${rootOf(s.name, folder)}.prepared.json`, 'utf8');
    return JSON.stringify([...tree.entries]) + record;
  }).join('\n');
}

function leftovers(folder?: string): string[] {
  return fs.readdirSync(roots(folder)).filter((n) => n.startsWith('.staging-') || n.startsWith('.old-') || n.startsWith('.gnupg-') || n === '.mediacompose.lock');
}

/**
 * An error case: one line, the status, the message, and the roots (in `roots`, the roots folder
 * the compose text names, when not the suite's) exactly as they were.
 */
function expectFailure(text: string, status: number, message: RegExp | string, options: { env?: NodeJS.ProcessEnv; uid?: number; roots?: string } = {}): void {
  const { env, uid, roots: folder } = options;
  const file = writeComposeAt(path.join(work, 'failing.yaml'), text);
  const before = rootsState(folder);
  const r = spawnSync(process.execPath, [BIN, 'prepare', file, '--quiet'], { encoding: 'utf8', env: { ...process.env, ...env }, ...(uid === undefined ? {} : { uid, gid: uid }) });
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(r.stderr.trim()).toBe(message);
  else expect(r.stderr.trim()).toMatch(message);
  expect(r.status).toBe(status);
  expect(rootsState(folder)).toBe(before);
  expect(leftovers(folder)).toEqual([]);
}

describeIf(unavailable, 'prepare: from an rpm-md repository to a medium', () => {
  beforeAll(() => {
    // Reproducible roots: what installing writes carries this time, not the time of the install,
    // so roots prepared in other seconds share it and a root prepared again differs only where
    // its packages do.
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-prepare-'));
    fs.chmodSync(work, 0o755);
    repo = path.join(work, 'repo');
    buildRpmRepo(repo, path.join(work, 'rpmbuild'));
    compose = writeComposeAt(path.join(work, 'compose.yaml'), composeText());
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('prepare then build: every imageset deploys exactly to its prepared root and holds what zypper installed', () => {
    const prepared = json<{ roots: Prepared }>(['prepare', compose, '--json']);
    expect(prepared.roots.map((r) => [r.imageset, r.status, r.packages])).toEqual([
      ['base', 'prepared', 3],
      ['x11', 'prepared', 5],
      // htop-lite recommends xorg-lite; recommends: true installs it.
      ['tools', 'prepared', 6],
    ]);
    // The larger roots were installed on a copy of the smaller one their packages include.
    expect(prepared.roots.map((r) => r.base)).toEqual([undefined, 'base', 'base']);

    const built = json<{ prepared: Prepared }>(['build', compose, '--json', '--quiet']);
    expect(statusOf(built.prepared)).toEqual({ base: 'reused', x11: 'reused', tools: 'reused' });

    const medium = path.join(work, 'out/medium');
    for (const set of SETS) {
      const { target, warnings } = deploy(medium, set.patterns.join(','), work);
      expect(warnings).toEqual([]);
      expect(diffTrees(listTree(rootOf(set.name)), listTree(target))).toEqual([]);
      const history = zypperHistory(rootOf(set.name));
      expect(history.length).toBe(prepared.roots.find((r) => r.imageset === set.name)!.packages);
      expect(rpmQa(target)).toEqual(history);
      fs.rmSync(target, { recursive: true, force: true });
    }
    expect(zypperHistory(rootOf('tools'))).toEqual([
      'bash-lite-1.0-1.noarch', 'filesystem-1.0-1.noarch', 'htop-lite-1.0-1.noarch',
      'patterns-base-1.0-1.noarch', 'patterns-tools-1.0-1.noarch', 'xorg-lite-1.0-1.noarch',
    ]);
  });

  it('the medium holds the distinct entries of the prepared roots within 5%', () => {
    const plan = json<{ totals: { medium: number; storedTwice: number }; duplicates: Array<{ extraBytes: number; reason: string }>; prepared: Prepared }>(['plan', compose, '--json']);
    expect(statusOf(plan.prepared)).toEqual({ base: 'reused', x11: 'reused', tools: 'reused' });
    // Independently of the planner: each distinct entry (path and every attribute and digest,
    // counted once however many roots hold it) as tar stores it, a header and padded content.
    const distinct = new Map<string, number>();
    for (const set of SETS) {
      for (const [p, e] of listTree(rootOf(set.name)).entries) {
        const bytes = 512 + (e.type === 'f' ? Math.ceil(Number(e.size) / 512) * 512 : 0);
        distinct.set(`${p}\0${JSON.stringify(e)}`, bytes);
      }
    }
    const distinctBytes = [...distinct.values()].reduce((a, b) => a + b, 0);
    expect({ medium: plan.totals.medium, distinctBytes, ratio: plan.totals.medium / distinctBytes }).toEqual({ medium: plan.totals.medium, distinctBytes, ratio: expect.closeTo(1, 1) });
    expect(Math.abs(plan.totals.medium - distinctBytes) / distinctBytes).toBeLessThan(0.05);
    expect(plan.totals.storedTwice / plan.totals.medium).toBeLessThan(0.05);
  });

  it('a second build with unchanged repositories reuses every root and writes the same bytes', () => {
    const first = fingerprint(images());
    const built = json<{ prepared: Prepared }>(['build', compose, '--json', '--quiet']);
    expect(statusOf(built.prepared)).toEqual({ base: 'reused', x11: 'reused', tools: 'reused' });
    expect(fingerprint(images())).toEqual(first);
  });

  it('another SOURCE_DATE_EPOCH prepares every root again, clamped to it; the same one again reuses them', () => {
    const epoch = (value: string): Prepared => {
      process.env.SOURCE_DATE_EPOCH = value;
      return json<{ roots: Prepared }>(['prepare', compose, '--json', '--quiet']).roots;
    };
    try {
      expect(statusOf(epoch('1700000100'))).toEqual({ base: 'prepared', x11: 'prepared', tools: 'prepared' });
      for (const set of SETS) {
        const mtimes = [...listTree(rootOf(set.name)).entries.values()].map((e) => Number(e.mtime));
        expect(Math.max(...mtimes)).toBe(1700000100);
      }
      expect(statusOf(epoch('1700000100'))).toEqual({ base: 'reused', x11: 'reused', tools: 'reused' });
    } finally {
      // Back to the suite's epoch: prepared again (rpm's database records the time of the
      // installation, so not byte for byte the roots of before), and the medium built from them.
      expect(statusOf(epoch('1700000000'))).toEqual({ base: 'prepared', x11: 'prepared', tools: 'prepared' });
      json(['build', compose, '--json', '--quiet']);
    }
  });

  it('a version bump prepares again only the roots holding the package, and only their images change', () => {
    const before = fingerprint(images());
    const untouched = ['base', 'x11'].map((n) => JSON.stringify([...listTree(rootOf(n)).entries]));
    buildRpmRepo(repo, path.join(work, 'rpmbuild'), bumped('htop-lite', '1.1'));
    const built = json<{ prepared: Prepared; images: Array<{ file: string; imagesets: string[] }> }>(['build', compose, '--json', '--quiet']);
    expect(statusOf(built.prepared)).toEqual({ base: 'reused', x11: 'reused', tools: 'prepared' });
    expect(zypperHistory(rootOf('tools'))).toContain('htop-lite-1.1-1.noarch');
    expect(['base', 'x11'].map((n) => JSON.stringify([...listTree(rootOf(n)).entries]))).toEqual(untouched);
    const after = fingerprint(images());
    const changed = Object.keys(after).filter((f) => after[f] !== before[f]);
    expect(changed).toContain('tools-x86_64.tar.xz');
    for (const file of changed.filter((f) => f.includes('.tar.'))) {
      const { imagesets } = built.images.find((i) => i.file === file)!;
      expect(imagesets, `${file} changed: ${JSON.stringify(built.images)}`).toContain('tools');
    }
    const { target } = deploy(path.join(work, 'out/medium'), 'base,tools', work);
    expect(diffTrees(listTree(rootOf('tools')), listTree(target))).toEqual([]);
    expect(rpmQa(target)).toEqual(zypperHistory(rootOf('tools')).filter((p) => p !== 'htop-lite-1.0-1.noarch'));
  });

  it('a pattern or package no repository provides: exit 3 naming them, before any root is touched', () => {
    expectFailure(
      composeText({ sets: [...SETS, { name: 'extra', patterns: ['base', 'nope'], packages: ['nopkg'] }] }),
      3,
      /^error: .*failing\.yaml: no repository provides pattern "nope", package "nopkg" \(/,
    );
    expect(fs.existsSync(rootOf('extra'))).toBe(false);
  });

  it('dependencies no repository satisfies: exit 3 naming the problem, before any root is touched', () => {
    expectFailure(
      composeText({ sets: [{ name: 'base', patterns: ['base'], packages: ['orphan-lite'] }, ...SETS.slice(1)] }),
      3,
      /^error: .*failing\.yaml: imageset "base" cannot be installed: nothing provides no-such-capability needed by orphan-lite-1\.0-1\.noarch \(/,
    );
  });

  it('an unreachable repository: exit 3 with its URL', () => {
    expectFailure(composeText({ repoUrl: 'http://127.0.0.1:9/repo' }), 3, /^error: .*: repository "local" \(http:\/\/127\.0\.0\.1:9\/repo\) cannot be read: .*Couldn't connect to server/);
  });

  it('a repository whose signature cannot be checked: exit 3, GPG check failed', () => {
    expectFailure(composeText({ gpgcheck: true }), 3, /^error: .*: repository "local" \(dir:\/\/.*\): GPG check failed: .*repomd\.xml.*\(sign the repository/);
  });

  it('an installation that fails: exit 4, staged roots removed, the previous roots as they were', () => {
    expectFailure(
      composeText({ sets: [{ name: 'base', patterns: ['base'], packages: ['broken-lite'] }, ...SETS.slice(1)] }),
      4,
      /^error: roots\/base-x86_64: zypper install failed \(exit status \d+\): .*\(see .*\.logs\/base-x86_64\.log\)$/,
    );
  });

  it('SIGTERM while zypper installs: exit 143, zypper ended, staging removed, the previous roots as they were', async () => {
    const file = writeComposeAt(path.join(work, 'interrupted.yaml'), composeText({ sets: [{ name: 'base', patterns: ['base'], packages: ['xorg-lite'] }, ...SETS.slice(1)] }));
    const before = rootsState();
    const child = spawn(process.execPath, [BIN, 'prepare', file, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal === 'SIGTERM' ? 143 : code)));
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(path.join(roots(), '.staging-base-x86_64')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fs.existsSync(path.join(roots(), '.staging-base-x86_64'))).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/^error: interrupted by SIGTERM/m);
    expect(rootsState()).toBe(before);
    // No zypper of that run is left writing, and the next prepare starts clean.
    expect(spawnSync('pgrep', ['-f', 'staging-base-x86_64']).status).toBe(1);
    expect(mediacompose('prepare', compose, '--quiet').status).toBe(0);
    expect(leftovers()).toEqual([]);
    expect(rootsState()).toBe(before);
  });

  it('not running as root: exit 3 with the hint', () => {
    expectFailure(composeText(), 3, /^error: roots: preparing roots needs root \(.*run mediacompose as root, e\.g\. with sudo\)$/, { uid: 65534 });
  });

  it('zypper missing: exit 4 naming the Debian package', () => {
    const bin = path.join(work, 'bin-without-zypper');
    fs.mkdirSync(bin, { recursive: true });
    for (const program of ['rpm', 'cp']) {
      const real = execFileSync('bash', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
      if (!fs.existsSync(path.join(bin, program))) fs.symlinkSync(real, path.join(bin, program));
    }
    expectFailure(composeText(), 4, /^error: zypper: program not found \(.*Debian package zypper/, { env: { PATH: bin } });
  });

  describeIf(unmet({ programs: ['gpg', 'gpgconf', 'rpmsign'] }), 'gpgkey: the key a repository must be signed with', () => {
    let signedRepo: string;
    /** Another repository (one package, extra-lite), signed with the other key. */
    let otherRepo: string;
    let gnupg: string;
    /** The key that signs the repository, and another one. */
    let repoKey: string;
    let otherKey: string;
    const signedUrl = (): string => `dir://${signedRepo}`;
    const signed = (options: { gpgkey?: string; roots: string; repoUrl?: string; moreRepositories?: string[]; sets?: SetText[] }): string => composeText({ gpgcheck: true, ...options, repoUrl: options.repoUrl ?? signedUrl() });
    const prepare = (text: string): { status: number | null; stderr: string; stdout: string } =>
      spawnSync(process.execPath, [BIN, 'prepare', writeComposeAt(path.join(work, 'signed.yaml'), text), '--quiet', '--json'], { encoding: 'utf8' });
    /** The keys a root's rpm database trusts, as rpm names them (gpg-pubkey-<short id>-<date>). */
    const trustedKeys = (root: string): string[] =>
      execFileSync('rpm', ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm', '-q', 'gpg-pubkey', '--qf', '%{NAME}-%{VERSION}\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const rpmName = (fingerprint: string): string => `gpg-pubkey-${fingerprint.slice(-8).toLowerCase()}`;
    /** The entries of a roots folder that are not its own dot files: the roots and their records. */
    const rootEntries = (folder: string): string[] => (fs.existsSync(roots(folder)) ? fs.readdirSync(roots(folder)).filter((n) => !n.startsWith('.')) : []);

    beforeAll(() => {
      gnupg = path.join(work, 'gnupg');
      repoKey = newKey(gnupg, 'Repository Test <repo@test.invalid>');
      otherKey = newKey(gnupg, 'Other Test <other@test.invalid>');
      signedRepo = path.join(work, 'signed-repo');
      execFileSync('cp', ['-a', repo, signedRepo]);
      signRpmRepo(signedRepo, gnupg, repoKey);
      otherRepo = path.join(work, 'other-repo');
      buildRpmRepo(otherRepo, path.join(work, 'rpmbuild-other'), [{ name: 'extra-lite', version: '1.0', deps: [], size: 100 }]);
      signRpmRepo(otherRepo, gnupg, otherKey);
      fs.mkdirSync(path.join(work, 'keys'), { recursive: true });
      exportKey(gnupg, repoKey, path.join(work, 'keys/repo.asc'));
      exportKey(gnupg, otherKey, path.join(work, 'keys/other.asc'));
    }, 120_000);
    afterAll(() => {
      spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg } });
    });

    it('a gpgkey that does not hold the signing key: exit 3 naming both fingerprints, before anything is installed', () => {
      const r = prepare(signed({ gpgkey: 'keys/other.asc', roots: 'mismatch-roots' }));
      expect(r.stderr).toBe(`error: ${path.join(work, 'signed.yaml')}: repository "local" (${signedUrl()}): repomd.xml is signed with key ${repoKey}, not with gpgkey keys/other.asc (${otherKey}) (nothing was installed; if the repository changed its key, check the new one with its publisher and name it in gpgkey:)\n`);
      expect(r.status).toBe(3);
      expect(rootEntries('mismatch-roots')).toEqual([]);
      expect(leftovers('mismatch-roots')).toEqual([]);
      // The probe, where zypper read the metadata, trusts the gpgkey's key alone.
      expect(trustedKeys(path.join(roots('mismatch-roots'), '.probe-x86_64'))).toEqual([rpmName(otherKey)]);
    });

    it('a repository that offers no key, signed with one gpgkey does not hold: exit 3 naming its key id', () => {
      const unoffered = path.join(work, 'signed-repo-no-key');
      execFileSync('cp', ['-a', signedRepo, unoffered]);
      fs.rmSync(path.join(unoffered, 'repodata/repomd.xml.key'));
      const r = prepare(signed({ gpgkey: 'keys/other.asc', roots: 'mismatch-roots', repoUrl: `dir://${unoffered}` }));
      expect(r.stderr).toBe(`error: ${path.join(work, 'signed.yaml')}: repository "local" (dir://${unoffered}): repomd.xml is signed with unknown key ${repoKey.slice(-16)} (the repository offers no repomd.xml.key), not with gpgkey keys/other.asc (${otherKey}) (nothing was installed; if the repository changed its key, check the new one with its publisher and name it in gpgkey:)\n`);
      expect(r.status).toBe(3);
      expect(rootEntries('mismatch-roots')).toEqual([]);
    });

    it('a gpgkey file that holds no public key: exit 3 naming the file, before anything is installed', () => {
      const file = path.join(work, 'keys/not-a-key.asc');
      fs.writeFileSync(file, 'not a key\n');
      const r = prepare(signed({ gpgkey: 'keys/not-a-key.asc', roots: 'mismatch-roots' }));
      expect(r.stderr).toMatch(new RegExp(`^error: ${file}: gpgkey of repository "local" is not an OpenPGP public key: gpg: exit status 2: gpg: no valid OpenPGP data found\\. \\(export the repository's public key: gpg --armor --export FINGERPRINT > key\\.asc\\)\\n$`));
      expect(r.status).toBe(3);
      expect(rootEntries('mismatch-roots')).toEqual([]);
    });

    it('a gpgkey holding the signing key: every root prepared, trusting that key alone, without a warning', () => {
      const r = prepare(signed({ gpgkey: 'keys/repo.asc', roots: 'signed-roots' }));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const prepared = (JSON.parse(r.stdout) as { roots: Prepared }).roots;
      expect(prepared.map((p) => [p.imageset, p.status, p.packages])).toEqual([['base', 'prepared', 3], ['x11', 'prepared', 5], ['tools', 'prepared', 6]]);
      for (const set of SETS) expect(trustedKeys(rootOf(set.name, 'signed-roots'))).toEqual([rpmName(repoKey)]);
      expect(leftovers('signed-roots')).toEqual([]);
    });

    it('then a gpgkey naming another key: exit 3 although the metadata is cached, the prepared roots as they were', () => {
      expectFailure(
        signed({ gpgkey: 'keys/other.asc', roots: 'signed-roots' }),
        3,
        `error: ${path.join(work, 'failing.yaml')}: repository "local" (${signedUrl()}): repomd.xml is signed with key ${repoKey}, not with gpgkey keys/other.asc (${otherKey}) (nothing was installed; if the repository changed its key, check the new one with its publisher and name it in gpgkey:)`,
        { roots: 'signed-roots' },
      );
    });

    it('without gpgkey: prepared, and one warning for the three roots naming the key trusted on first use', () => {
      const r = prepare(signed({ roots: 'first-use-roots' }));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe(`warning: repository "local" (${signedUrl()}): key ${repoKey} trusted on first use, as the repository offers it (set gpgkey: to a key file you have checked, and any other key stops prepare)\n`);
      for (const set of SETS) expect(trustedKeys(rootOf(set.name, 'first-use-roots'))).toEqual([rpmName(repoKey)]);
    });

    it('beside a repository without gpgkey: the gpgkey one is checked, the other warned about once', () => {
      const options = { roots: 'mixed-roots', moreRepositories: [`{name: second, url: "dir://${otherRepo}"}`], sets: [{ name: 'base', patterns: ['base'], packages: ['extra-lite'] }] };
      const refused = prepare(signed({ ...options, gpgkey: 'keys/other.asc' }));
      expect(refused.stderr).toMatch(new RegExp(`^error: .*: repository "local" \\(${signedUrl()}\\): repomd\\.xml is signed with key ${repoKey}, not with gpgkey keys/other\\.asc \\(${otherKey}\\) \\([^\\n]*\\n$`));
      expect(refused.status).toBe(3);
      expect(rootEntries('mixed-roots')).toEqual([]);

      const r = prepare(signed({ ...options, gpgkey: 'keys/repo.asc' }));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe(`warning: repository "second" (dir://${otherRepo}): key ${otherKey} trusted on first use, as the repository offers it (set gpgkey: to a key file you have checked, and any other key stops prepare)\n`);
      expect(trustedKeys(rootOf('base', 'mixed-roots'))).toEqual([rpmName(repoKey), rpmName(otherKey)].sort());
    });

    it('a package signed with a key the gpgkey repository offers but gpgkey does not hold: exit 3, no root moved into place', () => {
      // Beside a repository without gpgkey zypper imports keys automatically; patterns-base is
      // signed with a third key that the gpgkey repository offers with its own. zypper does not
      // import a package's key (if it did, prepare would stop naming it, see keys.ts).
      const packageKey = newKey(gnupg, 'Package Test <package@test.invalid>');
      const offering = path.join(work, 'signed-repo-two-keys');
      execFileSync('cp', ['-a', signedRepo, offering]);
      signPackages([path.join(offering, 'noarch/patterns-base-1.0-1.noarch.rpm')], gnupg, packageKey);
      indexSigned(offering, gnupg, repoKey, [repoKey, packageKey]);
      const r = prepare(signed({
        gpgkey: 'keys/repo.asc', roots: 'offering-roots', repoUrl: `dir://${offering}`,
        moreRepositories: [`{name: second, url: "dir://${otherRepo}"}`], sets: [{ name: 'base', patterns: ['base'], packages: ['extra-lite'] }],
      }));
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`error: ${path.join(work, 'signed.yaml')}: GPG check failed: patterns-base-1.0-1.noarch (local): Signature verification failed [4-Signatures public key is not available] (sign the packages with the repository key, or set gpgcheck: false for a repository you trust)`);
      expect(r.stderr).not.toContain(packageKey);
      expect(r.status).toBe(3);
      expect(rootEntries('offering-roots')).toEqual([]);
      expect(leftovers('offering-roots')).toEqual([]);
    });
  });
});
