/**
 * The command line: yargs wiring only; each command lives in its own module.
 */
import { createRequire } from 'node:module';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { MediaComposeError } from '../errors.js';
import { buildCommand } from './build.js';
import { checksumsCommand } from './checksums.js';
import { completionCommand } from './completion.js';
import { detailsCommand } from './details.js';
import { initCommand } from './init.js';
import { EXIT_STATUSES, debugOption, verboseOption } from './options.js';
import { planCommand } from './plan.js';
import { prepareCommand } from './prepare.js';
import { type CommandInfo, describeCommand, describeFailure, optionInfo } from './usage.js';
import { verifyCommand } from './verify.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const GLOBAL = [optionInfo('debug', debugOption), optionInfo('verbose', verboseOption)];
const COMMANDS = [buildCommand, planCommand, prepareCommand, detailsCommand, initCommand, verifyCommand, checksumsCommand] as unknown as Array<CommandModule<never, never>>;
let described: CommandInfo[] | undefined;
/** What each command accepts, for usage errors and completion (read once, when needed). */
const commandInfos = (): CommandInfo[] =>
  (described ??= [...COMMANDS, completion as unknown as CommandModule<never, never>].map((c) => describeCommand(c, GLOBAL)));
const completion = completionCommand(commandInfos, GLOBAL);

// Paragraphs; yargs wraps them to the terminal's width.
const EPILOG = [
  `Exit status: ${EXIT_STATUSES}.`,
  'Progress goes to stderr: bars on a terminal, timestamped lines otherwise or with CI=true; ' +
    'NO_COLOR turns colours off. `mediacompose COMMAND --help` shows a command\'s options and examples.',
].join('\n\n');

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('mediacompose')
    .usage('$0 <command> [options]\n\nTurns installed pattern roots into the image-deployment part of an installation medium.')
    .locale('en')
    .option('debug', debugOption)
    .option('verbose', verboseOption)
    .command(buildCommand)
    .command(planCommand)
    .command(prepareCommand)
    .command(detailsCommand)
    .command(initCommand)
    .command(verifyCommand)
    .command(checksumsCommand)
    .command(completion)
    .example('$0 init dvd --template opensuse-dvd', 'start dvd/compose.yaml from a template')
    .example('$0 build dvd/compose.yaml', 'write the medium it describes (preparing roots from repositories first)')
    .example('$0 completion bash >> ~/.bashrc', 'complete commands and options in bash (zsh: completion zsh)')
    .epilog(EPILOG)
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .strict()
    .version(version)
    .alias('version', 'V')
    .help()
    .alias('help', 'h')
    .fail((message, err) => {
      // Option values are checked while parsing (cli/options.ts) and their errors name the option;
      // yargs passes what a coerce function throws on as a YError with the same message.
      // (A command's own errors never get here: runCommand reports them.)
      if (err instanceof MediaComposeError || err?.name === 'YError') usageFailure(err.message);
      if (err) throw err;
      usageFailure(describeFailure(message, argv, commandInfos(), GLOBAL));
    })
    .parseAsync();
}

function usageFailure(line: string): never {
  process.stderr.write(`error: ${line}\n`);
  process.exit(2);
}

await main(hideBin(process.argv));
