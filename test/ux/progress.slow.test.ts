/**
 * Progress as a person sees it: bars drawn on a real pseudo-terminal (util-linux `script`),
 * plain timestamped lines in a pipe or in CI, colours only when allowed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/render/progress.js';
import { formatDuration } from '../../src/runtime/format.js';
import { BIN, mediacomposeWith, writeCompose } from '../support/build.js';

let work: string;
let compose: string;

/**
 * Two roots with a shared file and one of their own each, about 27 MB of compressible bytes
 * (base64 of random data) in all: gzip needs a second or so, long enough for several frames.
 */
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-progress-'));
  const shared = randomBytes(9 << 20).toString('base64');
  for (const name of ['a', 'b']) {
    const dir = path.join(work, 'roots', name, 'usr', 'share');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'shared.txt'), shared);
    fs.writeFileSync(path.join(dir, `own-${name}.txt`), randomBytes(4 << 20).toString('base64'));
    fs.utimesSync(path.join(dir, 'shared.txt'), 1_700_000_000, 1_700_000_000);
  }
  compose = writeCompose(
    work,
    `medium: out
compression: gzip
level: 9
arch: x86_64
imagesets:
  - {name: a, patterns: [a], root: roots/a}
  - {name: b, patterns: [a, b], root: roots/b}
images:
  - {name: common, shared_by: all}
`,
  );
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The environment of a person at a colour terminal: no CI, no colour switches. */
function terminalEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
  for (const key of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'NODE_DISABLE_COLORS']) if (!(key in extra)) delete env[key];
  return env;
}

/** Runs a build in a pseudo-terminal; returns everything the terminal received. */
function buildInTerminal(env: NodeJS.ProcessEnv): { status: number; screen: string } {
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const command = `${quote(process.execPath)} ${quote(BIN)} build ${quote(compose)} --jobs 2 --no-cache`;
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, screen: r.stdout };
}

const CURSOR_UP = /\x1b\[\d*A/;
const SGR = /\x1b\[[0-9;]*m/;

/** The overall bar's percentages, in the order drawn. */
function overallPercents(screen: string): number[] {
  return [...screen.matchAll(/total\s+[█░\x1b\[0-9;m]*\s+(\d+)%/g)].map((m) => Number(m[1]));
}

describe('progress on a terminal', () => {
  it('draws live bars per image and an overall bar with an ETA, redrawn in place', () => {
    const { status, screen } = buildInTerminal(terminalEnv());
    expect(status).toBe(0);
    // Bars: block characters, one line per image being compressed, the overall line.
    expect(screen).toMatch(/█/);
    expect(screen).toMatch(/common-x86_64\.tar\.gz\s+\S*[█░]/);
    expect(screen).toMatch(/total\s+\S*[█░].*ETA /);
    // Redrawn in place: the cursor moves back up over the bars, and the numbers change.
    expect(screen).toMatch(CURSOR_UP);
    const percents = overallPercents(screen);
    expect(new Set(percents).size).toBeGreaterThanOrEqual(2);
    expect(percents.at(-1)).toBe(100);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));
    // Per image: bytes in, bytes out, rate.
    expect(screen).toMatch(/\d+%\s+\d+\.\d MB → \d+\.\d MB\s+\d+\.\d MB\/s/);
    // Finished images are logged above the bars; the summary follows them.
    expect(screen).toMatch(/wrote common-x86_64\.tar\.gz: /);
    expect(screen).toMatch(/5 images, [\d.]+ MB compressed/);
    // The cursor is shown again and line wrapping restored.
    expect(screen.lastIndexOf('\x1b[?25h')).toBeGreaterThan(screen.lastIndexOf('\x1b[?25l'));
    expect(screen.lastIndexOf('\x1b[?7h')).toBeGreaterThan(screen.lastIndexOf('\x1b[?7l'));
    // Colours, since nothing turned them off.
    expect(screen).toMatch(SGR);
  });

  it('uses no colour codes with NO_COLOR, and still draws the bars', () => {
    const { status, screen } = buildInTerminal(terminalEnv({ NO_COLOR: '1' }));
    expect(status).toBe(0);
    expect(screen).toMatch(/█|░/);
    expect(screen).toMatch(CURSOR_UP);
    expect(screen).not.toMatch(SGR);
  });

  it('writes plain timestamped lines on a terminal when CI is set', () => {
    const { status, screen } = buildInTerminal(terminalEnv({ CI: 'true' }));
    expect(status).toBe(0);
    expect(screen).not.toMatch(/█|░/);
    expect(screen).not.toMatch(CURSOR_UP);
    expect(screen).toMatch(/^\[\s*\d+\.\d+s\] compressing 5 images, /m);
  });

  it('draws nothing with --quiet', () => {
    const quote = (s: string): string => `'${s}'`;
    const r = spawnSync('script', ['-qfec', `${quote(process.execPath)} ${quote(BIN)} build ${quote(compose)} --quiet`, '/dev/null'], {
      env: terminalEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/█|░|compressing|scanned/);
    expect(r.stdout).toMatch(/5 images, /);
  });
});

describe('progress without a terminal', () => {
  it('writes one timestamped line per step on stderr, with no control characters', () => {
    const r = mediacomposeWith({ CI: '', TERM: 'xterm-256color', FORCE_COLOR: '' }, 'build', compose, '--jobs', '2', '--no-cache');
    expect(r.status).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines) expect(line).toMatch(/^(\[\s*\d+\.\d+s\] |warning: )/);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    expect(r.stderr).toMatch(/\] scanned roots\/a: 4 entries in [\d.]+s \([\d,]+ entries\/s\)\n/);
    expect(r.stderr).toMatch(/\] compressing 5 images, [\d.]+ MB uncompressed\n/);
    expect(r.stderr).toMatch(/\] wrote common-x86_64\.tar\.gz: 3 members, /);
    // Results stay on stdout.
    expect(r.stdout).toMatch(/^image\s+members/);
  });

  it('reports the compression every few seconds: percent, images done, rate, images in progress with their compressed size', async () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const progress = createProgress({ quiet: false, stream, env: {}, plainInterval: 0.05 });
    progress.compressionStarted?.({
      threads: 2,
      images: [
        { file: 'big-x86_64.tar.gz', bytes: 3_000_000, threads: 1, holds: 0 },
        { file: 'small-x86_64.tar.gz', bytes: 1_000_000, threads: 1, holds: 0 },
      ],
    });
    progress.imageStarted?.('big-x86_64.tar.gz', 1);
    progress.imageProgress?.('big-x86_64.tar.gz', { fed: 1_500_000, written: 400_000 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    progress.imageFinished?.('big-x86_64.tar.gz', 800_000, false);
    progress.imageFinished?.('small-x86_64.tar.gz', 300_000, true);
    const compressing = out;
    await new Promise((resolve) => setTimeout(resolve, 120));
    progress.close?.();
    const closed = out;
    await new Promise((resolve) => setTimeout(resolve, 120));

    expect(out).toMatch(/^\[\s*\d+\.\d+s\] compressing 2 images, 4\.0 MB uncompressed$/m);
    expect(out).toMatch(/^\[\s*\d+\.\d+s\] compressing: 37% of 4\.0 MB, 0\/2 images, [\d.]+ MB\/s; now: big-x86_64\.tar\.gz 50% -> 0\.4 MB$/m);
    // Once every image is finished, no more compression lines; still a line while the command runs.
    expect(out.slice(compressing.length)).not.toMatch(/compressing/);
    expect(out.slice(compressing.length)).toMatch(/^\[\s*\d+\.\d+s\] still working \(0s since the last line\)$/m);
    // Nothing after close.
    expect(out).toBe(closed);
    expect(out).not.toMatch(/[\r\x1b]/);
  });

  it('prints warnings but no progress when quiet', () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const progress = createProgress({ quiet: true, stream, env: {} });
    progress.info('scanned roots/a');
    progress.warn('roots/a/run/socket: socket skipped');
    expect(out).toBe('warning: roots/a/run/socket: socket skipped\n');
  });

  it('formats durations as people read them', () => {
    expect([0.4, 42, 187, 3900].map(formatDuration)).toEqual(['0s', '42s', '3m07s', '1h05m']);
  });
});
