/** The compose summary at the top of `mediacompose plan`, as text. */
import { type ComposeSummary, size } from '../../plan/summary.js';

export function formatSummary(s: ComposeSummary): string {
  const budget = [
    s.budget.medium === null ? 'medium unlimited' : `medium ${size(s.budget.medium)}`,
    s.budget.file === null ? `files unlimited (warning at ${size(s.budget.file_warning!)}, ISO 9660)` : `every archive below ${size(s.budget.file)}`,
  ].join(', ');
  const layering = s.layering.auto ? `automatic, groups of at least ${size(s.layering.min_size)}` : 'declared images only';
  const declared = s.declared_images.length > 0 ? ` after declared ${s.declared_images.join(', ')}` : '';
  return [
    `compose:     ${s.compose}`,
    `medium:      ${s.medium}`,
    `compression: ${s.compression} -${s.level} (*.${s.extension})`,
    `archs:       ${s.archs.join(', ')} (${s.imagesets} imagesets)`,
    `metadata:    ${s.metadata.join(', ') || 'none'}`,
    `layering:    ${layering}${s.layering.auto ? declared : ''}`,
    `budget:      ${budget}`,
    '',
  ].join('\n');
}
