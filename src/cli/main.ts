/**
 * The command line: yargs wiring only; each command lives in its own module.
 */
import { createRequire } from 'node:module';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildCommand } from './build.js';
import { detailsCommand } from './details.js';
import { initCommand } from './init.js';
import { planCommand } from './plan.js';
import { prepareCommand } from './prepare.js';
import { verifyCommand } from './verify.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

// Paragraphs; yargs wraps them to the terminal's width.
const EPILOG = [
  'Exit status: 0 success; 1 a check found differences; 2 usage or compose-file error; ' +
    '3 unusable input (a root, an archive, a file); 4 output or I/O failure.',
  'Progress goes to stderr: bars on a terminal, timestamped lines otherwise or with CI=true; ' +
    'NO_COLOR turns colours off. `mediacompose COMMAND --help` shows a command\'s options and examples.',
].join('\n\n');

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('mediacompose')
    .usage('$0 <command> [options]\n\nTurns installed pattern roots into the image-deployment part of an installation medium.')
    .option('debug', { type: 'boolean', default: false, describe: 'show stack traces on errors' })
    .command(buildCommand)
    .command(planCommand)
    .command(prepareCommand)
    .command(detailsCommand)
    .command(initCommand)
    .command(verifyCommand)
    .example('$0 init dvd --template opensuse-dvd', 'start dvd/compose.yaml from a template')
    .example('$0 build dvd/compose.yaml', 'write the medium it describes (preparing roots from repositories first)')
    .epilog(EPILOG)
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
