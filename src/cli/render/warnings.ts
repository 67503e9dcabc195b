/**
 * Keeps the warnings a command reports, for the `warnings` of its --json document: the same
 * text as the `warning: ...` lines on stderr, without the prefix.
 */
import type { Progress } from '../../runtime/progress.js';
import type { WarningCode } from '../../model/warnings.js';

export interface RecordedWarnings {
  /** Passes everything on to the renderer, and keeps each warning. */
  readonly progress: Progress;
  readonly warnings: string[];
  /** How many warnings of each code (a warning without one is not counted here). */
  readonly codes: Map<WarningCode, number>;
}

export function recordWarnings(progress: Progress): RecordedWarnings {
  const warnings: string[] = [];
  const codes = new Map<WarningCode, number>();
  return {
    warnings,
    codes,
    progress: {
      info: (message) => progress.info(message),
      warn: (message, code) => {
        warnings.push(message);
        if (code !== undefined) codes.set(code, (codes.get(code) ?? 0) + 1);
        progress.warn(message, code);
      },
      compressionStarted: progress.compressionStarted?.bind(progress),
      imageStarted: progress.imageStarted?.bind(progress),
      imageProgress: progress.imageProgress?.bind(progress),
      imageFinished: progress.imageFinished?.bind(progress),
      close: progress.close?.bind(progress),
    },
  };
}

/**
 * A --json document: the result, then the warnings (their text, as on stderr) and how many of
 * each code (docs/warnings.md), codes in byte order.
 */
export function jsonDocument(result: object, recorded: Pick<RecordedWarnings, 'warnings' | 'codes'>): string {
  const warning_codes = Object.fromEntries([...recorded.codes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ ...result, warnings: recorded.warnings, warning_codes }, null, 2)}\n`;
}
