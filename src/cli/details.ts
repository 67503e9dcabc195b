import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type ArchDetails, regenerateDetails } from '../commands/details.js';
import { ExitStatus } from '../errors.js';
import { plainProgress } from './render/progress.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { jobsOption, jsonOption, quietOption, showCommands, signKeyOption, silent } from './options.js';
import { runCommand } from './run.js';

interface DetailsArgs {
  medium: string;
  arch?: string;
  check: boolean;
  jobs?: number;
  json: boolean;
  quiet?: boolean;
  signKey?: string;
  debug: boolean;
  verbose?: boolean;
}

export const detailsCommand: CommandModule<{ debug: boolean; verbose?: boolean }, DetailsArgs> = {
  command: 'details <medium>',
  describe: 'regenerate details-<arch>.xml from the archives images.xml lists',
  builder: (y: Argv<{ debug: boolean; verbose?: boolean }>) =>
    y
      .positional('medium', { type: 'string', demandOption: true, describe: 'the medium folder (holding images/)' })
      .option('arch', { type: 'string', alias: 'a', describe: 'only this arch (default: every arch images.xml names)' })
      .option('check', {
        type: 'boolean',
        default: false,
        describe: 'write nothing; exit 1 when a details file differs from the archives',
      })
      .option('jobs', jobsOption('archives read at once'))
      .option('json', jsonOption('per arch what was rewritten or found stale, and each archive\'s files and size,'))
      .option('quiet', quietOption)
      .option('sign-key', signKeyOption('gpg key that signs the checksum list again (needed when a signed list covers images/)'))
      .example('$0 details out/medium', 'after repacking an archive: rewrite its details')
      .example('$0 details out/medium --arch x86_64 --check', 'is details-x86_64.xml current?')
      .example('$0 details out/medium --check --json', 'the same, for scripts'),
  handler: (args: ArgumentsCamelCase<DetailsArgs>) =>
    runCommand(args.debug, async () => {
      const recorded = recordWarnings(plainProgress(silent(args)));
      const { progress } = recorded;
      showCommands(progress, args.verbose);
      const results = await regenerateDetails(args.medium, { arch: args.arch, check: args.check, jobs: args.jobs, signKey: args.signKey, progress });
      process.stdout.write(args.json ? jsonDocument({ archs: results }, recorded) : results.map(report).join(''));
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
  // A legacy details.xml: say on which archs the installer reads it.
  const checked = result.archs.join(',') === result.arch ? '' : `; checked for ${result.arch}`;
  const readBy = result.archs.length > 0 && !result.file.endsWith(`details-${result.arch}.xml`) ? ` (the installer reads it on ${result.archs.join(', ')}${checked})` : '';
  return [...result.differences, `${result.file}: ${verdict}${readBy}`].map((line) => `${line}\n`).join('');
}
