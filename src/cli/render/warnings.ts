/**
 * Keeps the warnings a command reports, for the `warnings` of its --json document: the same
 * text as the `warning: ...` lines on stderr, without the prefix.
 */
import type { Progress } from '../../runtime/progress.js';

export interface RecordedWarnings {
  /** Passes everything on to the renderer, and keeps each warning. */
  readonly progress: Progress;
  readonly warnings: string[];
}

export function recordWarnings(progress: Progress): RecordedWarnings {
  const warnings: string[] = [];
  return {
    warnings,
    progress: {
      info: (message) => progress.info(message),
      warn: (message) => {
        warnings.push(message);
        progress.warn(message);
      },
      compressionStarted: progress.compressionStarted?.bind(progress),
      imageStarted: progress.imageStarted?.bind(progress),
      imageProgress: progress.imageProgress?.bind(progress),
      imageFinished: progress.imageFinished?.bind(progress),
      close: progress.close?.bind(progress),
    },
  };
}

/** A --json document: the result, then the warnings. */
export function jsonDocument(result: object, warnings: readonly string[]): string {
  return `${JSON.stringify({ ...result, warnings }, null, 2)}\n`;
}
