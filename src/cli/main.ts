/**
 * The command line: yargs wiring only; each command lives in its own module.
 */
import { createRequire } from 'node:module';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildCommand } from './build.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('mediacompose')
    .usage('$0 <command> [options]\n\nTurns installed pattern roots into the image-deployment part of an installation medium.')
    .option('debug', { type: 'boolean', default: false, describe: 'show stack traces on errors' })
    .command(buildCommand)
    .demandCommand(1, 'name a command')
    .strict()
    .version(version)
    .help()
    .fail((message, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${message} (see mediacompose --help)\n`);
      process.exit(2);
    })
    .parseAsync();
}

await main(hideBin(process.argv));
