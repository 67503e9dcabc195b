import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type BuildResult, build } from '../build.js';
import { plainProgress } from '../progress.js';
import { runCommand } from './run.js';

interface BuildArgs {
  compose: string;
  jobs?: number;
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

export const buildCommand: CommandModule<{ debug: boolean }, BuildArgs> = {
  command: 'build <compose>',
  describe: 'write the medium described by a compose file',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('jobs', { type: 'number', describe: 'images compressed at once (default: number of cores)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as one JSON document' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
      .example('$0 build compose.yaml', 'write the medium, e.g. out/medium/images/')
      .example('$0 build compose.yaml --jobs 4 --json', 'four at once, result as JSON'),
  handler: (args: ArgumentsCamelCase<BuildArgs>) =>
    runCommand(args.debug, async () => {
      const result = await build(args.compose, { jobs: args.jobs, progress: plainProgress(args.quiet || args.json) });
      process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : summary(result));
      return 0;
    }),
};

function summary(result: BuildResult): string {
  const rows = result.images.map((i) => [i.file, String(i.files), mb(i.size), mb(i.compressedSize), i.imagesets.join(',')]);
  const header = ['image', 'members', 'tar MB', 'compressed MB', 'used by'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 0 || c === 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const total = result.images.reduce((n, i) => n + i.compressedSize, 0);
  return [
    line(header),
    ...rows.map(line),
    `${result.images.length} images, ${mb(total)} MB compressed, in ${result.seconds.toFixed(1)}s: ${result.medium}/images`,
    '',
  ].join('\n');
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
