/**
 * The one --strict policy: the warning codes (model/warnings.ts) it turns into errors, and the
 * progress wrapper that holds them back until the command decides.
 */
import { InputError } from '../errors.js';
import type { Warning, WarningCode } from '../model/warnings.js';
import type { Progress } from './progress.js';

/** The warnings `--strict` makes errors (exit 3): the ones about the roots. */
export const STRICT_CODES: ReadonlySet<WarningCode> = new Set<WarningCode>(['MC-W-SOCKET', 'MC-W-SPARSE', 'MC-W-XATTR', 'MC-W-XATTR-UNCHECKED', 'MC-W-NO-PKGDB']);

/** Passes warnings on and keeps those the strict policy covers, for `--strict`. */
export class StrictWarnings implements Progress {
  private readonly held: Warning[] = [];

  constructor(
    private readonly progress: Progress,
    /** What the warnings are about, in the error: "about the roots". */
    private readonly about: string,
  ) {}

  info(message: string): void {
    this.progress.info(message);
  }

  warn(message: string, code?: WarningCode): void {
    if (code !== undefined && STRICT_CODES.has(code)) this.held.push({ code, message });
    this.progress.warn(message, code);
  }

  /** Throws the --strict error (exit 3) when a covered warning was given. */
  enforce(composeFile: string, hint: string): void {
    if (this.held.length === 0) return;
    const many = this.held.length === 1 ? '1 warning' : `${this.held.length} warnings`;
    throw new InputError(composeFile, `--strict: ${many} ${this.about}, the first: ${this.held[0]!.message}`, hint);
  }
}

/** Gives each warning to `progress` with its code. */
export function warnAll(progress: Progress, warnings: readonly Warning[]): void {
  for (const w of warnings) progress.warn(w.message, w.code);
}
