import type { PreparedRoot } from '../../prepare/prepare.js';

/** One line per prepared or reused root, for `prepare`, `plan` and `build`. */
export function preparedLines(roots: readonly PreparedRoot[]): string[] {
  return roots.map((r) => `root ${r.imageset}-${r.arch}: ${r.status}, ${r.packages} packages${r.base ? ` (on a copy of ${r.base})` : ''}`);
}

/** The same lines as text (empty when no root was prepared). */
export function formatPrepared(roots: readonly PreparedRoot[]): string {
  return preparedLines(roots).map((line) => `${line}\n`).join('');
}
