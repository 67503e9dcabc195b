/**
 * Hostile or damaged XML on a medium (cases 1, 4 and 7 of the hostile-media review): an arch
 * name that climbs out of the images folder, external entities, and characters the installer's
 * XML reader (libxml2) refuses. `details` and `verify` write and read nothing outside the medium,
 * report the file as unreadable with its line, and never end in an internal error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, mediacompose } from '../support/build.js';
import { describeIf, unmet } from '../support/needs.js';
import type { Tree } from '../support/tree.js';
import { type Work, changesSince, smallMedium, snapshot } from './hostile.js';

let work: Work;
let imagesXml: string;
let original: string;
let details: string;
let originalDetails: string;
beforeAll(() => {
  work = smallMedium('mc-hostile-xml-');
  imagesXml = path.join(work.medium, 'images', 'images.xml');
  details = path.join(work.medium, 'images', 'details-x86_64.xml');
  original = fs.readFileSync(imagesXml, 'utf8');
  originalDetails = fs.readFileSync(details, 'utf8');
  fs.mkdirSync(path.join(work.dir, 'victim'));
  fs.writeFileSync(path.join(work.dir, 'victim', 'evil.xml'), 'precious\n');
}, 60_000);
afterEach(() => {
  fs.writeFileSync(imagesXml, original);
  fs.writeFileSync(details, originalDetails);
});
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

/** Tampers with images.xml, then snapshots the work folder: every later change is the command's. */
function tamper(file: string, edit: (text: string) => string): Tree {
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  return snapshot(work.dir);
}

describe('case 1: arch names from a medium are plain names', () => {
  const evil = (text: string): string => text.replace('<archs>x86_64</archs>', '<archs>x/../../../victim/evil</archs>');

  it('details: exit 3 naming the arch; victim/evil.xml outside the medium is untouched', () => {
    const before = tamper(imagesXml, evil);
    const r = mediacompose('details', work.medium);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(
      `error: ${imagesXml}: image_set 1: arch "x/../../../victim/evil" is not a plain name (an arch is letters, digits, "_", "-" and "."; the medium is damaged or was made to escape its folder)\n`,
    );
    expect(changesSince(before, work.dir)).toEqual([]);
    expect(fs.readFileSync(path.join(work.dir, 'victim', 'evil.xml'), 'utf8')).toBe('precious\n');
  });

  it('details --check and verify: exit 3 too, nothing read or written outside', () => {
    const before = tamper(imagesXml, evil);
    expect(mediacompose('details', work.medium, '--check').status).toBe(3);
    const r = mediacompose('verify', work.compose);
    expect(r.status).toBe(3);
    // The roots have no package database: verify warns about that first (its own test covers it).
    expect(r.stderr.split('\n').filter((line) => !line.startsWith('warning: ')).join('\n')).toBe(
      `error: ${imagesXml}: image_set 1: arch "x/../../../victim/evil" is not a plain name (an arch is letters, digits, "_", "-" and "."; the medium is damaged or was made to escape its folder)\n`,
    );
    expect(changesSince(before, work.dir)).toEqual([]);
  });

  it('details --arch with a path: exit 2', () => {
    const r = mediacompose('details', work.medium, '--arch', '../../victim/evil');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --arch "../../victim/evil" is not a plain arch name (name an arch such as x86_64)\n');
  });
});

describe('case 4: external entities make a file unreadable, not an internal error', () => {
  const withEntity = (text: string): string =>
    text
      .replace('<?xml version="1.0" encoding="UTF-8"?>\n', `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file://${work.dir}/victim/evil.xml">]>\n`)
      .replace(/<file>([^<]*)<\/file>/, '<file>$1&e;</file>');

  it('images.xml: verify reports it not well-formed (exit 1), details exits 3', () => {
    const before = tamper(imagesXml, withEntity);
    const v = mediacompose('verify', work.compose);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('images/images.xml: not read: line 2: a DOCTYPE with an internal subset (entity and DTD declarations are never read)');
    expect(v.stderr + v.stdout).not.toContain('internal error');
    expect(v.stdout).not.toContain('precious');
    const d = mediacompose('details', work.medium);
    expect(d.status).toBe(3);
    expect(d.stderr).toContain(`error: ${imagesXml}: not read: line 2: a DOCTYPE with an internal subset (entity and DTD declarations are never read)\n`);
    expect(changesSince(before, work.dir)).toEqual([]);
  });

  it('details-<arch>.xml: verify reports it not well-formed; details --check calls it unreadable (exit 1)', () => {
    const before = tamper(details, withEntity);
    const v = mediacompose('verify', work.compose);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('images/details-x86_64.xml: not read: line 2: a DOCTYPE with an internal subset');
    expect(v.stderr).not.toContain('internal error');
    const d = mediacompose('details', work.medium, '--check');
    expect(d.status).toBe(1);
    expect(d.stdout).toBe('details-x86_64.xml: cannot be read as a details file\nimages/details-x86_64.xml: stale (1 difference)\n'.replace('images/', `${work.medium}/images/`));
    expect(changesSince(before, work.dir)).toEqual([]);
  });

  it('an undefined entity without a DOCTYPE: not well-formed too', () => {
    const before = tamper(imagesXml, (t) => t.replace('<type>tar</type>', '<type>t&nbsp;ar</type>'));
    const v = mediacompose('verify', work.compose);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/images\/images\.xml: not well-formed XML: line \d+: reference to the undefined entity &nbsp;/);
    expect(changesSince(before, work.dir)).toEqual([]);
  });
});

describeIf(unmet({ programs: ['strace'] }), 'case 4b: the file an entity or a DTD names is never opened', () => {
  for (const [what, edit] of [
    ['an external entity in an internal subset', (t: string, victim: string) => t
      .replace('<?xml version="1.0" encoding="UTF-8"?>\n', `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file://${victim}">]>\n`)
      .replace(/<file>([^<]*)<\/file>/, '<file>$1&e;</file>')],
    ['an external DTD', (t: string, victim: string) => t
      .replace('<?xml version="1.0" encoding="UTF-8"?>\n', `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE image_installation SYSTEM "${victim}">\n`)],
  ] as const) {
    it(`${what}: details exits 3; strace shows no open of the file it names`, () => {
      const victim = path.join(work.dir, 'victim', 'evil.xml');
      const before = tamper(imagesXml, (t) => edit(t, victim));
      const log = path.join(work.dir, 'strace.log');
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', log, process.execPath, BIN, 'details', work.medium], { encoding: 'utf8' });
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/^error: .*images\.xml: not read: line 2: a DOCTYPE /m);
      const calls = fs.readFileSync(log, 'utf8');
      fs.rmSync(log);
      expect(calls).toContain('images.xml'); // the trace works: it saw images.xml opened
      expect(calls).not.toContain('evil.xml');
      expect(changesSince(before, work.dir)).toEqual([]);
    });
  }
});

describe('case 4c: character references and predefined entities are decoded, as libxml2 decodes them', () => {
  it('<file>&#NN;...</file> names the file it spells: details --check and verify pass', () => {
    const before = tamper(imagesXml, (t) => t.replace(/<file>(.)([^<]*)<\/file>/g, (_m, first: string, rest: string) => `<file>&#${first.charCodeAt(0)};${rest}</file>`));
    expect(fs.readFileSync(imagesXml, 'utf8')).toMatch(/<file>&#\d+;/);
    const d = mediacompose('details', work.medium, '--check');
    expect(d.stdout).toMatch(/details-x86_64\.xml: current\n$/);
    expect(d.status).toBe(0);
    const v = mediacompose('verify', work.compose);
    expect(v.stdout).not.toContain('missing');
    expect(v.status).toBe(0);
    expect(changesSince(before, work.dir)).toEqual([]);
  });
});

describe('case 7: verify reads as strictly as libxml2', () => {
  for (const [what, edit, shown] of [
    ['a raw U+0001', (t: string) => t.replace('<name>A</name>', '<name>A\u0001</name>'), 'U+0001 is not allowed in XML 1.0'],
    ['a character reference &#1;', (t: string) => t.replace('<name>A</name>', '<name>A&#1;</name>'), 'character reference &#1; to a character XML 1.0 does not allow'],
    ['U+FFFE', (t: string) => t.replace('<name>A</name>', '<name>A\ufffe</name>'), 'U+FFFE is not allowed in XML 1.0'],
  ] as const) {
    it(`${what} in images.xml: not well-formed, with its line`, () => {
      const text = fs.readFileSync(imagesXml, 'utf8');
      expect(text).toContain('<name>A</name>');
      const line = text.slice(0, text.indexOf('<name>A</name>')).split('\n').length;
      const before = tamper(imagesXml, edit);
      const v = mediacompose('verify', work.compose);
      expect(v.status).toBe(1);
      expect(v.stdout).toContain(`images/images.xml: not well-formed XML: line ${line}: ${shown}`);
      expect(changesSince(before, work.dir)).toEqual([]);
    });
  }

  it('the medium as built passes', () => {
    const v = mediacompose('verify', work.compose);
    expect(v.stderr).not.toContain('error');
    expect(v.status).toBe(0);
  });
});
