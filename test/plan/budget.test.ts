/** The budget verdicts: real sizes after a build, estimates in plan. */
import { describe, expect, it } from 'vitest';
import { checkBudget, describeOverBudget, judgeEstimate } from '../../src/plan/budget.js';
import type { ImageEstimate, MediumEstimate } from '../../src/model/estimate.js';

const GiB = 1024 ** 3;

describe('checkBudget', () => {
  const archives = [{ file: 'a.tar.xz', bytes: 5 * GiB }, { file: 'b.tar.xz', bytes: 4 * GiB - 1 }, { file: 'c.tar.xz', bytes: 4 * GiB }];

  it('without budget.file, warns about archives of 4 GiB or more and fails nothing', () => {
    const check = checkBudget({}, archives, 13 * GiB);
    expect(check.filesWarned.map((f) => f.file)).toEqual(['a.tar.xz', 'c.tar.xz']);
    expect(check.filesOver).toEqual([]);
    expect(check.mediumOver).toBeUndefined();
    expect(describeOverBudget({}, check, archives)).toBeUndefined();
  });

  it('with budget.file, every archive must be strictly below it', () => {
    const check = checkBudget({ file: 4 * GiB }, archives, 13 * GiB);
    expect(check.filesOver.map((f) => f.file)).toEqual(['a.tar.xz', 'c.tar.xz']);
    expect(check.filesWarned).toEqual([]);
    expect(describeOverBudget({ file: 4 * GiB }, check, archives)).toContain('c.tar.xz is 4.29 GB (4294967296 bytes), 1 B over budget.file (every archive strictly below 4 GiB)');
  });

  it('budget.medium counts the whole folder and names the three largest archives', () => {
    const budget = { medium: 4_700_000_000 };
    expect(checkBudget(budget, archives, 4_700_000_000).mediumOver).toBeUndefined();
    const check = checkBudget(budget, archives, 4_700_000_001);
    expect(check.mediumOver).toBe(1);
    expect(describeOverBudget(budget, check, archives)).toBe(
      'the images come to 4.70 GB (4700000001 bytes), 1 B over budget.medium 4.7 GB; largest: a.tar.xz 5368.7 MB, c.tar.xz 4295.0 MB, b.tar.xz 4295.0 MB',
    );
  });
});

describe('judgeEstimate', () => {
  const image = (file: string, bytes: number, low: number, high: number): ImageEstimate => ({ file, bytes, low, high, tar_bytes: 0, sampled: 0, exact: false });
  const medium = (images: ImageEstimate[]): MediumEstimate => ({
    images, bytes: images.reduce((n, i) => n + i.bytes, 0), low: images.reduce((n, i) => n + i.low, 0), high: images.reduce((n, i) => n + i.high, 0), sampled: 0, seconds: 0,
  });

  it('fits when the high end does, does not when the low end does not, else may not', () => {
    const e = medium([image('a', 100, 80, 120), image('b', 50, 40, 60)]);
    expect(judgeEstimate({ medium: 180 }, e).medium).toBe('fits');
    expect(judgeEstimate({ medium: 150 }, e).medium).toBe('may not fit');
    expect(judgeEstimate({ medium: 119 }, e).medium).toBe('does not fit');
    expect(judgeEstimate({}, e).medium).toBeNull();
    expect(judgeEstimate({ file: 100 }, e).files).toEqual([{ file: 'a', verdict: 'may not fit' }]);
    expect(judgeEstimate({ file: 40 }, e).files).toEqual([{ file: 'a', verdict: 'does not fit' }, { file: 'b', verdict: 'does not fit' }]);
  });
});
