/**
 * What the command line may set instead of compose.yaml: `--medium DIR` (build, plan, verify).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { overlapProblems } from './medium-limits.js';
import type { ComposeSpec } from './spec.js';

export interface ComposeOverrides {
  /** The medium's folder, replacing `medium:`; relative to the current folder. */
  readonly medium?: string;
}

export function applyOverrides(spec: ComposeSpec, overrides: ComposeOverrides | undefined): ComposeSpec {
  if (overrides?.medium === undefined) return spec;
  const overridden: ComposeSpec = Object.freeze({ ...spec, medium: path.resolve(overrides.medium) });
  // The medium folder and the roots must not overlap, as medium-limits.ts checks for medium:.
  const [overlap] = overlapProblems(overridden, undefined);
  if (overlap) throw new UsageError(undefined, `--medium ${overrides.medium}: ${overlap.what}`, overlap.hint);
  return overridden;
}
