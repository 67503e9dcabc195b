/**
 * What the command line accepts, read from the command modules themselves (their yargs
 * builders run against a recorder): each command's positionals, options and examples. The
 * usage errors (a mistyped option, a missing <compose>) and the shell completion scripts are
 * made from it, so they name only options that exist.
 */
import type { CommandModule, Options, PositionalOptions } from 'yargs';
import { closest } from '../config/reader.js';

export interface OptionInfo {
  /** The long name, e.g. "jobs". */
  readonly name: string;
  /** Other names: "j", "output". */
  readonly aliases: readonly string[];
  readonly describe: string;
  /** Takes a value (not a boolean switch). */
  readonly takesValue: boolean;
  /** `--no-NAME` is accepted too (a boolean that defaults to true, or one its text names). */
  readonly negatable: boolean;
  /** A folder or file, for completion. */
  readonly path: boolean;
}

export interface CommandInfo {
  readonly name: string;
  readonly describe: string;
  readonly positionals: ReadonlyArray<{ name: string; describe: string; required: boolean; choices?: readonly string[] }>;
  readonly options: readonly OptionInfo[];
  /** Example command lines, `mediacompose ...`. */
  readonly examples: readonly string[];
}

// yargs' own options, and the ones main.ts gives every command.
const HELP: OptionInfo = { name: 'help', aliases: ['h'], describe: 'show help', takesValue: false, negatable: false, path: false };
const VERSION: OptionInfo = { name: 'version', aliases: ['V'], describe: 'show the version', takesValue: false, negatable: false, path: false };

/** Reads a command module: runs its builder against a recorder of what it declares. */
export function describeCommand(module: CommandModule<never, never>, global: readonly OptionInfo[]): CommandInfo {
  const [name, ...words] = String(module.command).split(' ');
  const positionals = words.map((w) => ({ name: w.replace(/[<>[\]]/g, ''), describe: '', required: w.startsWith('<'), choices: undefined as readonly string[] | undefined }));
  const options: OptionInfo[] = [];
  const examples: string[] = [];
  const recorder: unknown = new Proxy(
    {},
    {
      get: (_target, method) =>
        (...args: unknown[]) => {
          if (method === 'option' || method === 'options') options.push(optionInfo(String(args[0]), (args[1] ?? {}) as Options));
          if (method === 'positional') {
            const p = positionals.find((x) => x.name === args[0]);
            const o = (args[1] ?? {}) as PositionalOptions;
            if (p) Object.assign(p, { describe: o.describe ?? '', choices: o.choices });
          }
          if (method === 'example') examples.push(String(args[0]).replace('$0', 'mediacompose'));
          return recorder;
        },
    },
  );
  if (typeof module.builder === 'function') (module.builder as (y: unknown) => unknown)(recorder);
  return { name: name!, describe: String(module.describe ?? ''), positionals, options: [...options, ...global, HELP], examples };
}

export function optionInfo(name: string, o: Options): OptionInfo {
  const aliases = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
  const describe = o.describe ?? o.description ?? '';
  const takesValue = o.type !== 'boolean';
  return {
    name,
    aliases,
    describe,
    takesValue,
    negatable: (o.type === 'boolean' && o.default === true) || describe.includes(`--no-${name}`),
    path: takesValue && /folder|file/.test(describe),
  };
}

/** The top level: its commands and options. */
function topLevel(global: readonly OptionInfo[]): OptionInfo[] {
  return [...global, HELP, VERSION];
}

/** Every name an option answers to, as typed: `--jobs`, `-j`. */
export function spellings(option: OptionInfo): string[] {
  return [option.name, ...option.aliases].map(dashed);
}

function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

// ---------------------------------------------------------------------------------------------
// Usage errors

/**
 * yargs' failure message as one line that names what is wrong and how to go on: the mistyped
 * option with the closest real one, the missing positional with an example.
 */
export function describeFailure(message: string, argv: readonly string[], commands: readonly CommandInfo[], global: readonly OptionInfo[]): string {
  const command = commands.find((c) => argv.includes(c.name) && argv.find((a) => !a.startsWith('-')) === c.name);
  const help = command ? `see mediacompose ${command.name} --help` : 'see mediacompose --help';
  const suggestion = /^Did you mean (\S+)\?$/.exec(message);
  if (suggestion) return `unknown command "${argv.find((a) => !a.startsWith('-'))}": did you mean ${suggestion[1]}? (${help})`;

  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  if (unknown) {
    const name = unknown[1]!.split(', ')[0]!;
    const typed = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `-${name}` || a.startsWith(`-${name}=`));
    if (!typed && argv.includes(name)) {
      const takes = command?.positionals.map((p) => `<${p.name}>`).join(' ');
      return `unexpected argument "${name}"${command ? `: ${command.name} takes ${takes || 'no arguments'}` : ''} (${help})`;
    }
    // `--no-estimat` reaches yargs as "estimat".
    const negated = !typed && argv.some((a) => a === `--no-${name}` || a.startsWith(`--no-${name}=`));
    const spelled = negated ? `--no-${name}` : typed ? typed.split('=')[0]! : dashed(name);
    const options = command ? command.options : topLevel(global);
    const known = options.flatMap((o) => [o.name, ...(o.negatable ? [`no-${o.name}`] : [])]);
    const bare = spelled.replace(/^-+/, '');
    const near = bare.length > 1 ? closest(bare, known) : undefined;
    return `unknown option ${spelled}${near ? `: did you mean --${near}?` : ''} (${help})`;
  }

  const missing = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(message);
  if (missing && command) {
    const p = command.positionals.filter((x) => x.required)[Number(missing[1])];
    if (p) {
      const example = command.examples.find((e) => e.startsWith(`mediacompose ${command.name} `));
      return `${command.name}: missing <${p.name}>${p.describe ? `, ${p.describe}` : ''} (${example ? `e.g. ${example}; ` : ''}${help})`;
    }
  }
  const invalid = /^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(message);
  if (invalid) return `${command ? `${command.name}: ` : ''}${invalid[1]} ${invalid[2]} is not one of ${invalid[3]!.replaceAll('"', '')} (${help})`;
  const exclusive = /^Arguments (\S+) and (\S+) are mutually exclusive$/.exec(message);
  if (exclusive) return `${dashed(exclusive[1]!)} and ${dashed(exclusive[2]!)} cannot be used together (${help})`;
  return `${message} (${help})`;
}
