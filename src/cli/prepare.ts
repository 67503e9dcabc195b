import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { prepareCompose } from '../commands/prepare.js';
import { formatPrepared } from './render/prepared.js';
import { plainProgress } from './render/progress.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { jsonOption, quietOption, showCommands, silent } from './options.js';
import { runCommand } from './run.js';

interface PrepareArgs {
  compose: string;
  json: boolean;
  quiet?: boolean;
  debug: boolean;
  verbose?: boolean;
}

export const prepareCommand: CommandModule<{ debug: boolean; verbose?: boolean }, PrepareArgs> = {
  command: 'prepare <compose>',
  describe: 'install the imagesets without a root from the repositories, with zypper (as root)',
  builder: (y: Argv<{ debug: boolean; verbose?: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('json', jsonOption('the prepared and reused roots'))
      .option('quiet', quietOption)
      .example('sudo $0 prepare compose.yaml', 'install or reuse roots/<imageset>-<arch> for every imageset without root:'),
  handler: (args: ArgumentsCamelCase<PrepareArgs>) =>
    runCommand(args.debug, async () => {
      const recorded = recordWarnings(plainProgress(silent(args)));
      const { progress } = recorded;
      showCommands(progress, args.verbose);
      const result = await prepareCompose(args.compose, progress);
      process.stdout.write(args.json ? jsonDocument(result, recorded) : formatPrepared(result.roots) || 'no imageset to prepare: every imageset names its root\n');
      return 0;
    }),
};
