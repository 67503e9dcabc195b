/**
 * `mediacompose plan`: load, scan and compare (scan-roots), plan, and report what the plan shares,
 * stores twice and saves. Writes nothing.
 */
import { loadCompose } from '../config/load.js';
import { archiveFileName } from '../model/names.js';
import { planMedium } from '../plan/plan.js';
import { type PlanReport, reportPlan } from '../plan/report.js';
import type { Progress } from '../runtime/progress.js';
import { scanRoots } from './scan-roots.js';

export function planCompose(composeFile: string, progress: Progress): PlanReport {
  const spec = loadCompose(composeFile);
  const scans = scanRoots(spec, progress);
  return reportPlan(planMedium(spec, scans), scans, (stem) => archiveFileName(stem, spec.compression));
}
