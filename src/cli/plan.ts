import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { planCompose } from '../commands/plan.js';
import { formatPlanReport } from './render/plan-report.js';
import { plainProgress } from './render/progress.js';
import { runCommand } from './run.js';

interface PlanArgs {
  compose: string;
  json: boolean;
  debug: boolean;
}

export const planCommand: CommandModule<{ debug: boolean }, PlanArgs> = {
  command: 'plan <compose>',
  describe: 'show the layering and what it saves; write nothing',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('json', { type: 'boolean', default: false, describe: 'print the plan as one JSON document' })
      .example('$0 plan compose.yaml', 'images, their users and sizes, per imageset its images in order')
      .example('$0 plan compose.yaml --json | jq .totals', 'the saving, for scripts'),
  handler: (args: ArgumentsCamelCase<PlanArgs>) =>
    runCommand(args.debug, async () => {
      const report = planCompose(args.compose, plainProgress(args.json));
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlanReport(report));
      return 0;
    }),
};
