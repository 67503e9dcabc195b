/**
 * One reader of the medium: a medium edited by hand (archs written with odd separators, an
 * archive repacked with `./` member names, a stale size) and `details --check` and `verify` must
 * say the same thing about which details entries are stale, with the same numbers.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildOk, mediacompose, writeTwoImagesetCompose } from '../support/build.js';

const T = 1_500_000_000;

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-agree-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function makeRoot(root: string, name: string): void {
  for (const [rel, content] of [
    ['etc/os-release', 'NAME=demo\n'],
    ['etc/hostname', `host-${name}\n`],
    ['usr/bin/tool', '#!/bin/sh\necho tool\n'],
    [`usr/share/${name}/data`, `data of ${name}\n`.repeat(100)],
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  execFileSync('find', [root, '-depth', '-exec', 'touch', '-h', '-d', `@${T}`, '{}', '+']);
}

/** Repacks a gzip archive with GNU tar, every member name (and hardlink target) prefixed './'. */
function repackWithDotSlash(file: string): void {
  const names = execFileSync('tar', ['-tzf', file], { encoding: 'latin1' }).trim().split('\n');
  const tmp = fs.mkdtempSync(path.join(work, 'x-'));
  execFileSync('tar', ['-xpzf', file, '-C', tmp]);
  execFileSync('tar', ['--format=gnu', '--no-recursion', '--transform=s,^,./,S', '-C', tmp, '-czf', file, ...names]);
  const repacked = execFileSync('tar', ['-tzf', file], { encoding: 'latin1' }).trim().split('\n');
  expect(repacked.every((n) => n.startsWith('./'))).toBe(true);
}

interface Stale {
  file: string;
  field: 'size' | 'files';
  medium: string;
  archive: string;
}

/** `details-x86_64.xml: <file>: size 1 on the medium, 2 in the archive` */
function fromDetails(stdout: string): Stale[] {
  return [...stdout.matchAll(/^details-x86_64\.xml: (\S+): (size|files) (\d+) on the medium, (\d+) in the archive$/gm)].map((m) => ({
    file: m[1]!,
    field: m[2] as Stale['field'],
    medium: m[3]!,
    archive: m[4]!,
  }));
}

/** `<file>: size 1, but the archive is 2 bytes uncompressed` / `<file>: files 1, but the archive has 2 members` */
function fromVerify(problems: Array<{ path: string; what: string }>): Stale[] {
  return problems
    .filter((p) => p.path === 'images/details-x86_64.xml')
    .map((p) => /^(\S+): (size|files) (\d+), but the archive (?:is|has) (\d+) /.exec(p.what))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: m[1]!, field: m[2] as Stale['field'], medium: m[3]!, archive: m[4]! }));
}

const byKey = (a: Stale, b: Stale): number => `${a.file} ${a.field}`.localeCompare(`${b.file} ${b.field}`);

/** A medium of two imagesets built in `dir`; its compose.yaml and images folder. */
function builtMedium(dir: string): { compose: string; images: string } {
  makeRoot(path.join(dir, 'roots/a'), 'a');
  makeRoot(path.join(dir, 'roots/b'), 'b');
  const compose = writeTwoImagesetCompose(dir);
  buildOk(compose);
  return { compose, images: path.join(dir, 'medium/images') };
}

/** Rewrites the number in the first match of `entry` (three groups: before, number, after). */
function editNumber(file: string, entry: RegExp, edit: (n: string) => string): void {
  const text = fs.readFileSync(file, 'utf8');
  expect(entry.test(text)).toBe(true);
  fs.writeFileSync(file, text.replace(entry, (_m, a: string, n: string, b: string) => `${a}${edit(n)}${b}`));
}

it('details --check and verify report the same stale details entries of a hand-edited medium', () => {
  const { compose, images } = builtMedium(work);

  // archs with odd separators: the installer splits on ' ' and ',' and keeps empty fields.
  const imagesXml = path.join(images, 'images.xml');
  const xml = fs.readFileSync(imagesXml, 'utf8');
  expect(xml).toContain('<archs>x86_64</archs>');
  fs.writeFileSync(imagesXml, xml.replaceAll('<archs>x86_64</archs>', '<archs>x86_64 ,</archs>'));

  // One archive repacked by hand with './' names; another entry's size made stale.
  repackWithDotSlash(path.join(images, 'a-x86_64.tar.gz'));
  editNumber(path.join(images, 'details-x86_64.xml'), /(<file>common-x86_64\.tar\.gz<\/file>[\s\S]*?<size>)(\d+)(<\/size>)/, (n) => String(Number(n) + 10240));

  const checked = mediacompose('details', path.join(work, 'medium'), '--check');
  expect(checked.status, checked.stderr).toBe(1);
  const verified = mediacompose('verify', compose, '--json');
  expect(verified.status, verified.stderr).toBe(1);

  const saidByDetails = fromDetails(checked.stdout).sort(byKey);
  const saidByVerify = fromVerify(JSON.parse(verified.stdout).problems).sort(byKey);
  expect(saidByDetails.some((s) => s.file === 'common-x86_64.tar.gz' && s.field === 'size')).toBe(true);
  expect(saidByVerify).toEqual(saidByDetails);
  // Both read the repacked archive's './' names as the installer's tar does: no other complaint
  // about it from verify than what details says.
  const aProblems = JSON.parse(verified.stdout).problems.filter((p: { path: string }) => p.path === 'images/a-x86_64.tar.gz');
  expect(aProblems).toEqual([]);
  // And both treat 'x86_64 ,' as x86_64: details --check names no other arch's file.
  expect(checked.stdout).not.toMatch(/details-(?!x86_64)/);
});

it('a count written otherwise than plain decimal is stale for both, with the same numbers', () => {
  const dir = path.join(work, 'octal');
  const { compose, images } = builtMedium(dir);
  // '0<n>' is the same number to Number(), but the installer reads a leading 0 as octal.
  editNumber(path.join(images, 'details-x86_64.xml'), /(<file>a-x86_64\.tar\.gz<\/file>[\s\S]*?<files>)(\d+)(<\/files>)/, (n) => `0${n}`);

  const checked = mediacompose('details', path.join(dir, 'medium'), '--check');
  expect(checked.status, checked.stderr).toBe(1);
  const verified = mediacompose('verify', compose, '--json');
  expect(verified.status, verified.stderr).toBe(1);
  const saidByDetails = fromDetails(checked.stdout);
  expect(saidByDetails).toEqual([{ file: 'a-x86_64.tar.gz', field: 'files', medium: expect.stringMatching(/^0\d+$/), archive: expect.stringMatching(/^\d+$/) }]);
  expect(saidByDetails[0]!.medium).toBe(`0${saidByDetails[0]!.archive}`);
  expect(fromVerify(JSON.parse(verified.stdout).problems)).toEqual(saidByDetails);
});
