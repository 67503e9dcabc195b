/**
 * Near misses as text (`mediacompose plan`): one paragraph per group, largest first, with a few
 * paths each and the declared image they would have joined.
 */
import type { NearMisses } from '../../plan/near-misses.js';
import { mb } from '../../runtime/format.js';

/** The near misses as text: one paragraph per group, largest first, then the total. */
export function formatNearMisses(result: NearMisses, limit = 10): string {
  if (result.near_misses.length === 0) return 'near misses (same content, other metadata): none\n';
  const count = result.near_misses.length === 1 ? '1 path' : `${result.near_misses.length} paths`;
  const lines = [`near misses (same content, other metadata): ${count}, ${mb(result.bytes)} MB stored again`];
  for (const g of result.groups.slice(0, limit)) {
    const paths = g.paths === 1 ? '1 path' : `${g.paths} paths`;
    const join = g.would_join.length > 0 ? `; would join ${g.would_join.join(', ')}` : '';
    lines.push(`  ${mb(g.bytes)} MB: ${paths} differ in ${g.differs.join(', ')} between ${g.imagesets.join(', ')} (${g.arch})${join}`);
    for (const example of g.examples) lines.push(`      ${example}`);
  }
  if (result.groups.length > limit) lines.push(`  ... ${result.groups.length - limit} more groups (plan --json lists every path)`);
  return `${lines.join('\n')}\n`;
}
