/**
 * Signed checksum lists, checked with the standard tools the way libzypp would need them:
 * `sha256sum --check --strict`, `gpgv` with the published key, every file covered, directory.yast
 * complete; after a hand repack and `details`; the product's root list (`list: medium`); the
 * failures (unknown key, no gpg, a signature that cannot be made). Throwaway keys in a temporary
 * GNUPGHOME.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, fingerprint, mediacomposeWith, writeTwoImagesetCompose, writeTwoSmallRoots } from '../support/build.js';
import { exportKey, gpgIn, newKey } from '../support/gpg-keys.js';
import { describeIf, isRoot, itIf, unmet } from '../support/needs.js';

let work: string;
let gnupg: string;
/** The signing key's fingerprint, and one whose secret key needs a passphrase. */
let key: string;
let lockedKey: string;
const env = (): NodeJS.ProcessEnv => ({ GNUPGHOME: gnupg });

describeIf(unmet({ programs: ['gpg', 'gpgv', 'gpgconf', 'sha256sum'] }), 'signed checksum lists', () => {
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-sums-'));
    gnupg = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-gnupg-'));
    fs.chmodSync(gnupg, 0o700);
    key = newKey(gnupg, 'Media Test <media@test.invalid>');
    lockedKey = newKey(gnupg, 'Locked Test <locked@test.invalid>', 'secret');
    // Forget the cached passphrase: signing with the locked key must fail.
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg } });
  }, 60_000);
  afterAll(() => {
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg } });
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(gnupg, { recursive: true, force: true });
  });

  /** Two small roots and a compose file (gzip) with `checksums` lines added; returns the paths. */
  function workspace(checksums: string[] = []): { dir: string; compose: string; medium: string; images: string } {
    const dir = fs.mkdtempSync(path.join(work, 'ws-'));
    writeTwoSmallRoots(dir);
    const compose = writeTwoImagesetCompose(dir);
    fs.appendFileSync(compose, checksums.map((l) => `${l}\n`).join(''));
    return { dir, compose, medium: path.join(dir, 'medium'), images: path.join(dir, 'medium', 'images') };
  }

  function run(...args: string[]): { status: number; stdout: string; stderr: string } {
    return mediacomposeWith(env(), ...args);
  }

  function build(compose: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
    return run('build', compose, '--quiet', ...args);
  }

  function tool(cmd: string, args: string[], cwd: string): { status: number; out: string } {
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, GNUPGHOME: gnupg } });
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }

  /** gpgv with the armored key converted to a keyring: 0 when `signature` is good for `list`. */
  function gpgvWith(keyFile: string, signature: string, list: string): number {
    const home = fs.mkdtempSync(path.join(work, 'gpgv-'));
    const keyring = path.join(home, 'key.gpg');
    fs.writeFileSync(keyring, execFileSync('gpg', ['--batch', '--homedir', home, '--dearmor'], { input: fs.readFileSync(keyFile) }));
    return spawnSync('gpgv', ['--homedir', home, '--keyring', keyring, signature, list], { stdio: 'ignore' }).status ?? -1;
  }

  const LIST_FILES = new Set(['CHECKSUMS', 'CHECKSUMS.asc', 'CHECKSUMS.key', 'directory.yast']);

  /** Everything a signed images/ must satisfy, measured with the standard tools. */
  function expectSignedImages(images: string): void {
    const check = tool('sha256sum', ['--check', '--strict', 'CHECKSUMS'], images);
    expect(check.status, check.out).toBe(0);
    expect(gpgvWith(path.join(images, 'CHECKSUMS.key'), path.join(images, 'CHECKSUMS.asc'), path.join(images, 'CHECKSUMS'))).toBe(0);
    const listed = fs.readFileSync(path.join(images, 'CHECKSUMS'), 'utf8').trimEnd().split('\n');
    for (const line of listed) expect(line).toMatch(/^[0-9a-f]{64} {2}[^/*][^/]*$/);
    const files = fs.readdirSync(images).filter((n) => !LIST_FILES.has(n)).sort();
    expect(listed.map((l) => l.slice(66))).toEqual(files);
    expect(fs.readFileSync(path.join(images, 'directory.yast'), 'utf8')).toBe(`${fs.readdirSync(images).sort().join('\n')}\n`);
  }

  /** Appends 10240 zero bytes to a gzip archive's tar stream: the same tree, another size. */
  function repack(file: string): void {
    const tar = zlib.gunzipSync(fs.readFileSync(file));
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([tar, Buffer.alloc(10240)]), { level: 9 }));
  }

  describe('build with a key: images/CHECKSUMS', () => {
    it('is complete, checks with sha256sum, verifies with gpgv and the .key; so does verify', () => {
      const w = workspace(['checksums:', `  key: ${key}`]);
      const r = build(w.compose);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('warning');
      expectSignedImages(w.images);
      const v = run('verify', w.compose);
      expect(v.status, v.stdout).toBe(0);
    });

    it('stays complete and signed after a hand repack and `details --sign-key`; without the key details refuses', () => {
      const w = workspace();
      expect(build(w.compose, '--sign-key', key).status).toBe(0);
      repack(path.join(w.images, 'common-x86_64.tar.gz'));
      const repacked = fingerprint(w.images);

      const check = run('details', w.medium, '--check');
      expect(check.status).toBe(1);
      expect(check.stdout).toContain(`${path.join(w.images, 'CHECKSUMS')}: stale (1 difference)`);
      expect(run('verify', w.compose).stdout).toContain('images/common-x86_64.tar.gz: wrong digest in images/CHECKSUMS');

      const refused = run('details', w.medium);
      expect(refused.status).toBe(2);
      expect(refused.stderr.trimEnd().split('\n').at(-1)).toBe(
        `error: ${path.join(w.images, 'CHECKSUMS')}: signed checksum list would be stale after this run, and no key was given to sign it again (pass --sign-key ID, the key that signed it)`,
      );
      expect(fingerprint(w.images)).toEqual(repacked);

      const fixed = run('details', w.medium, '--sign-key', key);
      expect(fixed.status, fixed.stderr).toBe(0);
      expect(fixed.stdout).toContain('details-x86_64.xml: rewritten');
      expect(fixed.stdout).toContain('CHECKSUMS: rewritten');
      expectSignedImages(w.images);
      expect(run('details', w.medium, '--check').status).toBe(0);
      const v = run('verify', w.compose);
      expect(v.status, v.stdout).toBe(0);
    });

    it('a list naming a file with a wrong digest or missing one fails verify; so does a bad signature', () => {
      const w = workspace();
      expect(build(w.compose, '--sign-key', key).status).toBe(0);
      const list = path.join(w.images, 'CHECKSUMS');
      const lines = fs.readFileSync(list, 'utf8').split('\n');
      fs.writeFileSync(list, lines.filter((l) => !l.endsWith('  images.xml')).join('\n'));
      const { problems } = JSON.parse(run('verify', w.compose, '--json').stdout) as { problems: Array<{ path: string; what: string }> };
      expect(problems).toContainEqual({ imageset: null, path: 'images/images.xml', what: 'in no checksum list: the installer asks whether to use it (default No)' });
      expect(problems.some((p) => p.path === 'images/CHECKSUMS' && p.what.startsWith('signature does not verify with CHECKSUMS.key'))).toBe(true);
    });
  });

  describe('build with list: medium', () => {
    it('replaces the images/ lines of MEDIUM/CHECKSUMS, keeps every other line, and signs it', () => {
      const w = workspace(['checksums:', `  key: ${key}`, '  list: medium']);
      fs.mkdirSync(w.medium, { recursive: true });
      const others = [
        '# product list',
        `${'1'.repeat(64)}  boot/x86_64/loader/linux`,
        `${'2'.repeat(64)}  images/old-x86_64.tar.xz`,
        `${'3'.repeat(64)}  media.1/products`,
      ];
      fs.writeFileSync(path.join(w.medium, 'CHECKSUMS'), `${others.join('\n')}\n`);
      gpgIn(gnupg, '--local-user', key, '--armor', '--detach-sign', '--output', path.join(w.medium, 'CHECKSUMS.asc'), path.join(w.medium, 'CHECKSUMS'));
      fs.writeFileSync(path.join(w.medium, 'directory.yast'), 'CHECKSUMS\nCHECKSUMS.asc\nboot/\n');

      const r = build(w.compose);
      expect(r.status, r.stderr).toBe(0);
      const root = fs.readFileSync(path.join(w.medium, 'CHECKSUMS'), 'utf8').trimEnd().split('\n');
      expect(root.filter((l) => !/ {2}images\//.test(l))).toEqual([others[0], others[1], others[3]]);
      const imageLines = root.filter((l) => / {2}images\//.test(l));
      const files = fs.readdirSync(w.images).filter((n) => !LIST_FILES.has(n)).sort();
      expect(imageLines.map((l) => l.slice(66))).toEqual(files.map((f) => `images/${f}`));
      const check = spawnSync('sha256sum', ['--check', '--strict'], { cwd: w.medium, input: `${imageLines.join('\n')}\n`, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      const publicKey = path.join(work, 'exported.key');
      exportKey(gnupg, key, publicKey);
      expect(gpgvWith(publicKey, path.join(w.medium, 'CHECKSUMS.asc'), path.join(w.medium, 'CHECKSUMS'))).toBe(0);
      expect(fs.existsSync(path.join(w.images, 'CHECKSUMS'))).toBe(false);
      expect(fs.readFileSync(path.join(w.medium, 'directory.yast'), 'utf8')).toBe('CHECKSUMS\nCHECKSUMS.asc\nboot/\nimages/\n');
      expect(fs.readFileSync(path.join(w.images, 'directory.yast'), 'utf8')).toBe(`${fs.readdirSync(w.images).sort().join('\n')}\n`);
      expect(run('verify', w.compose).status).toBe(0);

      // A hand repack, then details: the root list follows, its other lines still kept.
      repack(path.join(w.images, 'common-x86_64.tar.gz'));
      expect(run('details', w.medium, '--sign-key', key).status).toBe(0);
      const after = fs.readFileSync(path.join(w.medium, 'CHECKSUMS'), 'utf8').trimEnd().split('\n');
      expect(after.filter((l) => !/ {2}images\//.test(l))).toEqual([others[0], others[1], others[3]]);
      const recheck = spawnSync('sha256sum', ['--check', '--strict'], { cwd: w.medium, input: `${after.filter((l) => / {2}images\//.test(l)).join('\n')}\n`, encoding: 'utf8' });
      expect(recheck.status, recheck.stdout + recheck.stderr).toBe(0);
      expect(gpgvWith(publicKey, path.join(w.medium, 'CHECKSUMS.asc'), path.join(w.medium, 'CHECKSUMS'))).toBe(0);
    });

    itIf(unmet({ programs: ['strace'] }), 'a SIGKILL after the images swap, before the root list moved (strace delivers it): the next details finishes the moves', () => {
      const w = workspace(['checksums:', `  key: ${key}`, '  list: medium']);
      fs.mkdirSync(w.medium, { recursive: true });
      fs.writeFileSync(path.join(w.medium, 'CHECKSUMS'), `${'1'.repeat(64)}  boot/x86_64/loader/linux\n`);
      expect(build(w.compose).status).toBe(0);
      const log = path.join(w.dir, 'renames.log');
      const traced = (...extra: string[]): ReturnType<typeof spawnSync> =>
        spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=rename,renameat,renameat2', ...extra, process.execPath, BIN, 'build', w.compose, '--quiet', '--no-cache'], {
          encoding: 'utf8',
          env: { ...process.env, ...env() },
        });
      // A changed root, so that the new images differ; strace lists the renames of that build.
      fs.writeFileSync(path.join(w.dir, 'roots', 'a', 'etc', 'added'), 'new\n');
      expect(traced().status).toBe(0);
      const renames = fs.readFileSync(log, 'utf8').split('\n').filter((l) => / rename(at2?)?\(/.test(l));
      const swap = renames.findIndex((l) => /\.mediacompose-staging-\d+\/images", "[^"]*\/medium\/images"/.test(l)) + 1;
      const list = renames.findIndex((l) => /\.mediacompose-staging-\d+\/CHECKSUMS", "[^"]*\/medium\/CHECKSUMS"/.test(l)) + 1;
      expect(swap).toBeGreaterThan(0);
      expect(list).toBeGreaterThan(swap);
      const imageLines = (): string => fs.readFileSync(path.join(w.medium, 'CHECKSUMS'), 'utf8').split('\n').filter((l) => / {2}images\//.test(l)).join('\n');
      const matches = (): number => spawnSync('sha256sum', ['--check', '--strict'], { cwd: w.medium, input: `${imageLines()}\n`, encoding: 'utf8' }).status ?? -1;

      // The same build again, killed on the rename that would put the new root list in place.
      fs.writeFileSync(path.join(w.dir, 'roots', 'a', 'etc', 'added'), 'newer\n');
      const killed = traced(`--inject=rename,renameat,renameat2:signal=SIGKILL:when=${list}`);
      expect(killed.signal ?? killed.status).not.toBe(0);
      expect(matches()).not.toBe(0); // the new images/, the previous root list

      const r = run('details', w.medium);
      expect(r.stderr).toMatch(/finished the swap of a build interrupted after it: CHECKSUMS.* moved into place beside the new images/);
      expect(r.status, r.stderr).toBe(0);
      expect(matches()).toBe(0);
      const publicKey = path.join(work, 'exported-rollforward.key');
      exportKey(gnupg, key, publicKey);
      expect(gpgvWith(publicKey, path.join(w.medium, 'CHECKSUMS.asc'), path.join(w.medium, 'CHECKSUMS'))).toBe(0);
      // The medium as the killed build meant it: exact for the roots it was built from.
      expect(run('verify', w.compose).status).toBe(0);
    });

    it('replaces the HASH lines of images/ in MEDIUM/content', () => {
      const w = workspace(['checksums:', `  key: ${key}`, '  list: medium']);
      fs.mkdirSync(w.medium, { recursive: true });
      const head = ['PRODUCT openSUSE', 'VERSION 13.1', `HASH SHA256 ${'a'.repeat(64)}  boot/x86_64/loader/initrd`];
      fs.writeFileSync(path.join(w.medium, 'content'), `${head.join('\n')}\n`);
      expect(build(w.compose).status).toBe(0);
      const lines = fs.readFileSync(path.join(w.medium, 'content'), 'utf8').trimEnd().split('\n');
      expect(lines.slice(0, 3)).toEqual(head);
      const files = fs.readdirSync(w.images).filter((n) => !LIST_FILES.has(n)).sort();
      const expected = files.map((f) => `HASH SHA256 ${execFileSync('sha256sum', [path.join(w.images, f)], { encoding: 'utf8' }).slice(0, 64)}  images/${f}`);
      expect(lines.slice(3)).toEqual(expected);
      const publicKey = path.join(work, 'exported-content.key');
      exportKey(gnupg, key, publicKey);
      expect(gpgvWith(publicKey, path.join(w.medium, 'content.asc'), path.join(w.medium, 'content'))).toBe(0);
    });
  });

  describe('foreign root lists: every line that is not about images/ stays, byte for byte and in place', () => {
    const realContent = path.resolve(import.meta.dirname, '../fixtures/realworld/libzypp/images-file/content');
    const notImages = (text: string): string => text.split('\n').filter((l) => !/\simages\//.test(l)).join('\n');

    it('the openSUSE 11.1 DVD content (META, KEY and HASH SHA1 lines): build with list: medium, then details --sign-key', () => {
      const w = workspace(['checksums:', `  key: ${key}`, '  list: medium']);
      fs.mkdirSync(w.medium, { recursive: true });
      const original = fs.readFileSync(realContent, 'utf8');
      fs.writeFileSync(path.join(w.medium, 'content'), original);
      expect(build(w.compose).status).toBe(0);
      const publicKey = path.join(work, 'exported-111.key');
      exportKey(gnupg, key, publicKey);
      for (const step of ['build', 'details']) {
        const text = fs.readFileSync(path.join(w.medium, 'content'), 'utf8');
        expect(notImages(text), step).toBe(notImages(original));
        const firstImages = original.split('\n').findIndex((l) => /\simages\//.test(l));
        expect(text.split('\n')[firstImages], step).toMatch(/^HASH SHA256 [0-9a-f]{64} {2}images\//);
        const ours = text.split('\n').filter((l) => /\simages\//.test(l));
        expect(ours.map((l) => l.slice(78)), step).toEqual(fs.readdirSync(w.images).filter((n) => !LIST_FILES.has(n)).sort().map((f) => `images/${f}`));
        expect(gpgvWith(publicKey, path.join(w.medium, 'content.asc'), path.join(w.medium, 'content')), step).toBe(0);
        repack(path.join(w.images, 'common-x86_64.tar.gz'));
        expect(run('details', w.medium, '--sign-key', key).status).toBe(0);
      }
    });

    it('a product-composer CHECKSUMS (boot/, EFI/, docu/, media.1/ lines, no final newline)', () => {
      const w = workspace(['checksums:', `  key: ${key}`, '  list: medium']);
      fs.mkdirSync(w.medium, { recursive: true });
      const product = [
        `${'a'.repeat(64)}  EFI/BOOT/bootx64.efi`,
        `${'b'.repeat(64)}  boot/x86_64/loader/linux`,
        `${'c'.repeat(64)}  docu/RELEASE-NOTES.en.txt`,
        `${'d'.repeat(64)}  images/common-x86_64.tar.gz`,
        `${'e'.repeat(64)}  media.1/products`,
      ].join('\n');
      fs.writeFileSync(path.join(w.medium, 'CHECKSUMS'), product);
      expect(build(w.compose).status).toBe(0);
      const text = fs.readFileSync(path.join(w.medium, 'CHECKSUMS'), 'utf8');
      expect(notImages(text).replace(/\n$/, '')).toBe(notImages(product));
      expect(text.split('\n')[3]).toMatch(/^[0-9a-f]{64} {2}images\//);
      const publicKey = path.join(work, 'exported-product.key');
      exportKey(gnupg, key, publicKey);
      expect(gpgvWith(publicKey, path.join(w.medium, 'CHECKSUMS.asc'), path.join(w.medium, 'CHECKSUMS'))).toBe(0);
    });
  });

  describe('build failures leave the previous medium as it was', () => {
    function previous(): { w: ReturnType<typeof workspace>; before: Record<string, string> } {
      const w = workspace();
      expect(build(w.compose).status).toBe(0);
      return { w, before: fingerprint(w.images) };
    }

    it('an unknown key: exit 2, one line, before anything is compressed', () => {
      const { w, before } = previous();
      const r = mediacomposeWith({ ...env(), CI: 'true' }, 'build', w.compose, '--sign-key', '0xDEADBEEFDEADBEEF');
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`error: ${w.compose}: no secret key "0xDEADBEEFDEADBEEF" in the gpg keyring (gpg --list-secret-keys shows them; GNUPGHOME selects the keyring)\n`);
      expect(fingerprint(w.images)).toEqual(before);
      expect(fs.readdirSync(w.medium)).toEqual(['images']);
    });

    it('no gpg: exit 4, naming the Debian package', () => {
      const { w, before } = previous();
      const r = mediacomposeWith({ ...env(), PATH: path.join(work, 'empty-path') }, 'build', w.compose, '--quiet', '--sign-key', key);
      expect(r.status).toBe(4);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`error: ${w.compose}: gpg: program not found (install the Debian package gnupg)`);
      expect(fingerprint(w.images)).toEqual(before);
    });

    it('a keyring folder gpg cannot write to: exit 4 naming the folder, not a missing key', () => {
      const { w, before } = previous();
      // A copy of the keyring this user cannot write to: as root, owned by and run as nobody.
      const readOnly = path.join(work, 'gnupg-read-only');
      execFileSync('cp', ['-a', gnupg, readOnly]);
      const user = isRoot ? { uid: 65534, gid: 65534 } : {};
      if (isRoot) {
        fs.chmodSync(work, 0o755);
        execFileSync('chown', ['-R', '65534:65534', w.dir, readOnly]);
      }
      execFileSync('chmod', ['-R', 'a-w', readOnly]);
      const r = spawnSync(process.execPath, [BIN, 'build', w.compose, '--quiet', '--sign-key', key], {
        encoding: 'utf8', env: { ...process.env, GNUPGHOME: readOnly }, ...user,
      });
      expect(r.stderr).toBe(`error: ${w.compose}: gpg keyring folder ${readOnly} is not writable: gpg cannot lock the keyring or start gpg-agent there, so it finds no secret key (gpg writes lock files and the agent's socket into GNUPGHOME: sign as its owner, or set GNUPGHOME to a writable keyring that holds the key)\n`);
      expect(r.status).toBe(4);
      expect(fingerprint(w.images)).toEqual(before);
      expect(fs.readdirSync(w.medium)).toEqual(['images']);
    });

    it('a signature that cannot be made: exit 4, one line', () => {
      const { w, before } = previous();
      const r = build(w.compose, '--sign-key', lockedKey);
      expect(r.status).toBe(4);
      const last = r.stderr.trimEnd().split('\n');
      expect(last).toHaveLength(1);
      expect(last[0]!.startsWith(`error: ${path.join(w.images, 'CHECKSUMS')}: signing failed: gpg: exit status 2: `)).toBe(true);
      expect(fingerprint(w.images)).toEqual(before);
      expect(fs.readdirSync(w.medium)).toEqual(['images']);
    });
  });

  describe('build without a key', () => {
    it('writes no list and warns once; `checksums` prints the lines for the product list', () => {
      const w = workspace();
      const r = run('build', w.compose, '--quiet');
      expect(r.status).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: no checksums key'))).toHaveLength(1);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toHaveLength(1);
      expect(fs.readdirSync(w.images).filter((n) => n.startsWith('CHECKSUMS'))).toEqual([]);
      expect(fs.readFileSync(path.join(w.images, 'directory.yast'), 'utf8')).toBe(`${fs.readdirSync(w.images).sort().join('\n')}\n`);

      const files = fs.readdirSync(w.images).filter((n) => !LIST_FILES.has(n)).sort();
      const sums = files.map((f) => `${execFileSync('sha256sum', [path.join(w.images, f)], { encoding: 'utf8' }).slice(0, 64)}  images/${f}`);
      const c = run('checksums', w.medium);
      expect(c.status).toBe(0);
      expect(c.stdout).toBe(`${sums.join('\n')}\n\n${sums.map((l) => `HASH SHA256 ${l}`).join('\n')}\n`);
      // The CHECKSUMS form checks with sha256sum from the medium's root.
      const check = spawnSync('sha256sum', ['--check', '--strict'], { cwd: w.medium, input: c.stdout.split('\n\n')[0], encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
      const json = JSON.parse(run('checksums', w.medium, '--json').stdout);
      expect(json.checksums).toEqual(sums);
      expect(json.content).toEqual(sums.map((l) => `HASH SHA256 ${l}`));
      expect(json.files.map((f: { path: string }) => f.path)).toEqual(files.map((f) => `images/${f}`));
    });
  });
});
