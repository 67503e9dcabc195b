/**
 * The plan report as text (`mediacompose plan`): tables for images and imagesets, then
 * duplicates and the saving.
 */
import type { PlanReport } from '../../plan/report.js';
import { mb } from '../../runtime/format.js';
import { table } from './table.js';

/** The report as text: tables for images and imagesets, then duplicates and the saving. */
export function formatPlanReport(report: PlanReport): string {
  const lines: string[] = [];
  lines.push(
    ...table(
      ['image', 'members', 'tar MB', 'used by'],
      report.images.map((i) => [i.file, String(i.members), mb(i.bytes), i.imagesets.join(', ')]),
      [1, 2],
    ),
    '',
    ...table(
      ['imageset', 'arch', 'patterns', 'images in extraction order'],
      report.imagesets.map((s) => [s.name, s.arch, s.patterns, s.images.join(' ')]),
      [],
    ),
    '',
  );
  if (report.duplicates.length === 0) lines.push('stored more than once: nothing');
  else {
    lines.push(`stored more than once: ${mb(report.totals.storedTwice)} MB`);
    for (const d of report.duplicates) {
      lines.push(`  ${mb(d.extraBytes)} MB extra: ${d.members} members held by ${d.imagesets.join(', ')} (${d.arch}): ${d.reason}`);
    }
  }
  const { medium, onePerRoot } = report.totals;
  const saving = onePerRoot > 0 ? (100 * (1 - medium / onePerRoot)).toFixed(1) : '0.0';
  lines.push(`medium: ${mb(medium)} MB uncompressed; one archive per root: ${mb(onePerRoot)} MB; saving ${saving}%`);
  return `${lines.join('\n')}\n`;
}
