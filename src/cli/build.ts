import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type BuildResult, build } from '../commands/build.js';
import { preparedLines } from './render/prepared.js';
import { createProgress } from './render/progress.js';
import { formatSeconds, mb } from '../runtime/format.js';
import { table } from './render/table.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { jobsOption, jsonOption, mediumOption, quietOption } from './options.js';
import { runCommand } from './run.js';

interface BuildArgs {
  compose: string;
  jobs?: number;
  medium?: string;
  json: boolean;
  quiet: boolean;
  strict: boolean;
  debug: boolean;
}

export const buildCommand: CommandModule<{ debug: boolean }, BuildArgs> = {
  command: 'build <compose>',
  describe: 'write the medium described by a compose file',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('jobs', jobsOption('images compressed at once'))
      .option('medium', mediumOption)
      .option('json', jsonOption('the result'))
      .option('quiet', quietOption)
      .option('strict', { type: 'boolean', default: false, describe: 'fail (exit 3) on warnings about the roots: sockets, extended attributes, ACLs' })
      .example('$0 build compose.yaml', 'write the medium, e.g. out/medium/images/; bars on a terminal, timestamped lines in a log')
      .example('$0 build compose.yaml 2>build.log', 'progress as timestamped lines in build.log (also when CI=true)')
      .example('$0 build compose.yaml -j 4 --json', 'four at once, result as JSON')
      .example('$0 build compose.yaml --medium /srv/media/test', 'write the medium to another folder'),
  handler: (args: ArgumentsCamelCase<BuildArgs>) =>
    runCommand(args.debug, async () => {
      // Bars on a terminal, timestamped lines in a log or CI; --json keeps stderr quiet too.
      const { progress, warnings } = recordWarnings(createProgress({ quiet: args.quiet || args.json }));
      let result: BuildResult;
      try {
        result = await build(args.compose, { jobs: args.jobs, medium: args.medium, progress, strict: args.strict });
      } finally {
        // The bars must be finished before the summary or an error is printed below them.
        progress.close?.();
      }
      process.stdout.write(args.json ? jsonDocument(result, warnings) : summary(result));
      return 0;
    }),
};

function summary(result: BuildResult): string {
  const rows = result.images.map((i) => [i.file, String(i.files), mb(i.size), mb(i.compressedSize), i.imagesets.join(',')]);
  const total = result.images.reduce((n, i) => n + i.compressedSize, 0);
  const { medium, onePerRoot, storedTwice } = result.plan.totals;
  return [
    ...preparedLines(result.prepared),
    ...table(['image', 'members', 'tar MB', 'compressed MB', 'used by'], rows, [1, 2, 3]),
    `${result.images.length} images, ${mb(total)} MB compressed, in ${formatSeconds(result.seconds)}: ${result.medium}/images`,
    `${mb(medium)} MB uncompressed against ${mb(onePerRoot)} MB as one archive per root; ${mb(storedTwice)} MB stored more than once (see mediacompose plan)`,
    '',
  ].join('\n');
}
