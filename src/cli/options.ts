/**
 * Options several commands share, and the checks their values pass while yargs parses the
 * command line: before any work starts, a bad value ends the run with one line naming the
 * option, `error: --jobs: "abc" is not a whole number (...)`, exit 2.
 *
 * A new numeric option is `integerOption({...})`; a new shared option is one more entry below.
 */
import path from 'node:path';
import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import { traceCommands } from '../runtime/command.js';
import type { Progress } from '../runtime/progress.js';

/** Every exit status, for --help (the same list as docs/exit-statuses.md and docs/compose-spec.md). */
export const EXIT_STATUSES =
  '0 success; 1 a check found differences (verify, details --check); 2 usage or compose-file error; ' +
  '3 unusable input (a root, an archive, a file); 4 output or I/O failure; ' +
  '5 over budget (build: the archives exceed budget:, the previous medium is kept); ' +
  '130, 143 interrupted by SIGINT, SIGTERM (the previous medium is kept)';

export const debugOption = { type: 'boolean', default: false, describe: 'show stack traces on errors' } as const satisfies Options;

// No defaults for --verbose and --quiet: yargs counts a default as given, and they conflict.
export const verboseOption = {
  type: 'boolean',
  alias: 'v',
  describe: 'show the steps (also with --json) and every program run, as its argv (xz, gpg, zypper, getfattr)',
} as const satisfies Options;

/**
 * With --verbose, every program started is a step of its own: `run: xz -6 -T2 --check=crc64 -c`
 * (each word as a shell would need it quoted).
 */
export function showCommands(progress: Progress, verbose: boolean | undefined): void {
  traceCommands(verbose ? (argv) => progress.info(`run: ${argv.map(shellWord).join(' ')}`) : undefined);
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Whether a command's steps stay off stderr: --quiet, or --json without --verbose. */
export function silent(args: { quiet?: boolean; json?: boolean; verbose?: boolean }): boolean {
  return !args.verbose && (args.quiet === true || args.json === true);
}

interface IntegerRule {
  /** The option's name without dashes, as in the message. */
  readonly name: string;
  readonly min: number;
  readonly max?: number;
  /** What the number counts, for the hint: "images compressed at once". */
  readonly counts: string;
  readonly describe: string;
  readonly alias?: string;
}

/**
 * A whole-number option. Typed as a string for yargs, so that the check sees the text as typed
 * ("1e3", "0x10" and "2.5" are refused rather than read as numbers), and checked by `coerce`,
 * which yargs runs while parsing. Given twice, the last one counts.
 */
function integerOption(rule: IntegerRule) {
  return {
    type: 'string',
    alias: rule.alias,
    describe: rule.describe,
    coerce: (value: unknown): number | undefined => parseInteger(rule, value),
  } satisfies Options;
}

function parseInteger(rule: IntegerRule, value: unknown): number | undefined {
  const given = Array.isArray(value) ? value.at(-1) : value;
  if (given === undefined) return undefined;
  const option = `--${rule.name}`;
  const range = rule.max === undefined ? `${rule.min} or more` : `${rule.min} to ${rule.max}`;
  const hint = `give the number of ${rule.counts}, ${range}, e.g. ${option} ${Math.max(rule.min, 4)}`;
  const text = String(given).trim();
  if (text === '') throw new UsageError(option, 'needs a value', hint);
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(option, `"${text}" is not a whole number`, hint);
  const n = Number(text);
  if (n < rule.min || (rule.max !== undefined && n > rule.max) || !Number.isSafeInteger(n)) {
    throw new UsageError(option, `${text} is out of range`, hint);
  }
  return n;
}

/** A folder option, resolved against the current folder; an empty value is refused. */
function folderOption(name: string, describe: string, alias?: string[]) {
  return {
    type: 'string',
    alias,
    describe,
    coerce: (value: unknown): string | undefined => {
      const given = Array.isArray(value) ? value.at(-1) : value;
      if (given === undefined) return undefined;
      const text = String(given);
      if (text === '') throw new UsageError(`--${name}`, 'needs a value', `name a folder, e.g. --${name} out/medium`);
      return path.resolve(text);
    },
  } satisfies Options;
}

export const jobsOption = (what: string) =>
  integerOption({ name: 'jobs', alias: 'j', min: 1, counts: what, describe: `${what} (default: number of cores)` });

export const jsonOption = (what: string) =>
  ({
    type: 'boolean',
    default: false,
    describe: `print ${what} as one JSON document (with the warnings as "warnings")`,
  }) as const satisfies Options;

export const quietOption = { type: 'boolean', alias: 'q', describe: 'no progress on stderr (warnings only)', conflicts: 'verbose' } as const satisfies Options;

/** `-o`/`--output` too, the name mkosi's --output-dir and kiwi's --target-dir users reach for. */
export const mediumOption = folderOption(
  'medium',
  "the medium's folder, instead of compose.yaml's medium: (relative to the current folder)",
  ['m', 'o', 'output'],
);

/** --sign-key: a gpg key id or fingerprint, never empty. */
export const signKeyOption = (describe: string) =>
  ({
    type: 'string',
    describe,
    coerce: (value: unknown): string | undefined => {
      const given = Array.isArray(value) ? value.at(-1) : value;
      if (given === undefined) return undefined;
      const text = String(given).trim();
      if (text === '') throw new UsageError('--sign-key', 'needs a value', 'name a gpg key id or fingerprint, e.g. --sign-key 0x1234ABCD');
      return text;
    },
  }) satisfies Options;
