import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonDocument, recordWarnings } from '../../src/cli/render/warnings.js';
import { InputError } from '../../src/errors.js';
import { WARNING_CODES, type WarningCode } from '../../src/model/warnings.js';
import { STRICT_CODES, StrictWarnings } from '../../src/runtime/warnings.js';

const codes = Object.keys(WARNING_CODES) as WarningCode[];
const quiet = { info: () => undefined, warn: () => undefined };

describe('warning codes', () => {
  it('are each listed in docs/warnings.md, with the ones --strict makes errors', () => {
    const doc = fs.readFileSync('docs/warnings.md', 'utf8');
    for (const code of codes) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row, code).toBeDefined();
      expect(row!.trimEnd().endsWith('| error |'), code).toBe(STRICT_CODES.has(code));
    }
  });

  it('--strict holds back only the codes of its policy, and fails naming the first', () => {
    const strict = new StrictWarnings(quiet, 'about the roots');
    strict.warn('the image cache is damaged', 'MC-W-CACHE');
    strict.warn('no code at all');
    expect(() => strict.enforce('compose.yaml', 'fix it')).not.toThrow();
    strict.warn('r/a: socket skipped', 'MC-W-SOCKET');
    strict.warn('r: no package database', 'MC-W-NO-PKGDB');
    expect(() => strict.enforce('compose.yaml', 'fix it')).toThrow(new InputError('compose.yaml', '--strict: 2 warnings about the roots, the first: r/a: socket skipped', 'fix it'));
  });

  it('are counted in the --json document beside the messages', () => {
    const recorded = recordWarnings(quiet);
    recorded.progress.warn('one', 'MC-W-SOCKET');
    recorded.progress.warn('two', 'MC-W-SOCKET');
    recorded.progress.warn('three', 'MC-W-CACHE');
    const doc = JSON.parse(jsonDocument({ ok: true }, recorded));
    expect(doc.warnings).toEqual(['one', 'two', 'three']);
    expect(doc.warning_codes).toEqual({ 'MC-W-CACHE': 1, 'MC-W-SOCKET': 2 });
  });
});
