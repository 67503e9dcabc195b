import os from 'node:os';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { planCompose, planJson } from '../commands/plan.js';
import { formatEstimate } from './render/estimate.js';
import { formatNearMisses } from './render/near-misses.js';
import { formatPlanReport } from './render/plan-report.js';
import { formatPrepared } from './render/prepared.js';
import { plainProgress } from './render/progress.js';
import { formatSummary } from './render/summary.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { jobsOption, jsonOption, mediumOption, quietOption, showCommands, silent } from './options.js';
import { runCommand } from './run.js';

interface PlanArgs {
  compose: string;
  medium?: string;
  json: boolean;
  quiet?: boolean;
  estimate: boolean;
  jobs?: number;
  debug: boolean;
  verbose?: boolean;
}

export const planCommand: CommandModule<{ debug: boolean; verbose?: boolean }, PlanArgs> = {
  command: 'plan <compose>',
  describe: 'show the layering, what it saves, near misses and whether the medium fits; write no medium (roots without root: are prepared first)',
  builder: (y: Argv<{ debug: boolean; verbose?: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('medium', mediumOption)
      .option('json', jsonOption('the plan'))
      .option('quiet', quietOption)
      .option('estimate', { type: 'boolean', default: true, describe: 'estimate compressed sizes from samples (--no-estimate: skip)' })
      .option('jobs', jobsOption('samples compressed at once'))
      .example('$0 plan compose.yaml', 'summary, images, their users and sizes, near misses, the estimate against the budget')
      .example('$0 plan compose.yaml --json | jq .near_misses', 'identical content not shared because its metadata differs'),
  handler: (args: ArgumentsCamelCase<PlanArgs>) =>
    runCommand(args.debug, async () => {
      const recorded = recordWarnings(plainProgress(silent(args)));
      const { progress } = recorded;
      showCommands(progress, args.verbose);
      const doc = await planCompose(args.compose, progress, {
        estimate: args.estimate,
        jobs: args.jobs ?? os.availableParallelism(),
        medium: args.medium,
      });
      if (args.json) {
        process.stdout.write(jsonDocument(planJson(doc), recorded));
        return 0;
      }
      const { summary, report, nearMisses, estimate, verdict, spec, prepared } = doc;
      const sections = [formatPrepared(prepared) + formatSummary(summary), formatPlanReport(report), formatNearMisses(nearMisses)];
      if (estimate && verdict) sections.push(formatEstimate(spec, estimate, verdict));
      process.stdout.write(sections.join('\n'));
      return 0;
    }),
};
