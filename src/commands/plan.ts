/**
 * `mediacompose plan`: load, scan and compare (scan-roots), plan, and report what the plan shares,
 * stores twice and saves. Writes nothing.
 */
import { loadCompose } from '../config/load.js';
import { type ComposeOverrides, applyOverrides } from '../config/overrides.js';
import { archiveFileName } from '../model/names.js';
import { planMedium } from '../plan/plan.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import type { Progress } from '../runtime/progress.js';
import { scanRoots } from './scan-roots.js';

/** The plan report, and the medium folder a build would write. */
export type PlanResult = PlanReport & { readonly medium: string };

export function planCompose(composeFile: string, progress: Progress, overrides?: ComposeOverrides): PlanResult {
  const spec = applyOverrides(loadCompose(composeFile), overrides);
  const scans = scanRoots(spec, progress);
  return { medium: spec.medium, ...reportPlan(planMedium(spec, scans), scans, (stem) => archiveFileName(stem, spec.compression)) };
}
