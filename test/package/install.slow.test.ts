/**
 * The package as npm users get it: `npm pack` of a copy of this repository (prepack compiles),
 * then installed globally into a temporary prefix, into another project, and run by
 * `npx --package=<tarball>`, with every C compiler on PATH replaced by one that fails (nothing
 * may be compiled at install) and no install script of mediacompose's. Each gives a working
 * `mediacompose` in an unrelated folder: `init --template demo`, build and verify, no warning.
 * The installs take the dependencies from npm's cache when it holds them (--prefer-offline),
 * from the registry otherwise; when neither works this skips, saying so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
/** Copied to make the package: what `git ls-files` would list, without the generated folders. */
const LEFT_OUT = new Set(['node_modules', 'dist', 'demo', 'out', '.git']);
const NETWORK = /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH)|network|ETARGET/;

let work: string;
let tarball: string;
/** A PATH whose first folder holds cc, gcc, g++, c++ and make that fail. */
let noCompilerPath: string;
let packed: string[];

function run(argv: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: options.cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, PATH: noCompilerPath, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...options.env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs an npm install; undefined when it worked, the reason to skip when npm could not fetch. */
function install(argv: string[], cwd: string): string | undefined {
  const r = run(['npm', ...argv, '--prefer-offline', '--no-audit', '--no-fund'], { cwd });
  if (r.status === 0) {
    // npm names every package whose install scripts it would run; mediacompose has none.
    expect(r.stderr.split('\n').filter((l) => l.includes('mediacompose@'))).toEqual([]);
    return undefined;
  }
  if (NETWORK.test(r.stderr)) return `needs the npm registry or a filled npm cache: ${r.stderr.split('\n').find((l) => NETWORK.test(l))?.trim()}`;
  throw new Error(`npm ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
}

const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => /warning/i.test(l));

/**
 * The installed package's first hour, in a folder outside the repository: `init --template
 * demo`, then build and verify, with no warning, with the command `argv` names.
 */
function buildAndVerify(argv: string[], dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const version = run([...argv, '--version'], { cwd: dir });
  expect(version.stdout.trim(), version.stderr).toBe(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  const init = run([...argv, 'init', '--template', 'demo', 'demo'], { cwd: dir });
  expect(init.status, init.stderr).toBe(0);
  const built = run([...argv, 'build', 'demo/compose.yaml', '--json'], { cwd: dir });
  expect(built.status, built.stderr).toBe(0);
  expect(warnings(built.stderr)).toEqual([]);
  expect(JSON.parse(built.stdout).images.map((i: { file: string }) => i.file).sort()).toEqual([
    'base-meta-x86_64.tar.xz', 'base-x86_64.tar.xz', 'common-base-x86_64.tar.xz', 'common-xorg-x86_64.tar.xz',
    'kde-meta-x86_64.tar.xz', 'kde-x86_64.tar.xz', 'x11-meta-x86_64.tar.xz', 'x11-x86_64.tar.xz',
  ]);
  const verified = run([...argv, 'verify', 'demo/compose.yaml'], { cwd: dir });
  expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  expect(warnings(verified.stderr)).toEqual([]);
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-package-'));
  const fakes = path.join(work, 'no-compiler');
  fs.mkdirSync(fakes);
  for (const name of ['cc', 'gcc', 'g++', 'c++', 'make']) {
    fs.writeFileSync(path.join(fakes, name), '#!/bin/sh\necho "no compiler on this machine" >&2\nexit 1\n', { mode: 0o755 });
  }
  noCompilerPath = `${fakes}:${process.env.PATH ?? ''}`;

  // npm pack in a copy, so that prepack's fresh compile never touches this repository's dist/.
  const copy = path.join(work, 'source');
  fs.cpSync(REPO, copy, { recursive: true, filter: (src) => !LEFT_OUT.has(path.relative(REPO, src).split(path.sep)[0]!) });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
  const r = run(['npm', 'pack', '--json', '--pack-destination', work], { cwd: copy });
  if (r.status !== 0) throw new Error(`npm pack failed (${r.status}):\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, info!.filename);
  packed = info!.files.map((f) => f.path).sort();
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('holds the compiled program, bin, schema, templates, docs, README and LICENSE, and no tests or sources', () => {
    expect(packed).toContain('dist/cli/main.js');
    expect(packed).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin/mediacompose.js', 'package.json', 'schema/compose.schema.json', 'templates/minimal.yaml', 'templates/demo.yaml']));
    const tops = [...new Set(packed.map((p) => p.split('/')[0]))].sort();
    expect(tops).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'docs', 'package.json', 'schema', 'templates']);
    // The README's links into docs/ resolve inside the package; the schema's base is not shipped.
    expect(packed).toEqual(expect.arrayContaining(['docs/README.md', 'docs/commands.md', 'docs/layering.svg']));
    expect(packed.filter((p) => p.startsWith('schema/'))).toEqual(['schema/compose.schema.json']);
    expect(packed.filter((p) => p.endsWith('.ts') || p.endsWith('.map'))).toEqual([]);
  });

  it('ships package.json without the prepare script of a checkout, and gives the checkout its own back', () => {
    const shipped = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { scripts: Record<string, string> };
    expect(shipped.scripts.prepare).toBeUndefined();
    expect(fs.readFileSync(path.join(work, 'source', 'package.json'), 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(fs.existsSync(path.join(work, 'source', 'package.json.checkout'))).toBe(false);
  });
});

describe('installed from the tarball, with no compiler', () => {
  it('npm install -g into a prefix runs no script of ours and gives a mediacompose whose demo builds and verifies', (ctx) => {
    const prefix = path.join(work, 'global');
    const skip = install(['install', '-g', '--prefix', prefix, tarball], work);
    if (skip) return ctx.skip(skip);
    buildAndVerify([path.join(prefix, 'bin', 'mediacompose')], path.join(work, 'anywhere-1'));
    const lzma = path.join(prefix, 'lib', 'node_modules', 'mediacompose', 'node_modules', 'lzma-native', 'build');
    expect(fs.existsSync(lzma)).toBe(false);
  });

  it('npm install into another project gives npx mediacompose there', (ctx) => {
    const other = path.join(work, 'other-project');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'package.json'), '{ "name": "other-project", "version": "1.0.0", "private": true }\n');
    const skip = install(['install', tarball], other);
    if (skip) return ctx.skip(skip);
    buildAndVerify(['npx', '--no-install', 'mediacompose'], other);
  });

  it('npx --package=<tarball> mediacompose works in any folder', (ctx) => {
    const dir = path.join(work, 'anywhere-2');
    fs.mkdirSync(dir);
    // npx installs into npm's cache (_npx/, keyed by the tarball's path, which is new each run).
    const probe = run(['npx', '--yes', `--package=${tarball}`, 'mediacompose', '--version'], { cwd: dir, env: { npm_config_prefer_offline: 'true' } });
    if (probe.status !== 0 && NETWORK.test(probe.stderr)) return ctx.skip(`needs the npm registry or a filled npm cache: ${probe.stderr.trim().split('\n')[0]}`);
    expect(probe.status, probe.stderr).toBe(0);
    buildAndVerify(['npx', '--yes', `--package=${tarball}`, 'mediacompose'], dir);
  });
});
