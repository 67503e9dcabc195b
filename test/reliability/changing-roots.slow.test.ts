/**
 * Roots that change while a build runs, through the command line: a file that grows while the
 * build compresses, a root that vanishes after the scan, a root missing when compose.yaml is read.
 * Each is one line naming the path, exit 3 (2 for compose.yaml), and the previous medium keeps
 * its bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOk, fingerprint, mediacompose } from '../support/build.js';
import { LOG_FILE_BYTES, compressionStarted, slowMedium, startBuild } from './running-build.js';

let work: string;
let compose: string;
let medium: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-changing-'));
  compose = slowMedium(work);
  medium = path.join(work, 'out');
  buildOk(compose, '--jobs', '1');
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const images = (): Record<string, string> => fingerprint(path.join(medium, 'images'));

describe('a root that changes during the build', () => {
  it('a file that grows while the build compresses: exit 3 naming it', async () => {
    const before = images();
    const log = path.join(work, 'roots', 'b', 'var', 'log', 'messages');
    const build = startBuild(compose);
    // A log being written while a's image is compressed, until the build ends; b's image, which
    // holds it, is written after a's.
    await compressionStarted(build, medium, 'a-x86_64.tar.xz');
    const writer = setInterval(() => fs.appendFileSync(log, 'one more line\n'), 20);
    const r = await build.finished.finally(() => clearInterval(writer));
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(
      `error: ${log}: file grew while being archived (${LOG_FILE_BYTES} bytes when scanned) (do not change the roots during a build)\n`,
    );
    expect(fs.readdirSync(medium)).toEqual(['images']);
    expect(images()).toEqual(before);
  }, 120_000);

  it('a root that vanishes after the scan: exit 3 naming the root', async () => {
    const before = images();
    const root = path.join(work, 'roots', 'b');
    const build = startBuild(compose);
    // Root b's own image is written after a's, which takes seconds to compress.
    await compressionStarted(build, medium, 'a-x86_64.tar.xz');
    fs.renameSync(root, path.join(work, 'b-moved-away'));
    const r = await build.finished;
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`error: ${root}: root disappeared during the build (do not move or remove the roots during a build)\n`);
    expect(fs.readdirSync(medium)).toEqual(['images']);
    expect(images()).toEqual(before);
    fs.renameSync(path.join(work, 'b-moved-away'), root);
  }, 120_000);

  it('a root missing when compose.yaml is read: exit 2 with its line and column, nothing touched', () => {
    const before = images();
    const root = path.join(work, 'roots', 'b');
    fs.renameSync(root, path.join(work, 'b-moved-away'));
    try {
      const r = mediacompose('build', compose, '--quiet');
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `error: ${compose}:12:11: root "roots/b" does not exist (no directory at ${root}; root paths are relative to the compose file's folder)\n`,
      );
      expect(fs.readdirSync(medium)).toEqual(['images']);
      expect(images()).toEqual(before);
    } finally {
      fs.renameSync(path.join(work, 'b-moved-away'), root);
    }
  });
});
