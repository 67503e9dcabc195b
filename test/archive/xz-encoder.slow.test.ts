/**
 * The xz program and lzma-native write the same bytes: a medium built with each encoder, for xz
 * (level 1, where a 3.4 MB image spans two blocks, with one and two threads; the default level
 * 6 with one thread), and for LZMA-alone, is identical file for file. `build --json` names the encoder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeYaml, fingerprint, mediacomposeWith, writeCompose } from '../support/build.js';

const xzVersion = /^xz \(XZ Utils\) (\d+)\.(\d+)/.exec(spawnSync('xz', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const XZ_USABLE = !!xzVersion && (Number(xzVersion[1]) > 5 || Number(xzVersion[2]) >= 4);

/** Deterministic text that compresses like real files (xorshift32 over a small vocabulary). */
function text(seed: number, bytes: number): string {
  const words = ['install', 'medium', 'image', 'pattern', 'root', 'layer', 'package', 'deploy', 'kernel', 'xorg'];
  let x = seed;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const word = `${words[x % words.length]!}${x % 11 === 0 ? `${x % 1000}\n` : ' '}`;
    parts.push(word);
    length += word.length;
  }
  return parts.join('').slice(0, bytes);
}

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-xzenc-'));
  const shared = text(7, 3_400_000);
  for (const [name, seed] of [['a', 1], ['b', 2]] as const) {
    const root = path.join(work, 'roots', name);
    fs.mkdirSync(path.join(root, 'usr/share/doc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/share/doc/shared.txt'), shared);
    fs.writeFileSync(path.join(root, 'usr/share/doc/own.txt'), text(seed, 100_000));
  }
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const built = new Map<string, ReturnType<typeof buildOnce>>();
/** Builds a medium with the given encoder (once per set of arguments); returns its archives' digests and the encoder reported. */
function buildWith(encoder: 'xz' | 'lzma-native', compression: string, level: number, jobs: number): ReturnType<typeof buildOnce> {
  const key = [encoder, compression, level, jobs].join(' ');
  if (!built.has(key)) built.set(key, buildOnce(encoder, compression, level, jobs));
  return built.get(key)!;
}

function buildOnce(encoder: 'xz' | 'lzma-native', compression: string, level: number, jobs: number): { files: Record<string, string>; encoder: { name: string; version: string } } {
  const dir = fs.mkdtempSync(path.join(work, `${encoder}-${compression}-${level}-${jobs}-`));
  const file = writeCompose(
    dir,
    composeYaml({
      medium: 'medium',
      compression,
      level,
      imagesets: [
        { name: 'a', patterns: ['base'], root: path.join(work, 'roots/a') },
        { name: 'b', patterns: ['base', 'b'], root: path.join(work, 'roots/b') },
      ],
      images: [{ name: 'common', sharedBy: 'all' }],
    }),
  );
  const env = encoder === 'lzma-native' ? { MEDIACOMPOSE_XZ_ENCODER: 'lzma-native' } : { MEDIACOMPOSE_XZ_ENCODER: '' };
  const r = mediacomposeWith(env, 'build', file, '--json', '--jobs', String(jobs));
  if (r.status !== 0) throw new Error(`build failed (${r.status}): ${r.stderr}`);
  const files = fingerprint(path.join(dir, 'medium', 'images'));
  fs.rmSync(path.join(dir, 'medium'), { recursive: true, force: true });
  return { files, encoder: JSON.parse(r.stdout).encoder };
}

describe('lzma-native, the fallback encoder', () => {
  it('is named with its version and its liblzma', () => {
    expect(buildWith('lzma-native', 'xz', 1, 1).encoder).toEqual({ name: 'lzma-native', version: expect.stringMatching(/^\d+\.\d+\.\d+ \(liblzma \d+\.\d+\.\d+\)$/) });
  });
});

describe.skipIf(!XZ_USABLE)('the xz program (5.4 or later) against lzma-native', () => {
  it('is the encoder build --json names, with its version', () => {
    const { encoder } = buildWith('xz', 'xz', 1, 2);
    expect(encoder).toEqual({ name: 'xz', version: `${xzVersion![1]}.${xzVersion![2]}.${/\d+\.\d+\.(\d+)/.exec(spawnSync('xz', ['--version'], { encoding: 'utf8' }).stdout)![1]}` });
  });

  it.each([
    [1, 1],
    [1, 2],
    [6, 1],
  ])('writes the same xz bytes at level %i with %i thread(s)', (level, jobs) => {
    const reference = buildWith('lzma-native', 'xz', level, level === 1 ? 1 : 2);
    const ours = buildWith('xz', 'xz', level, jobs);
    expect(Object.keys(ours.files)).toContain('common-x86_64.tar.xz');
    expect(ours.files).toEqual(reference.files);
  });

  it('writes the same LZMA-alone bytes', () => {
    const reference = buildWith('lzma-native', 'lzma', 6, 2);
    const ours = buildWith('xz', 'lzma', 6, 2);
    expect(Object.keys(ours.files)).toContain('common-x86_64.tar.lzma');
    expect(ours.files).toEqual(reference.files);
  });
});

if (!XZ_USABLE) {
  describe('the xz program', () => {
    it.skip('skipped: no xz 5.4 or later on PATH (package xz-utils); lzma-native encodes instead', () => {});
  });
}
