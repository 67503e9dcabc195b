import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type ArchDetails, regenerateDetails } from '../commands/details.js';
import { ExitStatus } from '../errors.js';
import { plainProgress } from './render/progress.js';
import { runCommand } from './run.js';

interface DetailsArgs {
  medium: string;
  arch?: string;
  check: boolean;
  debug: boolean;
}

export const detailsCommand: CommandModule<{ debug: boolean }, DetailsArgs> = {
  command: 'details <medium>',
  describe: 'regenerate details-<arch>.xml from the archives images.xml lists',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('medium', { type: 'string', demandOption: true, describe: 'the medium folder (holding images/)' })
      .option('arch', { type: 'string', describe: 'only this arch (default: every arch images.xml names)' })
      .option('check', {
        type: 'boolean',
        default: false,
        describe: 'write nothing; exit 1 when a details file differs from the archives',
      })
      .example('$0 details out/medium', 'after repacking an archive: rewrite its details')
      .example('$0 details out/medium --arch x86_64 --check', 'is details-x86_64.xml current?'),
  handler: (args: ArgumentsCamelCase<DetailsArgs>) =>
    runCommand(args.debug, async () => {
      const results = await regenerateDetails(args.medium, { arch: args.arch, check: args.check, progress: plainProgress(false) });
      process.stdout.write(results.map(report).join(''));
      return results.some((r) => r.state === 'stale') ? ExitStatus.differences : ExitStatus.ok;
    }),
};

/** What differs, one line each, then the file's verdict. */
function report(result: ArchDetails): string {
  const verdict = {
    current: 'current',
    stale: `stale (${result.differences.length} difference${result.differences.length === 1 ? '' : 's'})`,
    written: 'rewritten',
  }[result.state];
  return [...result.differences, `${result.file}: ${verdict}`].map((line) => `${line}\n`).join('');
}
