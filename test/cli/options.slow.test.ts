/**
 * The command line as release engineers use it: short options, option values checked before any
 * work, help per command, suggestions for mistyped commands, --medium, `warnings` in every
 * --json document, details --json (shell completion: conventions.slow.test.ts). Runs the compiled command line.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, addPackageDatabase, writeTwoImagesetCompose } from '../support/build.js';
import { makeSocket } from '../support/tree.js';

const { version } = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };

let work: string;
let compose: string;
let socket: string;

/** Runs the command line in `cwd`. */
function run(cwd: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, CI: 'true' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const mc = (...args: string[]) => run(work, ...args);

/** The `warning: ` lines of stderr, without the prefix. */
const warningLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.startsWith('warning: ')).map((l) => l.slice('warning: '.length));

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-options-'));
  for (const name of ['a', 'b']) {
    fs.mkdirSync(path.join(work, 'roots', name, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(work, 'roots', name, 'run'), { recursive: true });
    fs.writeFileSync(path.join(work, 'roots', name, 'etc', 'os-release'), 'NAME=demo\n');
    fs.writeFileSync(path.join(work, 'roots', name, 'etc', 'hostname'), `${name}\n`);
    addPackageDatabase(path.join(work, 'roots', name));
  }
  // A socket: skipped with a warning by build, plan and verify.
  socket = path.join(work, 'roots', 'a', 'run', 'sock');
  makeSocket(socket);
  compose = writeTwoImagesetCompose(work);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('option values are checked before any work', () => {
  const hint = (what: string) => `(give the number of ${what}, 1 or more, e.g. --jobs 4)`;
  const cases: Array<[string, string[], string]> = [
    ['a word', ['--jobs', 'abc'], '"abc" is not a whole number'],
    ['zero', ['--jobs', '0'], '0 is out of range'],
    ['a negative number', ['--jobs', '-1'], '-1 is out of range'],
    ['a negative number, short option', ['-j', '-3'], '-3 is out of range'],
    ['a fraction', ['--jobs', '1.5'], '"1.5" is not a whole number'],
    ['an exponent', ['--jobs=1e3'], '"1e3" is not a whole number'],
    ['nothing', ['--jobs'], 'needs a value'],
  ];
  for (const [name, option, what] of cases) {
    it(`build: --jobs given ${name} exits 2 with one line naming the option`, () => {
      const r = mc('build', compose, ...option);
      expect(r.status).toBe(2);
      // One line and nothing else: no scan started (progress lines would come first).
      expect(r.stderr).toBe(`error: --jobs: ${what} ${hint('encoder threads for all images together')}\n`);
      expect(r.stdout).toBe('');
      expect(fs.existsSync(path.join(work, 'medium'))).toBe(false);
    });
  }

  it('verify and details check --jobs the same way', () => {
    for (const args of [['verify', compose, '-j', 'two'], ['details', 'medium', '--jobs', '0']]) {
      const r = mc(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error: --jobs: .* \(give the number of archives read at once, 1 or more, e\.g\. --jobs 4\)\n$/);
    }
  });

  it('--medium with an empty value exits 2 naming the option', () => {
    const r = mc('build', compose, '--medium', '');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --medium: needs a value (name a folder, e.g. --medium out/medium)\n');
  });

  it('an unknown option exits 2 naming it and the closest real one', () => {
    const r = mc('build', compose, '--jbos', '2');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: unknown option --jbos: did you mean --jobs? (see mediacompose build --help)\n');
    expect(fs.existsSync(path.join(work, 'medium'))).toBe(false);
  });
});

describe('help, version and mistyped commands', () => {
  it('-h at the top level prints the help, exit 0', () => {
    const r = mc('-h');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mediacompose <command> \[options\]/);
    expect(r.stdout).toMatch(/^ {2}mediacompose build <compose> /m);
    expect(r.stdout).toMatch(/^ {2}mediacompose completion /m);
    expect(r.stderr).toBe('');
  });

  it('-h after a command prints that command\'s help with its short options', () => {
    for (const [command, options] of [
      ['build', ['-j, --jobs', '-m, -o, --medium, --output', '-q, --quiet', '--json', '--strict']],
      ['plan', ['-m, -o, --medium, --output', '-q, --quiet', '--json']],
      ['verify', ['-j, --jobs', '-m, -o, --medium, --output', '-q, --quiet', '--json']],
      ['details', ['-a, --arch', '-j, --jobs', '--check', '--json']],
      ['init', ['-t, --template']],
    ] as const) {
      const r = mc(command, '-h');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^mediacompose ${command} [<[]`));
      for (const option of options) expect(r.stdout).toContain(option);
    }
  });

  it('-V prints the version', () => {
    const r = mc('-V');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it('a mistyped command gets a suggestion, exit 2', () => {
    const r = mc('biuld', compose);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: unknown command "biuld": did you mean build? (see mediacompose --help)\n');
    const v = mc('verfy');
    expect(v.status).toBe(2);
    expect(v.stderr).toContain('did you mean verify?');
  });
});

describe('--medium, warnings in --json, details --json', () => {
  let built: { medium: string; images: Array<{ file: string; files: number; size: number }>; warnings: string[] };
  const elsewhere = () => path.join(work, 'elsewhere', 'out');

  it('build --medium DIR writes there, relative to the current folder; --json carries the warnings', () => {
    fs.mkdirSync(path.join(work, 'elsewhere'));
    const r = run(path.join(work, 'elsewhere'), 'build', compose, '-m', 'out', '-j', '1', '--json');
    expect(r.status).toBe(0);
    built = JSON.parse(r.stdout);
    expect(built.medium).toBe(elsewhere());
    expect(fs.readdirSync(path.join(elsewhere(), 'images'))).toContain('images.xml');
    // compose.yaml's own medium: was not touched.
    expect(fs.existsSync(path.join(work, 'medium'))).toBe(false);
    // The same text as the warning lines on stderr.
    expect(built.warnings).toContain(`${socket}: socket skipped (sockets cannot be archived)`);
    expect(built.warnings).toEqual(warningLines(r.stderr));
  });

  it('-q keeps stderr to the warnings', () => {
    const r = mc('build', compose, '-q', '--medium', elsewhere());
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean).every((l) => l.startsWith('warning: '))).toBe(true);
    expect(r.stderr).toContain('socket skipped');
  });

  it('plan --json names the overridden medium and carries the warnings', () => {
    const r = run(path.join(work, 'elsewhere'), 'plan', compose, '--medium', 'out', '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.medium).toBe(elsewhere());
    expect(doc.images.map((i: { file: string }) => i.file)).toContain('common-x86_64.tar.gz');
    expect(doc.warnings).toContain(`${socket}: socket skipped (sockets cannot be archived)`);
    expect(doc.warnings).toEqual(warningLines(r.stderr));
  });

  it('verify --medium DIR checks the medium there; --json carries the warnings', () => {
    // Without the override verify reads compose.yaml's medium:, which was never built.
    const missing = mc('verify', compose, '--json');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toBe(
      `error: ${path.join(work, 'medium', 'images', 'images.xml')}: cannot read: no such file or directory (build the medium first (mediacompose build COMPOSE))\n`,
    );
    const r = run(path.join(work, 'elsewhere'), 'verify', compose, '--medium', 'out', '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.medium).toBe(elsewhere());
    expect(doc.warnings).toContain(`${socket}: socket skipped (sockets cannot be archived)`);
    expect(doc.warnings).toEqual(warningLines(r.stderr));
  });

  it('prepare --json carries warnings too (nothing to prepare: every imageset names its root)', () => {
    const r = mc('prepare', compose, '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.roots).toEqual([]);
    expect(doc.warnings).toEqual([]);
  });

  it('details --json: per arch its state and the archives\' files and size', () => {
    const r = mc('details', elsewhere(), '--check', '--json');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(doc.warnings).toEqual([]);
    expect(doc.archs).toHaveLength(1);
    const [x86] = doc.archs;
    expect(x86.arch).toBe('x86_64');
    expect(x86.file).toBe(path.join(elsewhere(), 'images', 'details-x86_64.xml'));
    expect(x86.state).toBe('current');
    expect(x86.differences).toEqual([]);
    const files = (list: Array<{ file: string; files: number; size: number }>) =>
      Object.fromEntries(list.map((i) => [i.file, [i.files, i.size]]));
    expect(files(x86.images)).toEqual(files(built.images));
  });

  it('details --json says what is stale (--check, exit 1) and what was rewritten', () => {
    const detailsFile = path.join(elsewhere(), 'images', 'details-x86_64.xml');
    const good = fs.readFileSync(detailsFile, 'utf8');
    const common = built.images.find((i) => i.file === 'common-x86_64.tar.gz')!;
    // common's <size>: the first one after its <file>.
    const at = good.indexOf('<file>common-x86_64.tar.gz</file>');
    const sizeAt = good.indexOf(`<size>${common.size}</size>`, at);
    expect(at).toBeGreaterThan(0);
    expect(sizeAt).toBeGreaterThan(at);
    const bad = `${good.slice(0, sizeAt)}<size>${common.size + 512}</size>${good.slice(sizeAt + `<size>${common.size}</size>`.length)}`;
    fs.writeFileSync(detailsFile, bad);

    const check = mc('details', elsewhere(), '--check', '--json');
    expect(check.status).toBe(1);
    const stale = JSON.parse(check.stdout).archs[0];
    expect(stale.state).toBe('stale');
    expect(stale.differences).toEqual([
      `details-x86_64.xml: common-x86_64.tar.gz: size ${common.size + 512} on the medium, ${common.size} in the archive`,
    ]);
    expect(fs.readFileSync(detailsFile, 'utf8')).toBe(bad);

    const fix = mc('details', elsewhere(), '--json');
    expect(fix.status).toBe(0);
    expect(JSON.parse(fix.stdout).archs[0].state).toBe('written');
    expect(fs.readFileSync(detailsFile, 'utf8')).toBe(good);
  });

  it('no gzip header carries a time: MTIME is 0 in every .tar.gz', () => {
    const folder = path.join(elsewhere(), 'images');
    const archives = fs.readdirSync(folder).filter((f) => f.endsWith('.tar.gz'));
    expect(archives.length).toBe(5);
    for (const file of archives) {
      const head = Buffer.alloc(10);
      const fd = fs.openSync(path.join(folder, file), 'r');
      fs.readSync(fd, head, 0, 10, 0);
      fs.closeSync(fd);
      expect([head[0], head[1]]).toEqual([0x1f, 0x8b]);
      // FLG without FNAME/FCOMMENT, MTIME (bytes 4-7) zero.
      expect(head[3]! & 0x18).toBe(0);
      expect(head.readUInt32LE(4)).toBe(0);
    }
  });
});
