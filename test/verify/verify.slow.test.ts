/**
 * `mediacompose verify` as a user meets it: a medium built by the CLI from small roots, then
 * exactly one thing made wrong (in a root after the build, or on the medium), and verify must
 * name that one thing: the imageset, the path and what differs, with the documented exit status.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHeader } from '../../src/model/tar-header.js';
import { buildOk, mediacompose, writeTwoImagesetCompose } from '../support/build.js';
import { isRoot } from '../support/installer.js';

const T = 1_500_000_000;

let work: string;
let template: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-verify-'));
  template = path.join(work, 'template');
  makeRoot(path.join(template, 'a'), 'a');
  makeRoot(path.join(template, 'b'), 'b');
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A small root: shared and own files, a symlink, a hardlink pair, a FIFO, a device when root. */
function makeRoot(root: string, name: string): void {
  const write = (rel: string, content: string | Buffer, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
    fs.chmodSync(path.join(root, rel), mode);
  };
  write('etc/os-release', 'NAME=demo\n');
  write('etc/hostname', `host-${name}-unique-content\n`);
  write('usr/bin/tool', '#!/bin/sh\necho tool\n', 0o755);
  write('usr/share/doc/readme.txt', Buffer.alloc(20_000, 'documentation '));
  fs.mkdirSync(path.join(root, 'usr/lib'));
  fs.symlinkSync('../bin/tool', path.join(root, 'usr/lib/tool-link'));
  write('links/one', 'linked\n');
  fs.linkSync(path.join(root, 'links/one'), path.join(root, 'links/two'));
  fs.mkdirSync(path.join(root, 'dev'));
  execFileSync('mkfifo', [path.join(root, 'dev/fifo')]);
  if (isRoot) execFileSync('mknod', ['-m', '0666', path.join(root, 'dev/null'), 'c', '1', '3']);
  write('var/lib/dpkg/status', `Package: ${name}\n`);
  execFileSync('find', [root, '-depth', '-exec', 'touch', '-h', '-d', `@${T}`, '{}', '+']);
}

/** Sets an mtime back, so that a change to a root is exactly one change. */
function touch(file: string, seconds = T): void {
  execFileSync('touch', ['-h', '-d', `@${seconds}`, file]);
}

interface Fixture {
  compose: string;
  images: string;
  root(name: 'a' | 'b'): string;
}

/** Fresh copies of the roots and a medium built from them (gzip: easy to take apart). */
function builtMedium(): Fixture {
  const dir = fs.mkdtempSync(path.join(work, 'case-'));
  execFileSync('cp', ['-a', template, path.join(dir, 'roots')]);
  const compose = writeTwoImagesetCompose(dir);
  buildOk(compose);
  return { compose, images: path.join(dir, 'medium', 'images'), root: (name) => path.join(dir, 'roots', name) };
}

interface Problem {
  imageset: string | null;
  path: string;
  what: string;
}

function verifyJson(compose: string): { status: number; problems: Problem[]; doc: any; stderr: string } {
  const r = mediacompose('verify', compose, '--json');
  const doc = JSON.parse(r.stdout);
  return { status: r.status, problems: doc.problems, doc, stderr: r.stderr };
}

/** Rewrites a gzip archive's uncompressed tar stream. */
function editArchive(file: string, edit: (tar: Buffer) => Buffer): Buffer {
  const tar = edit(zlib.gunzipSync(fs.readFileSync(file)));
  fs.writeFileSync(file, zlib.gzipSync(tar));
  return tar;
}

/** Rewrites one number of an archive's entry in details-x86_64.xml; returns the old one. */
function setDetails(images: string, file: string, field: 'size' | 'files', value: number): number {
  const details = path.join(images, 'details-x86_64.xml');
  const xml = fs.readFileSync(details, 'utf8');
  const entry = new RegExp(`(<file>${file.replaceAll('.', '\\.')}</file>[\\s\\S]*?<${field}>)(\\d+)(</${field}>)`);
  const old = entry.exec(xml);
  expect(old).not.toBeNull();
  fs.writeFileSync(details, xml.replace(entry, `$1${value}$3`));
  return Number(old![2]);
}

/** Makes details-x86_64.xml tell the truth about an archive that was rewritten. */
function describeInDetails(images: string, file: string, tar: Buffer): void {
  const members = execFileSync('tar', ['-tf', '-'], { input: tar, encoding: 'latin1', stdio: ['pipe', 'pipe', 'ignore'] }).trim().split('\n');
  setDetails(images, file, 'size', tar.length);
  setDetails(images, file, 'files', members.length);
}

/** A file member (header, content, padding) as the archive writer encodes it. */
/** Who owns what the tests add to a root: the user running them. */
const OWNER = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

function fileMember(name: string, content: string, extra: { type?: 'file' | 'link'; linkname?: string } = {}): Buffer {
  const body = Buffer.from(extra.type === 'link' ? '' : content);
  const header = encodeHeader({ path: name, type: extra.type ?? 'file', mode: 0o644, uid: OWNER.uid, gid: OWNER.gid, mtime: T, size: body.length, linkname: extra.linkname });
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** Where a tar stream's members end: the first zero block where a header would be. */
function endOfMembers(tar: Buffer): number {
  let at = 0;
  while (!tar.subarray(at, at + 512).every((b) => b === 0)) {
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1'), 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return at;
}

/** Members put after the last member of a tar stream, before its end-of-archive blocks. */
function append(tar: Buffer, members: Buffer[]): Buffer {
  const end = endOfMembers(tar);
  const joined = Buffer.concat([tar.subarray(0, end), ...members, Buffer.alloc(1024)]);
  return Buffer.concat([joined, Buffer.alloc((10240 - (joined.length % 10240)) % 10240)]);
}

/** Members put in front of a tar stream, zero-padded back to whole 10240-byte records. */
function prepend(tar: Buffer, members: Buffer[]): Buffer {
  const joined = Buffer.concat([...members, tar]);
  return Buffer.concat([joined, Buffer.alloc((10240 - (joined.length % 10240)) % 10240)]);
}

describe('mediacompose verify: a correct medium', () => {
  it('passes with exit 0, a summary line and a JSON document', () => {
    const { compose } = builtMedium();
    const text = mediacompose('verify', compose);
    expect(text.stderr).not.toMatch(/^error/m);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^verify: exact: the medium deploys every imageset as its root: a \(\d+ entries\), b \(\d+ entries\); in \d+\.\ds\n$/);
    const { status, doc } = verifyJson(compose);
    expect(status).toBe(0);
    expect(doc).toMatchObject({ ok: true, problems: [], unreadable: [] });
    expect(doc.imagesets).toEqual([
      expect.objectContaining({ name: 'a', arch: 'x86_64', compared: true, differences: 0, images: ['common-x86_64.tar.gz', 'a-x86_64.tar.gz', 'a-meta-x86_64.tar.gz'] }),
      expect.objectContaining({ name: 'b', arch: 'x86_64', compared: true, differences: 0, images: ['common-x86_64.tar.gz', 'b-x86_64.tar.gz', 'b-meta-x86_64.tar.gz'] }),
    ]);
    expect(typeof doc.seconds).toBe('number');
  });

  it('exits 2 on a compose error and 3 when the medium was never built', () => {
    expect(mediacompose('verify', path.join(work, 'no-such-compose.yaml')).status).toBe(2);
    const { compose, images } = builtMedium();
    fs.rmSync(images, { recursive: true });
    const r = mediacompose('verify', compose);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^error: .*images\/images\.xml: cannot read: no such file or directory \(build the medium first/m);
  });
});

describe('mediacompose verify: one thing changed in a root after the build', () => {
  it('names a file whose content changed (same size, same mtime)', () => {
    const m = builtMedium();
    const file = path.join(m.root('a'), 'etc/os-release');
    fs.writeFileSync(file, 'NAME=Demo\n');
    touch(file);
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([{ imageset: 'a', path: 'etc/os-release', what: expect.stringMatching(/^content differs: sha256 \w+… in the root, sha256 \w+… deployed \(from common-x86_64\.tar\.gz\)$/) }]);
  });

  it('names a mode change', () => {
    const m = builtMedium();
    fs.chmodSync(path.join(m.root('b'), 'usr/bin/tool'), 0o4711);
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([{ imageset: 'b', path: 'usr/bin/tool', what: 'mode differs: 4711 in the root, 0755 deployed (from common-x86_64.tar.gz)' }]);
  });

  it.skipIf(!isRoot)('names an owner change (needs root)', () => {
    const m = builtMedium();
    fs.lchownSync(path.join(m.root('a'), 'etc/hostname'), 1234, 5678);
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([{ imageset: 'a', path: 'etc/hostname', what: 'owner differs: 1234:5678 in the root, 0:0 deployed (from a-x86_64.tar.gz)' }]);
  });

  it('names an mtime change of one second', () => {
    const m = builtMedium();
    touch(path.join(m.root('a'), 'usr/share/doc/readme.txt'), T + 1);
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([
      { imageset: 'a', path: 'usr/share/doc/readme.txt', what: 'mtime differs: 1500000001 (2017-07-14T02:40:01Z) in the root, 1500000000 (2017-07-14T02:40:00Z) deployed (from common-x86_64.tar.gz)' },
    ]);
  });

  it('names a symlink whose target changed', () => {
    const m = builtMedium();
    const link = path.join(m.root('b'), 'usr/lib/tool-link');
    fs.unlinkSync(link);
    fs.symlinkSync('../bin/other', link);
    touch(link);
    touch(path.dirname(link));
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([{ imageset: 'b', path: 'usr/lib/tool-link', what: 'symlink target differs: "../bin/other" in the root, "../bin/tool" deployed (from common-x86_64.tar.gz)' }]);
  });

  it('names a file added to a root', () => {
    const m = builtMedium();
    fs.writeFileSync(path.join(m.root('a'), 'etc/added.conf'), 'new\n');
    touch(path.join(m.root('a'), 'etc'));
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([{ imageset: 'a', path: 'etc/added.conf', what: 'in the root (file), not deployed' }]);
  });

  it('names a file removed from a root', () => {
    const m = builtMedium();
    fs.rmSync(path.join(m.root('b'), 'etc/hostname'));
    touch(path.join(m.root('b'), 'etc'));
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([{ imageset: 'b', path: 'etc/hostname', what: 'deployed (file from b-x86_64.tar.gz), not in the root' }]);
  });

  it('names a hardlink group that was split', () => {
    const m = builtMedium();
    const two = path.join(m.root('a'), 'links/two');
    fs.rmSync(two);
    execFileSync('cp', ['-p', path.join(m.root('a'), 'links/one'), two]);
    touch(path.dirname(two));
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([{ imageset: 'a', path: 'links/one', what: 'hard links differ: not linked in the root, linked with links/two deployed' }]);
  });

  it.skipIf(!isRoot)('names changed device numbers (needs root)', () => {
    const m = builtMedium();
    const dev = path.join(m.root('a'), 'dev/null');
    fs.rmSync(dev);
    execFileSync('mknod', ['-m', '0666', dev, 'c', '1', '5']);
    touch(dev);
    touch(path.dirname(dev));
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([{ imageset: 'a', path: 'dev/null', what: 'device numbers differ: 1:5 in the root, 1:3 deployed (from common-x86_64.tar.gz)' }]);
  });

  it('prints the first 50 differences, counts the rest, and ends with a summary', () => {
    const m = builtMedium();
    fs.mkdirSync(path.join(m.root('a'), 'extra'));
    for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(m.root('a'), 'extra', `f${String(i).padStart(2, '0')}`), `${i}\n`);
    const r = mediacompose('verify', m.compose);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(52);
    expect(lines[0]).toBe('verify: a: extra: in the root (directory), not deployed');
    expect(lines[1]).toBe('verify: a: extra/f00: in the root (file), not deployed');
    expect(lines[50]).toBe('verify: and 11 more (--json lists all)');
    expect(lines[51]).toMatch(/^verify: 61 differences \(a 61\); in \d+\.\ds$/);
    expect(verifyJson(m.compose).problems).toHaveLength(61);
  });
});

describe('mediacompose verify: one thing wrong on the medium', () => {
  it('reports a truncated archive by name, with exit 3', () => {
    const m = builtMedium();
    const file = path.join(m.images, 'common-x86_64.tar.gz');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    const { status, doc, problems, stderr } = verifyJson(m.compose);
    expect(status).toBe(3);
    expect(stderr).toMatch(/^error: .*\/images\/common-x86_64\.tar\.gz: /m);
    expect(doc.unreadable).toEqual([file]);
    expect(problems).toEqual([{ imageset: null, path: 'images/common-x86_64.tar.gz', what: expect.stringMatching(/^unreadable: cannot read the archive: /) }]);
    expect(doc.imagesets.map((s: { compared: boolean }) => s.compared)).toEqual([false, false]);
    const text = mediacompose('verify', m.compose);
    expect(text.status).toBe(3);
    expect(text.stdout).toMatch(/^verify: \(medium\): images\/common-x86_64\.tar\.gz: unreadable: /m);
    expect(text.stdout).toMatch(/not compared \(no deployable tree\): a, b/);
  });

  it('names the member whose content bytes were flipped inside an archive', () => {
    const m = builtMedium();
    editArchive(path.join(m.images, 'a-x86_64.tar.gz'), (tar) => {
      const at = tar.indexOf('host-a-unique-content');
      expect(at).toBeGreaterThan(0);
      tar[at] = tar[at]! ^ 0x20; // 'h' -> 'H': the header checksum does not cover content
      return tar;
    });
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([{ imageset: 'a', path: 'etc/hostname', what: expect.stringMatching(/^content differs: .* deployed \(from a-x86_64\.tar\.gz\)$/) }]);
  });

  it('names an archive that is missing, for the imageset that lists it', () => {
    const m = builtMedium();
    fs.rmSync(path.join(m.images, 'b-meta-x86_64.tar.gz'));
    const { status, problems, doc } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([{ imageset: 'b', path: 'images/b-meta-x86_64.tar.gz', what: 'listed in images.xml but missing from the medium: the installer aborts' }]);
    expect(doc.imagesets.map((s: { compared: boolean }) => s.compared)).toEqual([true, false]);
  });

  it('names a wrong size in details', () => {
    const m = builtMedium();
    const size = setDetails(m.images, 'common-x86_64.tar.gz', 'size', 0);
    setDetails(m.images, 'common-x86_64.tar.gz', 'size', size + 10240);
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([
      { imageset: null, path: 'images/details-x86_64.xml', what: `common-x86_64.tar.gz: size ${size + 10240}, but the archive is ${size} bytes uncompressed` },
    ]);
  });

  it('names two imagesets with the same patterns string', () => {
    const m = builtMedium();
    const imagesXml = path.join(m.images, 'images.xml');
    fs.writeFileSync(imagesXml, fs.readFileSync(imagesXml, 'utf8').replace('<patterns>base,b</patterns>', '<patterns>base</patterns>'));
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual(
      expect.arrayContaining([
        { imageset: 'a', path: 'images/images.xml', what: 'a and b have the same patterns "base" for x86_64: the installer keeps only b' },
        { imageset: 'a', path: 'images/images.xml', what: 'for exactly its patterns (base) on x86_64 the installer chooses b' },
        { imageset: 'b', path: 'images/images.xml', what: 'patterns "base", compose.yaml says "base,b"' },
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('names a list that lacks config:type="list"', () => {
    const m = builtMedium();
    const imagesXml = path.join(m.images, 'images.xml');
    const xml = fs.readFileSync(imagesXml, 'utf8');
    fs.writeFileSync(imagesXml, xml.replace('<images config:type="list">', '<images>'));
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([
      { imageset: null, path: 'images/images.xml', what: 'image_set 1: <images> lacks config:type="list": the installer reads it as a map and loses items' },
    ]);
  });

  it('names a metadata image that is not extracted last (the tree itself stays exact)', () => {
    const m = builtMedium();
    const imagesXml = path.join(m.images, 'images.xml');
    const xml = fs.readFileSync(imagesXml, 'utf8');
    const own = /\s*<image>\s*<name>A<\/name>[\s\S]*?<\/image>/.exec(xml)![0];
    const meta = /\s*<image>\s*<name>A \[meta\]<\/name>[\s\S]*?<\/image>/.exec(xml)![0];
    fs.writeFileSync(imagesXml, xml.replace(own + meta, meta + own));
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([
      { imageset: 'a', path: 'images/images.xml', what: 'the metadata image a-meta-x86_64.tar.gz is not listed last (the last is a-x86_64.tar.gz)' },
    ]);
  });

  it('names a directory that an archive changes after its metadata was set: tar leaves the time of extraction', () => {
    const m = builtMedium();
    const root = m.root('a');
    fs.writeFileSync(path.join(root, 'etc/late'), 'late\n');
    fs.chmodSync(path.join(root, 'etc/late'), 0o644);
    touch(path.join(root, 'etc/late'));
    touch(path.join(root, 'etc'));
    // The metadata image sets etc/ early; a member added to etc/ at its end changes etc's mtime.
    const tar = editArchive(path.join(m.images, 'a-meta-x86_64.tar.gz'), (t) => append(t, [fileMember('etc/late', 'late\n')]));
    describeInDetails(m.images, 'a-meta-x86_64.tar.gz', tar);
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([
      {
        imageset: 'a',
        path: 'etc',
        what: 'mtime differs: 1500000000 (2017-07-14T02:40:00Z) in the root, the time of extraction (an entry was added to it after its metadata was set) deployed (from a-meta-x86_64.tar.gz)',
      },
    ]);
  });

  // Exactly these problems and no other: a member applied anyway would show as "deployed, not in the root".
  it('reports absolute and ".." member names and never applies them', () => {
    const m = builtMedium();
    const file = path.join(m.images, 'a-x86_64.tar.gz');
    const tar = editArchive(file, (t) =>
      prepend(t, [fileMember('../escape', 'out\n'), fileMember('/abs/x', 'abs\n'), fileMember('links/evil', '', { type: 'link', linkname: '../../etc/passwd' })]),
    );
    describeInDetails(m.images, 'a-x86_64.tar.gz', tar);
    const { status, problems } = verifyJson(m.compose);
    expect(status).toBe(1);
    expect(problems).toEqual([
      { imageset: null, path: 'images/a-x86_64.tar.gz', what: 'member "../escape": a name with ".."; never applied' },
      { imageset: null, path: 'images/a-x86_64.tar.gz', what: 'member "/abs/x": an absolute name; never applied' },
      { imageset: null, path: 'images/a-x86_64.tar.gz', what: 'member "links/evil": hard link to "../../etc/passwd", a name with ".."; never applied' },
    ]);
  });

  it('names a directory that no image holds before its contents (tar makes it with default metadata)', () => {
    const m = builtMedium();
    // After the build the root gains new/file; a-x86_64 gets the file but not its directory.
    const root = m.root('a');
    fs.mkdirSync(path.join(root, 'new'));
    fs.writeFileSync(path.join(root, 'new/file'), 'new\n');
    touch(path.join(root, 'new/file'));
    touch(path.join(root, 'new'));
    const file = path.join(m.images, 'a-x86_64.tar.gz');
    const tar = editArchive(file, (t) => prepend(t, [fileMember('new/file', 'new\n')]));
    describeInDetails(m.images, 'a-x86_64.tar.gz', tar);
    const { problems } = verifyJson(m.compose);
    expect(problems).toEqual([
      { imageset: 'a', path: 'new', what: expect.stringMatching(/^no image has this directory before its contents \(first needed by a-x86_64\.tar\.gz\): tar creates a directory with owner 0:0/) },
    ]);
  });
});
