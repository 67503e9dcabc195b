/**
 * Does the medium fit: compressed sizes (estimated by `plan`, real after `build` compressed them)
 * against compose.yaml's budget. Pure.
 */
import { type BudgetSpec, ISO9660_FILE_LIMIT } from '../config/spec.js';
import type { Estimate, MediumEstimate } from '../model/estimate.js';
import { mb } from '../runtime/format.js';
import { size } from './summary.js';

export interface SizedFile {
  readonly file: string;
  readonly bytes: number;
}

export interface BudgetCheck {
  /** Bytes of the whole images folder. */
  readonly total: number;
  /** Bytes above budget.medium, when over it. */
  readonly mediumOver?: number;
  /** Archives at or above budget.file. */
  readonly filesOver: readonly SizedFile[];
  /** Archives at or above 4 GiB when no budget.file is given (a warning: ISO 9660). */
  readonly filesWarned: readonly SizedFile[];
}

export function checkBudget(budget: BudgetSpec, archives: readonly SizedFile[], total: number): BudgetCheck {
  const fileLimit = budget.file ?? ISO9660_FILE_LIMIT;
  const large = archives.filter((a) => a.bytes >= fileLimit);
  return {
    total,
    ...(budget.medium !== undefined && total > budget.medium ? { mediumOver: total - budget.medium } : {}),
    filesOver: budget.file === undefined ? [] : large,
    filesWarned: budget.file === undefined ? large : [],
  };
}

/** The failures of a check as one sentence, naming the largest archives; undefined when it passes. */
export function describeOverBudget(budget: BudgetSpec, check: BudgetCheck, archives: readonly SizedFile[]): string | undefined {
  const parts: string[] = [];
  if (check.mediumOver !== undefined) {
    const largest = [...archives].sort((a, b) => b.bytes - a.bytes || (a.file < b.file ? -1 : 1)).slice(0, 3);
    parts.push(
      `the images come to ${human(check.total)} (${check.total} bytes), ${human(check.mediumOver)} over budget.medium ${size(budget.medium!)}; ` +
        `largest: ${largest.map((a) => `${a.file} ${mb(a.bytes)} MB`).join(', ')}`,
    );
  }
  for (const f of check.filesOver) {
    parts.push(`${f.file} is ${human(f.bytes)} (${f.bytes} bytes), ${human(f.bytes - budget.file! + 1)} over budget.file (every archive strictly below ${size(budget.file!)})`);
  }
  return parts.length === 0 ? undefined : parts.join('; ');
}

export function fileWarning(f: SizedFile): string {
  return `${f.file} is ${human(f.bytes)}: ISO 9660 below level 3 holds no file of 4 GiB or more (set budget.file to make this an error, or a larger one to silence it)`;
}

type Verdict = 'fits' | 'does not fit' | 'may not fit';

export interface EstimateVerdict {
  readonly medium: Verdict | null;
  readonly files: ReadonlyArray<{ readonly file: string; readonly verdict: Verdict }>;
  /** The limit archives are checked against: budget.file, or 4 GiB as a warning. */
  readonly file_limit: number;
}

/** Whether an estimate fits: surely (its high end does), surely not (its low end does not), or maybe. */
export function judgeEstimate(budget: BudgetSpec, estimate: MediumEstimate): EstimateVerdict {
  const fileLimit = budget.file ?? ISO9660_FILE_LIMIT;
  return {
    medium: budget.medium === undefined ? null : verdict(estimate, budget.medium + 1),
    files: estimate.images.map((e) => ({ file: e.file, verdict: verdict(e, fileLimit) })).filter((f) => f.verdict !== 'fits'),
    file_limit: fileLimit,
  };
}

/** Against a limit that sizes must stay strictly below. */
function verdict(e: Estimate, limit: number): Verdict {
  if (e.high < limit) return 'fits';
  if (e.low >= limit) return 'does not fit';
  return 'may not fit';
}

/** A measured size, to a tenth of its unit. */
function human(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
