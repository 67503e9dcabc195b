/**
 * What images.xml and the images folder may hold that mediacompose never writes: an archive
 * listed twice in one image_set (the installer extracts it twice, the second time over what the
 * images between wrote) and an archive that no image_set lists (the installer never reads it).
 * verify reports each as a difference of the medium (exit 1), naming the file, and changes
 * nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mediacompose } from '../support/build.js';
import { type Work, changesSince, smallMedium, snapshot } from './hostile.js';

let work: Work;
let imagesXml: string;
let saved: string;
beforeAll(() => {
  work = smallMedium('mc-images-list-');
  imagesXml = path.join(work.medium, 'images', 'images.xml');
  saved = fs.readFileSync(imagesXml, 'utf8');
}, 60_000);
afterEach(() => fs.writeFileSync(imagesXml, saved));
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

/** verify's problem lines (stdout), after checking that it changed nothing. */
function verifyProblems(): { status: number; lines: string[] } {
  const before = snapshot(work.dir);
  const r = mediacompose('verify', work.compose);
  expect(changesSince(before, work.dir)).toEqual([]);
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => /^verify: [^:]+: images\//.test(l)) };
}

describe('doubtful media: archives listed twice or not at all', () => {
  it('the medium as built: verify exits 0', () => {
    expect(verifyProblems()).toEqual({ status: 0, lines: [] });
  });

  it('an archive listed twice in one image_set: exit 1 naming it and where', () => {
    const image = /\n( *)<image>\n(?:.*\n)*?\1<\/image>/.exec(saved.slice(saved.indexOf('<file>a-x86_64.tar.gz') - 200))!;
    expect(image[0]).toContain('<file>a-x86_64.tar.gz</file>');
    fs.writeFileSync(imagesXml, saved.replace(image[0], image[0] + image[0]));
    expect(verifyProblems()).toEqual({
      status: 1,
      lines: [
        'verify: a: images/images.xml: image a-x86_64.tar.gz is listed 2 times (at 1, 2 of 3): the installer extracts it each time, over what the images between wrote; mediacompose lists an archive once',
      ],
    });
  });

  it('an archive no image_set lists: exit 1 naming it', () => {
    const stray = path.join(work.medium, 'images', 'old-x86_64.tar.gz');
    fs.copyFileSync(path.join(work.medium, 'images', 'b-x86_64.tar.gz'), stray);
    try {
      expect(verifyProblems()).toEqual({
        status: 1,
        lines: ['verify: (medium): images/old-x86_64.tar.gz: an archive that no image_set of images.xml lists: the installer never reads it (remove it, or build again)'],
      });
    } finally {
      fs.rmSync(stray);
    }
  });
});
