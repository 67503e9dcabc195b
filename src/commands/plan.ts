/**
 * `mediacompose plan`: load, prepare the roots without root: (stage 1), scan and compare
 * (scan-roots), plan, and report what the plan shares, stores twice and saves; with it, the
 * compose summary, the near misses and, unless left out, the compressed-size estimate against
 * the budget. Writes no medium.
 */
import { loadCompose } from '../config/load.js';
import type { ComposeOverrides } from '../config/overrides.js';
import type { ComposeSpec } from '../config/spec.js';
import { FORMATS, archiveFileName } from '../formats/registry.js';
import { type EstimateVerdict, judgeEstimate } from '../plan/budget.js';
import { estimateImages } from '../archive/estimate.js';
import type { MediumEstimate } from '../model/estimate.js';
import { type NearMisses, findNearMisses } from '../plan/near-misses.js';
import { type ImagesetScan, planMedium } from '../plan/plan.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import { type ComposeSummary, composeSummary } from '../plan/summary.js';
import { type PreparedRoot, prepareRoots } from '../prepare/prepare.js';
import type { Progress } from '../runtime/progress.js';
import { ContentDigests } from '../scan/digests.js';
import { scanRoots } from './scan-roots.js';

export interface PlanDocument {
  readonly spec: ComposeSpec;
  readonly summary: ComposeSummary;
  readonly report: PlanReport;
  readonly nearMisses: NearMisses;
  readonly estimate?: MediumEstimate;
  readonly verdict?: EstimateVerdict;
  /** The roots prepared from repositories first, or reused (empty when none). */
  readonly prepared: readonly PreparedRoot[];
}

export interface PlanOptions extends ComposeOverrides {
  /** Estimate compressed sizes from samples, `jobs` samples at once. */
  readonly estimate: boolean;
  readonly jobs: number;
}

export async function planCompose(composeFile: string, progress: Progress, options: PlanOptions): Promise<PlanDocument> {
  const spec = loadCompose(composeFile, options);
  const prepared = (await prepareRoots(spec, progress)).roots;
  const digests = new ContentDigests();
  let scans: ImagesetScan[];
  try {
    scans = await scanRoots(spec, digests, progress, { nearMisses: true });
  } finally {
    digests.close();
  }
  const fileOf = (stem: string): string => archiveFileName(stem, spec.compression);
  const plan = planMedium(spec, scans);
  const report = reportPlan(plan, scans, fileOf);
  const nearMisses = findNearMisses(spec, scans);
  if (!options.estimate) return { spec, summary: composeSummary(spec), report, nearMisses, prepared };
  progress.info(`estimating compressed sizes (${spec.compression} -${spec.level}) from samples of ${plan.images.length} images`);
  const estimate = await estimateImages(plan.images.map((i) => ({ file: fileOf(i.stem), members: i.members })), {
    format: FORMATS[spec.compression],
    level: spec.level,
    jobs: options.jobs,
  });
  return { spec, summary: composeSummary(spec), report, nearMisses, estimate, verdict: judgeEstimate(spec.budget, estimate), prepared };
}

/** The document `plan --json` prints. */
export function planJson(doc: PlanDocument): object {
  const { summary, report, nearMisses, estimate, verdict, prepared } = doc;
  const byFile = new Map(estimate?.images.map((e) => [e.file, e]));
  return {
    /** The medium folder a build would write (compose.yaml's medium:, or --medium). */
    medium: doc.spec.medium,
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
    prepared,
  };
}
