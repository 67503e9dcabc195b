/** plan's compressed-size estimate and its verdict against the budget, as text. */
import type { ComposeSpec } from '../../config/spec.js';
import type { EstimateVerdict } from '../../plan/budget.js';
import type { Estimate, MediumEstimate } from '../../model/estimate.js';
import { size } from '../../plan/summary.js';
import { mb } from '../../runtime/format.js';

/** The estimate as text: per image, the medium, and the verdict against the budget. */
export function formatEstimate(spec: ComposeSpec, estimate: MediumEstimate, judged: EstimateVerdict): string {
  const share = estimate.images.reduce((n, e) => n + e.tar_bytes, 0);
  const percent = share > 0 ? ((100 * estimate.sampled) / share).toFixed(1) : '100.0';
  const range = (e: Estimate): string => (e.low === e.high ? 'exact' : `${mb(e.low)} - ${mb(e.high)}`);
  const rangeMb = (e: Estimate): string => (e.low === e.high ? 'exact' : `${range(e)} MB`);
  const rows = estimate.images.map((e) => [e.file, mb(e.tar_bytes), mb(e.bytes), range(e)]);
  const header = ['image', 'tar MB', 'estimated MB', 'range MB'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const lines = [
    `estimate (${spec.compression} -${spec.level}, ${percent}% of the tar streams compressed in ${estimate.seconds.toFixed(1)}s):`,
    line(header),
    ...rows.map(line),
    `medium: about ${mb(estimate.bytes)} MB compressed (${rangeMb(estimate)})`,
  ];
  if (judged.medium !== null) {
    lines.push(`budget.medium ${size(spec.budget.medium!)}: ${judged.medium}${judged.medium === 'fits' ? '' : ` (estimate ${mb(estimate.low)} - ${mb(estimate.high)} MB)`}`);
  }
  const limit = spec.budget.file === undefined ? `4 GiB (ISO 9660; warning only)` : `budget.file ${size(spec.budget.file)}`;
  if (judged.files.length === 0) lines.push(`every archive below ${limit}: fits`);
  for (const f of judged.files) lines.push(`${f.file} against ${limit}: ${f.verdict}`);
  return `${lines.join('\n')}\n`;
}
