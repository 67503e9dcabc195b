/**
 * `mediacompose plan`: load, prepare the roots without root: (stage 1), scan and compare
 * (scan-roots), plan, and report what the plan shares, stores twice and saves. Writes no medium.
 */
import { loadCompose } from '../config/load.js';
import { archiveFileName } from '../model/names.js';
import { planMedium } from '../plan/plan.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import { type PreparedRoot, prepareRoots } from '../prepare/prepare.js';
import type { Progress } from '../runtime/progress.js';
import { scanRoots } from './scan-roots.js';

export interface PlanResult {
  readonly report: PlanReport;
  /** The roots prepared from repositories first, or reused (empty when none). */
  readonly prepared: readonly PreparedRoot[];
}

export async function planCompose(composeFile: string, progress: Progress): Promise<PlanResult> {
  const spec = loadCompose(composeFile);
  const prepared = await prepareRoots(spec, progress);
  const scans = scanRoots(spec, progress);
  const report = reportPlan(planMedium(spec, scans), scans, (stem) => archiveFileName(stem, spec.compression));
  return { report, prepared: prepared.roots };
}
