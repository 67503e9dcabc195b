/**
 * The installer's XML parser, as mediacompose reads like it (src/manifest/libxml.ts), held
 * against libxml2 itself: `xmllint --noout --nonet` (package libxml2-utils) judges well-formedness
 * as the installer's strict Nokogiri parse does. What libxml2 accepts, the reader accepts, except
 * the two DTD forms mediacompose refuses unread; what it refuses, the reader refuses.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReferences, withoutByteOrderMark, xmlProblem } from '../../src/manifest/libxml.js';
import { readDetailsFile, readImagesXml } from '../../src/manifest/reader.js';
import type { VerifyProblem } from '../../src/manifest/problems.js';
import { describeIf, unmet } from '../support/needs.js';

const NS = 'xmlns="http://www.suse.com/1.0/yast2ns" xmlns:config="http://www.suse.com/1.0/configns"';
const BODY = `<image_installation ${NS}><image_sets config:type="list"><image_set><patterns>base</patterns><archs>x86_64</archs>` +
  '<pkg_image>b-meta.tar.xz</pkg_image><images config:type="list"><image><name>B</name><type>tar</type><file>b.tar.xz</file></image>' +
  '<image><name>M</name><type>tar</type><file>b-meta.tar.xz</file></image></images></image_set></image_sets></image_installation>\n';
const DECL = '<?xml version="1.0"?>\n';

/** Each case: the text, and whether libxml2 finds it well-formed. */
const ACCEPTED: Array<[string, string]> = [
  ['a bare DOCTYPE', `${DECL}<!DOCTYPE images>\n${BODY}`],
  ['a comment and a processing instruction before the DOCTYPE', `${DECL}<!-- c -->\n<?yast x?>\n<!DOCTYPE images >\n${BODY}`],
  ['a UTF-8 byte order mark', `\ufeff${DECL}<!DOCTYPE images>\n${BODY}`],
  ['CRLF line ends and tabs', `${DECL}<!DOCTYPE images>\n${BODY}`.replaceAll('\n', '\r\n').replaceAll('><', '>\r\n\t<')],
  ['character references and predefined entities', `${DECL}${BODY.replace('<name>B</name>', '<name>&#66;&amp;&lt;&#x42;</name>')}`],
  ['a CDATA section holding "&" and "<!DOCTYPE"', `${DECL}${BODY.replace('<name>B</name>', '<name><![CDATA[B & <!DOCTYPE x>]]></name>')}`],
];
const NOT_WELL_FORMED: Array<[string, string, string]> = [
  ['an undefined entity', `${DECL}${BODY.replace('<name>B</name>', '<name>&nbsp;</name>')}`, 'reference to the undefined entity &nbsp;'],
  ['a DOCTYPE after the root element', `${DECL}${BODY}<!DOCTYPE images>\n`, 'a DOCTYPE declaration after the root element'],
  ['two DOCTYPE declarations', `${DECL}<!DOCTYPE images>\n<!DOCTYPE images>\n${BODY}`, 'a second DOCTYPE declaration'],
  ['a reference to U+0001', `${DECL}${BODY.replace('<name>B</name>', '<name>&#1;</name>')}`, 'character reference &#1; to a character XML 1.0 does not allow'],
  ['a bare "&"', `${DECL}${BODY.replace('<name>B</name>', '<name>B & C</name>')}`, '"&" not starting a reference (write &amp;)'],
];
const REFUSED_UNREAD: Array<[string, string, string]> = [
  ['an internal subset declaring an external entity', `${DECL}<!DOCTYPE images [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n${BODY}`, 'a DOCTYPE with an internal subset'],
  ['an internal subset declaring nothing', `${DECL}<!DOCTYPE images []>\n${BODY}`, 'a DOCTYPE with an internal subset'],
  ['a SYSTEM identifier', `${DECL}<!DOCTYPE images SYSTEM "images.dtd">\n${BODY}`, 'a DOCTYPE naming an external DTD'],
  ['a PUBLIC identifier', `${DECL}<!DOCTYPE images PUBLIC "-//x//y" "images.dtd">\n${BODY}`, 'a DOCTYPE naming an external DTD'],
];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-libxml-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const XMLLINT = unmet({ programs: ['xmllint'] });

/** libxml2's verdict on a text. */
function libxml2WellFormed(text: string): boolean {
  const file = path.join(dir, 'case.xml');
  fs.writeFileSync(file, text);
  return spawnSync('xmllint', ['--noout', '--nonet', file], { stdio: 'ignore' }).status === 0;
}

describe('what the reader accepts, libxml2 accepts', () => {
  for (const [what, text] of ACCEPTED) {
    it(what, () => {
      expect(xmlProblem(withoutByteOrderMark(text))).toBeUndefined();
      const problems: VerifyProblem[] = [];
      const images = path.join(dir, what.replace(/\W+/g, '-'));
      fs.mkdirSync(images, { recursive: true });
      fs.writeFileSync(path.join(images, 'images.xml'), text);
      const reading = readImagesXml(images, problems);
      expect(problems).toEqual([]);
      expect(reading.imagesets?.[0]?.images.map((i) => i.file)).toEqual(['b.tar.xz', 'b-meta.tar.xz']);
    });
  }
});

describe('what libxml2 refuses, the reader refuses, with the line', () => {
  for (const [what, text, message] of NOT_WELL_FORMED) {
    it(what, () => {
      const problem = xmlProblem(text);
      expect(problem?.what).toBe(message);
      expect(problem?.refused).toBeUndefined();
    });
  }
});

describe('a DTD is refused unread, though libxml2 would take it', () => {
  for (const [what, text, message] of REFUSED_UNREAD) {
    it(what, () => {
      const problem = xmlProblem(text);
      expect(problem).toMatchObject({ line: 2, refused: true });
      expect(problem!.what).toContain(message);
    });
  }
});

describeIf(XMLLINT, 'libxml2 (xmllint --noout --nonet) agrees', () => {
  it('takes every accepted case and every DTD the reader refuses unread', () => {
    for (const [what, text] of [...ACCEPTED, ...REFUSED_UNREAD]) expect([what, libxml2WellFormed(text)]).toEqual([what, true]);
  });
  it('refuses every case the reader finds not well-formed', () => {
    for (const [what, text] of NOT_WELL_FORMED) expect([what, libxml2WellFormed(text)]).toEqual([what, false]);
  });
});

describe('text as libxml2 gives it and yast2 strips it', () => {
  it('decodes references once: &amp;#97; is "&#97;", &#97; is "a"', () => {
    expect(decodeReferences('&amp;#97;|&#97;|&#x1F600;|&lt;&gt;&quot;&apos;')).toBe("&#97;|a|\u{1F600}|<>\"'");
  });

  it('a file named with a character reference is the file it names; a typed list may say t="list"', () => {
    const images = path.join(dir, 'refs');
    fs.mkdirSync(images, { recursive: true });
    fs.writeFileSync(
      path.join(images, 'images.xml'),
      DECL + BODY.replace('<file>b.tar.xz</file>', '<file>\r\n\t&#98;.tar.xz </file>').replace('<images config:type="list">', '<images t="&#108;ist">'),
    );
    const problems: VerifyProblem[] = [];
    expect(readImagesXml(images, problems).imagesets![0]!.images.map((i) => i.file)).toEqual(['b.tar.xz', 'b-meta.tar.xz']);
    expect(problems).toEqual([]);
  });

  it('a details file without <files> or <rpms> reads, and says nothing of them', () => {
    const images = path.join(dir, 'details');
    fs.mkdirSync(images, { recursive: true });
    fs.writeFileSync(
      path.join(images, 'details.xml'),
      `${DECL}<!DOCTYPE details>\n<image_installation_details ${NS}>\n <details config:type="list">\n\t<image>\n\t <file>b.tar.xz</file>\n\t <!-- Read checkpoint 1 -->\n\t <size>20480</size>\n\t</image>\n </details>\n</image_installation_details>\n`,
    );
    const problems: VerifyProblem[] = [];
    const reading = readDetailsFile(images, 'details.xml', problems);
    expect(reading.kind === 'read' && reading.entries).toEqual([{ file: 'b.tar.xz', size: '20480' }]);
    expect(problems).toEqual([]);
  });
});
