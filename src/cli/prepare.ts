import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { prepareCompose } from '../commands/prepare.js';
import { formatPrepared } from './render/prepared.js';
import { plainProgress } from './render/progress.js';
import { runCommand } from './run.js';

interface PrepareArgs {
  compose: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

export const prepareCommand: CommandModule<{ debug: boolean }, PrepareArgs> = {
  command: 'prepare <compose>',
  describe: 'install the imagesets without a root from the repositories, with zypper (as root)',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('json', { type: 'boolean', default: false, describe: 'print the prepared and reused roots as one JSON document' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr (warnings only)' })
      .example('sudo $0 prepare compose.yaml', 'install or reuse roots/<imageset>-<arch> for every imageset without root:'),
  handler: (args: ArgumentsCamelCase<PrepareArgs>) =>
    runCommand(args.debug, async () => {
      const result = await prepareCompose(args.compose, plainProgress(args.quiet || args.json));
      process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatPrepared(result.roots) || 'no imageset to prepare: every imageset names its root\n');
      return 0;
    }),
};
