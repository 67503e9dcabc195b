/**
 * `mediacompose prepare`: load compose.yaml, then install or reuse the root of every imageset
 * that names none, from the repositories (stage 1, src/prepare/). Writes no medium.
 */
import { loadCompose } from '../config/load.js';
import { type PrepareResult, prepareRoots } from '../prepare/prepare.js';
import type { Progress } from '../runtime/progress.js';

export function prepareCompose(composeFile: string, progress: Progress): Promise<PrepareResult> {
  return prepareRoots(loadCompose(composeFile), progress);
}
