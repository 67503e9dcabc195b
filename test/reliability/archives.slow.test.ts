/**
 * Untrusted archives: a truncated or corrupt archive in each format, fed to `details`,
 * `details --check` and `verify`. Each names the archive in one line and exits 3, and the medium
 * keeps its bytes (details rewrites nothing, no lock is left behind).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, fingerprint, mediacompose, writeCompose } from '../support/build.js';

const FORMATS = ['xz', 'lzma', 'bzip2', 'gzip'] as const;
type Format = (typeof FORMATS)[number];
const EXTENSION: Record<Format, string> = { xz: 'tar.xz', lzma: 'tar.lzma', bzip2: 'tar.bzip2', gzip: 'tar.gz' };

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-archives-'));
  for (const name of ['a', 'b']) {
    const root = path.join(work, 'roots', name);
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr', 'share'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'hostname'), `${name}\n`);
    // The shared image must be long enough that cutting it in half cuts compressed data.
    fs.writeFileSync(path.join(root, 'usr', 'share', 'numbers'), Array.from({ length: 50_000 }, (_, i) => `${i * 7919}\n`).join(''));
  }
  for (const format of FORMATS) buildOk(composeFor(format, path.join(work, `built-${format}`)));
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function composeFor(format: Format, medium: string): string {
  const dir = fs.mkdtempSync(path.join(work, `compose-${format}-`));
  return writeCompose(
    dir,
    `version: 1
medium: ${medium}
compression: ${format}
arch: x86_64
imagesets:
  - name: a
    patterns: [base]
    root: ${path.join(work, 'roots', 'a')}
  - name: b
    patterns: [base, b]
    root: ${path.join(work, 'roots', 'b')}
images:
  - name: common
    shared_by: all
`,
  );
}

const damage = {
  truncated: (file: string): void => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)),
  corrupt: (file: string): void => {
    const bytes = fs.readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    for (let i = middle; i < middle + 16; i++) bytes[i]! ^= 0x55;
    fs.writeFileSync(file, bytes);
  },
};

/** One line naming the archive: the decompressor's complaint or the missing end of the tar. */
function unreadableLine(archive: string): RegExp {
  const file = archive.replaceAll('.', '\\.');
  return new RegExp(
    `^error: ${file}: (cannot read the archive: .+ \\(it may be truncated or damaged\\)|archive is truncated \\(no end-of-archive blocks\\) \\(rebuild or repack it\\))$`,
    'm',
  );
}

describe.each(FORMATS)('a damaged %s archive', (format) => {
  it.each(Object.keys(damage) as Array<keyof typeof damage>)('%s: details, details --check and verify exit 3 naming it; the medium keeps its bytes', (how) => {
    const medium = path.join(work, `${how}-${format}`);
    execFileSync('cp', ['-a', path.join(work, `built-${format}`), medium]);
    const archive = path.join(medium, 'images', `common-x86_64.${EXTENSION[format]}`);
    damage[how](archive);
    const before = fingerprint(path.join(medium, 'images'));

    for (const args of [['details', medium], ['details', medium, '--check'], ['verify', composeFor(format, medium)]]) {
      const r = mediacompose(...args);
      expect(r.status, `${args.join(' ')}:\n${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(unreadableLine(archive));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fingerprint(path.join(medium, 'images'))).toEqual(before);
      expect(fs.readdirSync(medium)).toEqual(['images']);
    }
  });
});
