/**
 * What the command line may set instead of compose.yaml: `--medium DIR` (build, plan, verify).
 */
import path from 'node:path';
import type { ComposeSpec } from './spec.js';

export interface ComposeOverrides {
  /** The medium's folder, replacing `medium:`; relative to the current folder. */
  readonly medium?: string;
}

export function applyOverrides(spec: ComposeSpec, overrides: ComposeOverrides | undefined): ComposeSpec {
  if (overrides?.medium === undefined) return spec;
  return Object.freeze({ ...spec, medium: path.resolve(overrides.medium) });
}
