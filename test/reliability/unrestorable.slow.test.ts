/**
 * What a root may hold that the installer cannot restore: sockets (skipped), file capabilities,
 * ACLs and other extended attributes (its tar runs without --xattrs and --acls). Each is a
 * warning naming the files; --strict makes them an error, exit 3, before anything is written.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetfattrParser, readRootAttributes, unescapeOctal } from '../../src/scan/xattrs.js';
import { onPath } from '../../src/runtime/command.js';
import { addPackageDatabase, buildOk, composeYaml, fingerprint, mediacompose, mediacomposeWith, writeCompose } from '../support/build.js';
import { describeIf, unmet } from '../support/needs.js';
import { makeSocket } from '../support/tree.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-unrestorable-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Whether this file system takes user.* extended attributes and the attr tools are installed. */
const xattrsWork = ((): boolean => {
  if (!onPath('setfattr') || !onPath('getfattr')) return false;
  const probe = path.join(work, 'probe');
  fs.writeFileSync(probe, '');
  try {
    execFileSync('setfattr', ['-n', 'user.probe', '-v', '1', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe);
  }
})();

function setfattr(file: string, name: string, value: string): void {
  execFileSync('setfattr', ['-n', name, '-v', value, file]);
}

/** A file capability of cap_net_raw+ep, as `setcap cap_net_raw+ep` writes it (VFS_CAP_REVISION_2). */
const CAP_NET_RAW = '0x0100000200200000000000000000000000000000';
/** An access ACL with a named user 1000 (user::rw-, user:1000:r--, group::r--, mask::r--, other::r--). */
const ACL_USER_1000 = '0x0200000001000600ffffffff02000400e803000004000400ffffffff10000400ffffffff20000400ffffffff';

describe('getfattr output', () => {
  it('undoes the octal escapes of backslash, newline and carriage return', () => {
    expect(unescapeOctal('a\\012b\\134c\\015')).toBe('a\nb\\c\r');
    expect(unescapeOctal('plain')).toBe('plain');
  });

  it('parses listings split anywhere, keeping names as bytes and skipping the root and SELinux labels', () => {
    const root = '/roots/ké';
    const rootBytes = Buffer.from(root, 'utf8').toString('latin1');
    const text =
      `# file: ${rootBytes}\nuser.on-the-root\n\n` +
      `# file: ${rootBytes}/usr/bin/ping\nsecurity.capability\nsecurity.selinux\n\n` +
      `# file: ${rootBytes}/odd\\012name\\134x\nuser.a\nuser.b\n\n` +
      `# file: ${rootBytes}/\xff\nuser.a\n`;
    const parser = new GetfattrParser(root);
    for (let i = 0; i < text.length; i += 7) parser.push(text.slice(i, i + 7));
    expect(Object.fromEntries(parser.end())).toEqual({
      'security.capability': ['usr/bin/ping'],
      'user.a': ['odd\nname\\x', '\xff'],
      'user.b': ['odd\nname\\x'],
    });
  });
});

describeIf(xattrsWork ? undefined : 'needs getfattr and setfattr (package attr) and user xattrs on the temporary folder', 'readRootAttributes with the real getfattr', () => {
  it('finds the attributes of files with any name, not following symlinks', async () => {
    const root = fs.mkdtempSync(path.join(work, 'root-'));
    fs.mkdirSync(path.join(root, 'dir'));
    fs.writeFileSync(path.join(root, 'dir', 'new\nline'), '');
    fs.writeFileSync(path.join(root, 'back\\slash'), '');
    fs.writeFileSync(Buffer.from(`${root}/\xff-latin1`, 'latin1'), '');
    fs.symlinkSync('/etc', path.join(root, 'link'));
    setfattr(path.join(root, 'dir', 'new\nline'), 'user.one', '1');
    setfattr(path.join(root, 'back\\slash'), 'user.two', '2');
    execFileSync('bash', ['-c', 'setfattr -n user.one -v 1 "$1/$(printf "\\377")-latin1"', '-', root]);
    setfattr(root, 'user.root-itself', '1');
    const checked = await readRootAttributes(root);
    expect(checked.incomplete).toBeUndefined();
    expect(Object.fromEntries(checked.attributes)).toEqual({
      'user.one': expect.arrayContaining(['dir/new\nline', '\xff-latin1']),
      'user.two': ['back\\slash'],
    });
    expect(checked.attributes.get('user.one')).toHaveLength(2);
  });
});

describe('build: what the installer cannot restore', () => {
  let root: string;
  beforeAll(() => {
    root = path.join(work, 'roots', 'a');
    fs.mkdirSync(path.join(root, 'run'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr', 'bin', 'ping'), 'ping\n');
    fs.mkdirSync(path.join(work, 'roots', 'b'), { recursive: true });
    fs.writeFileSync(path.join(work, 'roots', 'b', 'hostname'), 'b\n');
    for (const name of ['a', 'b']) addPackageDatabase(path.join(work, 'roots', name));
    makeSocket(path.join(root, 'run', 'sock'));
  });

  /** The socket tests check no attributes; the attribute tests (and the missing getfattr) do. */
  const compose = (checkAttributes = false): string =>
    writeCompose(
      work,
      composeYaml({
        medium: 'out',
        compression: 'gzip',
        imagesets: [
          { name: 'a', patterns: ['base'], root: 'roots/a' },
          { name: 'b', patterns: ['b'], root: 'roots/b' },
        ],
        checkAttributes,
      }),
    );

  it('skips a socket with a warning naming it', () => {
    const r = mediacompose('build', compose(), '--quiet');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`warning: ${root}/run/sock: socket skipped (sockets cannot be archived)\n`);
    const members = execFileSync('tar', ['-tzf', path.join(work, 'out', 'images', 'a-x86_64.tar.gz')], { encoding: 'utf8' });
    expect(members).toContain('usr/bin/ping');
    expect(members).not.toContain('run/sock');
  });

  it('fails with --strict, exit 3, and leaves the previous medium as it was', () => {
    buildOk(compose());
    const before = fingerprint(path.join(work, 'out', 'images'));
    const r = mediacompose('build', compose(), '--quiet', '--strict');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(
      `error: ${path.join(work, 'compose.yaml')}: --strict: 1 warning about the roots, the first: ${root}/run/sock: socket skipped ` +
        '(sockets cannot be archived) (fix the roots as the warnings say, or build without --strict)\n',
    );
    expect(fingerprint(path.join(work, 'out', 'images'))).toEqual(before);
    expect(fs.readdirSync(path.join(work, 'out'))).toEqual(['images']);
  });

  it('says once that extended attributes were not checked when getfattr is missing', () => {
    const r = mediacomposeWith({ PATH: '/nonexistent' }, 'build', compose(true), '--quiet');
    expect(r.status).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('getfattr'));
    expect(warnings).toEqual(['warning: extended attributes and ACLs of the roots were not checked: getfattr not found (install the "attr" package)']);
  });

  describeIf(xattrsWork ? unmet({ root: true }) : 'needs getfattr and setfattr (package attr) and xattrs on the temporary folder', 'extended attributes', () => {
    beforeAll(() => {
      setfattr(path.join(root, 'usr', 'bin', 'ping'), 'security.capability', CAP_NET_RAW);
      setfattr(path.join(root, 'run'), 'system.posix_acl_access', ACL_USER_1000);
      setfattr(path.join(root, 'usr'), 'user.comment', 'kept by nobody');
      setfattr(path.join(root, 'usr', 'bin', 'ping'), 'user.comment', 'kept by nobody');
    });

    it('warns about capabilities, ACLs and other attributes, listing the files', () => {
      const r = mediacompose('build', compose(true), '--quiet');
      expect(r.status).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: ') && !l.startsWith('warning: no checksums key'));
      expect(warnings).toEqual([
        `warning: ${root}/run/sock: socket skipped (sockets cannot be archived)`,
        `warning: ${root}: file capabilities (security.capability) on 1 file, which the installer's tar does not restore ` +
          '(the programs then fail without them, e.g. ping): usr/bin/ping',
        `warning: ${root}: ACLs on 1 entry, which the installer's tar does not restore: run`,
        `warning: ${root}: extended attributes (user.comment) on 2 entries, which the installer's tar does not restore: usr, usr/bin/ping`,
      ]);
    });

    it('fails with --strict, counting every warning', () => {
      const before = fingerprint(path.join(work, 'out', 'images'));
      const r = mediacompose('build', compose(true), '--quiet', '--strict');
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/^error: .*compose\.yaml: --strict: 4 warnings about the roots, the first: .*run\/sock: socket skipped/m);
      expect(fingerprint(path.join(work, 'out', 'images'))).toEqual(before);
    });

    it('fails with --strict on a file capability alone', () => {
      fs.rmSync(path.join(root, 'run'), { recursive: true });
      execFileSync('setfattr', ['-x', 'user.comment', path.join(root, 'usr')]);
      execFileSync('setfattr', ['-x', 'user.comment', path.join(root, 'usr', 'bin', 'ping')]);
      const r = mediacompose('build', compose(true), '--quiet', '--strict');
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(`: --strict: 1 warning about the roots, the first: ${root}: file capabilities (security.capability) on 1 file`);
      expect(r.stderr).toContain(': usr/bin/ping (fix the roots as the warnings say, or build without --strict)');
    });
  });
});
