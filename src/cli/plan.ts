import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { planCompose } from '../commands/plan.js';
import { formatPlanReport } from './render/plan-report.js';
import { formatPrepared } from './render/prepared.js';
import { plainProgress } from './render/progress.js';
import { runCommand } from './run.js';

interface PlanArgs {
  compose: string;
  json: boolean;
  debug: boolean;
}

export const planCommand: CommandModule<{ debug: boolean }, PlanArgs> = {
  command: 'plan <compose>',
  describe: 'show the layering and what it saves; write no medium (roots without root: are prepared first)',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('json', { type: 'boolean', default: false, describe: 'print the plan as one JSON document' })
      .example('$0 plan compose.yaml', 'images, their users and sizes, per imageset its images in order')
      .example('$0 plan compose.yaml --json | jq .totals', 'the saving, for scripts'),
  handler: (args: ArgumentsCamelCase<PlanArgs>) =>
    runCommand(args.debug, async () => {
      const { report, prepared } = await planCompose(args.compose, plainProgress(args.json));
      const text = formatPrepared(prepared) + formatPlanReport(report);
      process.stdout.write(args.json ? `${JSON.stringify({ ...report, prepared }, null, 2)}\n` : text);
      return 0;
    }),
};
