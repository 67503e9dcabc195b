import os from 'node:os';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { FORMATS } from '../archive/compression.js';
import { scanAndCompare } from '../build.js';
import { loadCompose } from '../config/load.js';
import { formatEstimate, judgeEstimate } from '../plan/budget.js';
import { estimateImages } from '../plan/estimate.js';
import { findNearMisses, formatNearMisses } from '../plan/near-misses.js';
import { planMedium } from '../plan/plan.js';
import { formatPlanReport, reportPlan } from '../plan/report.js';
import { composeSummary, formatSummary } from '../plan/summary.js';
import { plainProgress } from '../progress.js';
import { runCommand } from './run.js';

interface PlanArgs {
  compose: string;
  json: boolean;
  estimate: boolean;
  jobs?: number;
  debug: boolean;
}

export const planCommand: CommandModule<{ debug: boolean }, PlanArgs> = {
  command: 'plan <compose>',
  describe: 'show the layering, what it saves, near misses and whether the medium fits; write nothing',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('json', { type: 'boolean', default: false, describe: 'print the plan as one JSON document' })
      .option('estimate', { type: 'boolean', default: true, describe: 'estimate compressed sizes from samples (--no-estimate: skip)' })
      .option('jobs', { type: 'number', describe: 'samples compressed at once (default: number of cores)' })
      .example('$0 plan compose.yaml', 'summary, images, their users and sizes, near misses, the estimate against the budget')
      .example('$0 plan compose.yaml --json | jq .near_misses', 'identical content not shared because its metadata differs'),
  handler: (args: ArgumentsCamelCase<PlanArgs>) =>
    runCommand(args.debug, async () => {
      const spec = loadCompose(args.compose);
      const progress = plainProgress(args.json);
      const scans = scanAndCompare(spec, progress, { nearMisses: true });
      const format = FORMATS[spec.compression];
      const fileOf = (stem: string): string => `${stem}.${format.extension}`;
      const plan = planMedium(spec, scans);
      const report = reportPlan(plan, scans, fileOf);
      const nearMisses = findNearMisses(spec, scans);
      if (args.estimate) progress.info(`estimating compressed sizes (${spec.compression} -${spec.level}) from samples of ${plan.images.length} images`);
      const estimate = args.estimate
        ? await estimateImages(plan.images.map((i) => ({ file: fileOf(i.stem), members: i.members })), {
          format,
          level: spec.level,
          jobs: Math.max(1, args.jobs ?? os.availableParallelism()),
        })
        : undefined;
      const verdict = estimate ? judgeEstimate(spec.budget, estimate) : undefined;
      const summary = composeSummary(spec);
      if (args.json) {
        const byFile = new Map(estimate?.images.map((e) => [e.file, e]));
        const document = {
          summary,
          ...report,
          images: report.images.map((i) => {
            const e = byFile.get(i.file);
            return e ? { ...i, estimate: { bytes: e.bytes, low: e.low, high: e.high, exact: e.exact } } : i;
          }),
          near_misses: nearMisses.near_misses,
          near_miss_groups: nearMisses.groups,
          ...(estimate ? { estimate: { bytes: estimate.bytes, low: estimate.low, high: estimate.high, sampled: estimate.sampled, seconds: estimate.seconds } } : {}),
          ...(verdict ? { budget: verdict } : {}),
        };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      } else {
        process.stdout.write(
          [formatSummary(summary), formatPlanReport(report), formatNearMisses(nearMisses), estimate ? formatEstimate(spec, estimate, verdict!) : ''].join('\n'),
        );
      }
      return 0;
    }),
};
