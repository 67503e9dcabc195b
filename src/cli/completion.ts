/**
 * `mediacompose completion bash|zsh`: a completion script for the shell, written from what the
 * commands declare (usage.ts), so that it offers only real names: `build --j<TAB>` gives
 * `--jobs`. The script is static: completing runs no node process.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type CommandInfo, type OptionInfo, spellings } from './usage.js';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

export function completionCommand(commands: () => readonly CommandInfo[], global: readonly OptionInfo[]): CommandModule<object, { shell: Shell }> {
  return {
    command: 'completion [shell]',
    describe: 'print a completion script for bash or zsh',
    builder: (y: Argv) =>
      y
        .positional('shell', { choices: SHELLS, default: 'bash' as Shell, describe: 'the shell the script is for' })
        .example('$0 completion bash >> ~/.bashrc', 'complete commands and options in bash (or: source <(mediacompose completion bash))')
        .example('$0 completion zsh > "${fpath[1]}/_mediacompose"', 'in zsh, as a completion function on $fpath (or: source <(mediacompose completion zsh) after compinit)') as Argv<{ shell: Shell }>,
    handler: (args: ArgumentsCamelCase<{ shell: Shell }>) => {
      process.stdout.write(args.shell === 'zsh' ? zshScript(commands(), global) : bashScript(commands(), global));
    },
  };
}

/** A word list for a shell script, inside single quotes. */
function words(list: readonly string[]): string {
  return `'${list.join(' ')}'`;
}

const longNames = (options: readonly OptionInfo[]): string[] =>
  options.flatMap((o) => [...spellings(o), ...(o.negatable ? [`--no-${o.name}`] : [])]);

function bashScript(commands: readonly CommandInfo[], global: readonly OptionInfo[]): string {
  const top = [...global, { name: 'help', aliases: ['h'] }, { name: 'version', aliases: ['V'] }] as OptionInfo[];
  const cases = commands.map((c) => {
    const valued = c.options.filter((o) => o.takesValue).flatMap(spellings);
    const choices = c.positionals.flatMap((p) => p.choices ?? []);
    return `    ${c.name}) options=${words(longNames(c.options))}; valued=${words(valued)}; positional=${words(choices)} ;;`;
  });
  return `# bash completion for mediacompose (written by \`mediacompose completion bash\`)
# In ~/.bashrc: source <(mediacompose completion bash); or save it as
# /etc/bash_completion.d/mediacompose.
_mediacompose() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} command='' i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      -*) ;;
      *) command=\${COMP_WORDS[i]}; break ;;
    esac
  done
  local options valued='' positional=''
  case $command in
${cases.join('\n')}
    *) options=${words(longNames(top))}; positional=${words(commands.map((c) => c.name))} ;;
  esac
  # The value of an option (a folder, a number): bash's own completion, file names.
  case " $valued " in *" $prev "*) return ;; esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  elif [[ -n $positional ]]; then
    COMPREPLY=($(compgen -W "$positional" -- "$cur"))
  fi
}
complete -o bashdefault -o default -F _mediacompose mediacompose
`;
}

/**
 * Text for zsh's _arguments and _describe, inside single quotes: the first clause without its
 * asides, `[`, `]`, `:` and `\` escaped for zsh, then the quotes.
 */
function zshText(text: string): string {
  const first = text.replace(/\s*\([^)]*\)/g, '').split(/; |: /)[0]!.trim();
  return first.replace(/([[\]:\\])/g, '\\$1').replace(/'/g, `'\\''`);
}

function zshOption(o: OptionInfo): string {
  const names = spellings(o);
  const action = o.takesValue ? `:${o.name}:${o.path ? '_files' : ' '}` : '';
  const spec = (n: string): string => (o.takesValue ? (n.startsWith('--') ? `${n}=` : `${n}+`) : n);
  const negated = o.negatable ? [`'--no-${o.name}[${zshText(`not ${o.name}`)}]'`] : [];
  if (names.length === 1) return [`'${spec(names[0]!)}[${zshText(o.describe)}]${action}'`, ...negated].join(' ');
  return [`'(${names.join(' ')})'{${names.map(spec).join(',')}}'[${zshText(o.describe)}]${action}'`, ...negated].join(' ');
}

function zshScript(commands: readonly CommandInfo[], global: readonly OptionInfo[]): string {
  const cases = commands.map((c) => {
    const positionals = c.positionals.map((p, i) => {
      const what = zshText(p.describe || p.name);
      const action = p.choices ? `(${p.choices.join(' ')})` : '_files';
      // N:message:action; N::message:action when it may be left out.
      return `'${i + 1}${p.required ? '' : ':'}:${what}:${action}'`;
    });
    return `        ${c.name}) _arguments ${[...c.options.map(zshOption), ...positionals].join(' ')} ;;`;
  });
  return `#compdef mediacompose
# zsh completion for mediacompose (written by \`mediacompose completion zsh\`)
# Save it as _mediacompose in a folder of $fpath, or in ~/.zshrc after compinit:
# source <(mediacompose completion zsh)
_mediacompose() {
  local curcontext=$curcontext state line
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${zshText(c.describe)}'`).join('\n')}
  )
  _arguments -C ${global.map(zshOption).join(' ')} '(- *)'{-h,--help}'[show help]' '(- *)'{-V,--version}'[show the version]' '1: :->command' '*:: :->argument'
  case $state in
    command) _describe -t commands command commands ;;
    argument)
      case $words[1] in
${cases.join('\n')}
      esac ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _mediacompose "$@"; else compdef _mediacompose mediacompose; fi
`;
}
