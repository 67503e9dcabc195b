/**
 * The command line's conventions, as a user meets them: a mistyped option gets the closest real
 * one, a missing <compose> is named with an example, -o/--output is --medium, -v/--verbose shows
 * the programs run, `completion bash|zsh` offers only real names, --help lists every exit
 * status, and one YAML mistake is one error. Runs the compiled command line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xzEncoder } from '../../src/formats/xz-encoder.js';
import { BIN, composeYaml, writeCompose, writeTwoImagesetCompose, writeTwoSmallRoots } from '../support/build.js';
import { describeIf, unmet } from '../support/needs.js';

let work: string;
let compose: string;

function mc(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-conventions-'));
  writeTwoSmallRoots(work);
  compose = writeTwoImagesetCompose(work);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('usage errors: one line naming the mistake and the way on, exit 2', () => {
  const cases: Array<[string, string[], string]> = [
    ['a mistyped option gets the closest real one', ['build', 'compose.yaml', '--josn'], 'error: unknown option --josn: did you mean --json? (see mediacompose build --help)'],
    ['a mistyped negation too', ['plan', 'compose.yaml', '--no-estimat'], 'error: unknown option --no-estimat: did you mean --no-estimate? (see mediacompose plan --help)'],
    ['an option of another command', ['verify', 'compose.yaml', '--sign-key', 'x'], 'error: unknown option --sign-key (see mediacompose verify --help)'],
    ['build without its file', ['build'], 'error: build: missing <compose>, the compose.yaml file (e.g. mediacompose build compose.yaml; see mediacompose build --help)'],
    ['one argument too many', ['build', 'compose.yaml', 'other.yaml'], 'error: unexpected argument "other.yaml": build takes <compose> (see mediacompose build --help)'],
    ['--quiet with --verbose', ['build', 'compose.yaml', '-q', '-v'], 'error: --quiet and --verbose cannot be used together (see mediacompose build --help)'],
    ['a shell completion does not know', ['completion', 'fish'], 'error: completion: shell "fish" is not one of bash, zsh (see mediacompose completion --help)'],
  ];
  for (const [name, args, line] of cases) {
    it(name, () => {
      const r = mc(...args);
      expect(r.stderr).toBe(`${line}\n`);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
    });
  }

  it('a YAML syntax error is reported once, where the parser first trips', () => {
    fs.mkdirSync(path.join(work, 'yaml'), { recursive: true });
    const file = path.join(work, 'yaml', 'compose.yaml');
    // The ] is missing: the parser trips over the next item, and over every line after it.
    fs.writeFileSync(file, 'medium: out\narch: x86_64\nimagesets:\n  - name: kde\n    patterns: [base\n  - name: gnome\n    patterns: [base, gnome]\n    root: roots/gnome\n');
    const r = mc('plan', file);
    expect(r.stderr).toBe(
      `error: ${file}:6:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] ` +
        '(fix the YAML syntax at or just before this place: indentation, quotes, brackets, ":" after keys)\n',
    );
    expect(r.status).toBe(2);
  });
});

describe('--help lists every exit status', () => {
  const statuses =
    'Exit status: 0 success; 1 a check found differences (verify, details --check); 2 usage or compose-file error; ' +
    '3 unusable input (a root, an archive, a file); 4 output or I/O failure; 5 over budget (build: the archives exceed budget:, ' +
    'the previous medium is kept); 130, 143 interrupted by SIGINT, SIGTERM (the previous medium is kept).';
  for (const args of [['--help'], ['build', '--help']]) {
    it(`mediacompose ${args.join(' ')}`, () => {
      const r = mc(...args);
      expect(r.status).toBe(0);
      // yargs wraps the paragraph to the width of the terminal.
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(statuses);
    });
  }
});

describe('-o/--output is --medium', () => {
  for (const option of ['-o', '--output']) {
    it(`build ${option} DIR writes the medium there`, () => {
      const out = path.join(work, `out${option}`);
      const r = mc('build', compose, option, out, '-q', '--no-cache');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`: ${out}/images\\n`));
      expect(fs.existsSync(path.join(out, 'images', 'images.xml'))).toBe(true);
      expect(fs.existsSync(path.join(work, 'medium'))).toBe(false);
    });
  }

  it('the help names it beside -m and --medium', () => {
    for (const command of ['build', 'plan', 'verify']) expect(mc(command, '--help').stdout).toMatch(/^ {2}-m, -o, --medium, --output {2}/m);
  });
});

describeIf(unmet({ programs: ['xz'] }) ?? (xzEncoder().name === 'xz' ? undefined : 'needs xz 5.4 or later'), '-v/--verbose', () => {
  it('shows every program run as a step, also with --json (which keeps stdout to the document)', () => {
    fs.mkdirSync(path.join(work, 'xz'), { recursive: true });
    writeTwoSmallRoots(path.join(work, 'xz'));
    const xzCompose = writeCompose(
      path.join(work, 'xz'),
      composeYaml({ medium: 'medium', compression: 'xz', level: 1, imagesets: [{ name: 'a', patterns: ['a'], root: 'roots/a' }] }),
    );
    const r = mc('build', xzCompose, '-v', '--json', '-j', '1', '--no-cache');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).images).toHaveLength(2);
    const runs = r.stderr.split('\n').filter((l) => / run: /.test(l));
    // One xz per image, with its argv; the steps around them.
    expect(runs.filter((l) => /^\[\s*\d+\.\d+s\] run: xz -1 -T\+1 --check=crc64 -c$/.test(l))).toHaveLength(2);
    expect(r.stderr).toMatch(/^\[\s*\d+\.\d+s\] compressing 2 images, /m);
    // Without -v, --json keeps stderr to the warnings.
    const quiet = mc('build', xzCompose, '--json', '-j', '1', '--no-cache');
    expect(quiet.stderr.split('\n').filter((l) => l && !l.startsWith('warning: '))).toEqual([]);
  });
});

describe('completion bash|zsh', () => {
  let bin: string;
  beforeAll(() => {
    bin = fs.mkdtempSync(path.join(work, 'bin-'));
    fs.writeFileSync(path.join(bin, 'mediacompose'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  });

  it('completion --help is its help, not a script', () => {
    const r = mc('completion', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mediacompose completion \[shell\]\n\nprint a completion script for bash or zsh\n/);
    expect(r.stdout).toMatch(/shell {2}the shell the script is for {2}\[choices: "bash", "zsh"\] \[default: "bash"\]/);
  });

  it('bash: commands, then only the options of the command', () => {
    const script = path.join(work, 'completion.bash');
    const r = mc('completion', 'bash');
    expect(r.status).toBe(0);
    expect(mc('completion').stdout).toBe(r.stdout);
    fs.writeFileSync(script, r.stdout);
    const complete = (...words: string[]): string[] => {
      const program = [
        `source "${script}"`,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        '_mediacompose',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
      return execFileSync('bash', ['-c', program], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).split('\n').filter(Boolean).sort();
    };
    expect(complete('mediacompose', 'ver')).toEqual(['verify']);
    expect(complete('mediacompose', 'build', '--j')).toEqual(['--jobs', '--json']);
    expect(complete('mediacompose', 'build', '--me')).toEqual(['--medium']);
    expect(complete('mediacompose', 'build', '--no-')).toEqual(['--no-cache']);
    expect(complete('mediacompose', 'plan', '--no-')).toEqual(['--no-estimate']);
    expect(complete('mediacompose', 'completion', '')).toEqual(['bash', 'zsh']);
    // After an option that takes a value: nothing offered, bash completes file names.
    expect(complete('mediacompose', 'build', '--medium', '')).toEqual([]);
  });

  describeIf(unmet({ programs: ['zsh'] }), 'zsh', () => {
    it('completes in an interactive zsh: options with their descriptions', () => {
      const script = path.join(work, '_mediacompose');
      fs.writeFileSync(script, mc('completion', 'zsh').stdout);
      // Types a line into an interactive zsh (zpty), presses TAB, returns the screen once it shows `until`.
      const driver = [
        'zmodload zsh/zpty',
        'zpty z zsh -f -i',
        `zpty -w z "PS1='%% '; autoload -U compinit; compinit -u -D; source ${script}; print READY-\\$((6*7))"`,
        "zpty -r z junk '*READY-42*'",
        'zpty -n -w z "$1"$\'\\t\'',
        'zpty -r z screen "*$2*"',
        'print -r -- "$screen"',
        'zpty -d z',
      ].join('\n');
      const screen = (line: string, until: string): string =>
        execFileSync('zsh', ['-c', driver, 'zsh', line, until], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
          .replace(/\x1b\[[0-9;?]*[a-zA-Z]|\r/g, '');
      const options = screen('mediacompose build --j', 'JSON document');
      expect(options).toMatch(/^--jobs {2}-- encoder threads for all images together$/m);
      // The line editor redraws the command line right after the list.
      expect(options).toMatch(/^--json {2}-- print the result as one JSON document(mediacompose build --j)?$/m);
      expect(screen('mediacompose completion ', 'zsh')).toMatch(/^bash {2}zsh/m);
    });
  });
});
