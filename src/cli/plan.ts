import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { planCompose } from '../commands/plan.js';
import { formatPlanReport } from './render/plan-report.js';
import { plainProgress } from './render/progress.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { jsonOption, mediumOption, quietOption } from './options.js';
import { runCommand } from './run.js';

interface PlanArgs {
  compose: string;
  medium?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

export const planCommand: CommandModule<{ debug: boolean }, PlanArgs> = {
  command: 'plan <compose>',
  describe: 'show the layering and what it saves; write nothing',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('medium', mediumOption)
      .option('json', jsonOption('the plan'))
      .option('quiet', quietOption)
      .example('$0 plan compose.yaml', 'images, their users and sizes, per imageset its images in order')
      .example('$0 plan compose.yaml --json | jq .totals', 'the saving, for scripts'),
  handler: (args: ArgumentsCamelCase<PlanArgs>) =>
    runCommand(args.debug, async () => {
      const { progress, warnings } = recordWarnings(plainProgress(args.json || args.quiet));
      const report = planCompose(args.compose, progress, { medium: args.medium });
      process.stdout.write(args.json ? jsonDocument(report, warnings) : formatPlanReport(report));
      return 0;
    }),
};
