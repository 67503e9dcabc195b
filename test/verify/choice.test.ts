/**
 * The installer's choice of an imageset (yast-installation ImageInstallation.FindImageSet), as
 * verify applies it to every imageset's own patterns.
 */
import { describe, expect, it } from 'vitest';
import { chooseImageset } from '../../src/model/installer.js';

const set = (patterns: string, archs = 'x86_64'): { patterns: string | undefined; archs: string } => ({ patterns, archs });

describe('chooseImageset', () => {
  const layered = [set('base'), set('base,x11'), set('base,x11,kde')];

  it('chooses the imageset with the most patterns, all of them selected', () => {
    expect(chooseImageset(layered, 'x86_64', ['base'])).toBe(0);
    expect(chooseImageset(layered, 'x86_64', ['base', 'x11'])).toBe(1);
    expect(chooseImageset(layered, 'x86_64', ['kde', 'x11', 'base', 'office'])).toBe(2);
    expect(chooseImageset(layered, 'x86_64', ['kde', 'x11'])).toBeUndefined();
  });

  it('takes the patterns string that sorts first on a tie, wherever it is in the file', () => {
    expect(chooseImageset([set('a,b'), set('b,c')], 'x86_64', ['a', 'b', 'c'])).toBe(0);
    expect(chooseImageset([set('b,c'), set('a,b')], 'x86_64', ['a', 'b', 'c'])).toBe(1);
  });

  it('never chooses an imageset without a <patterns> element', () => {
    expect(chooseImageset([{ patterns: undefined, archs: '' }], 'x86_64', ['a'])).toBeUndefined();
  });

  it('never chooses an imageset whose patterns hold a space (an empty name after splitting)', () => {
    expect(chooseImageset([set('a, b')], 'x86_64', ['a', 'b'])).toBeUndefined();
    expect(chooseImageset([set('a,,b')], 'x86_64', ['a', 'b'])).toBeUndefined();
  });

  it('keeps imagesets of other archs out; empty archs mean any arch', () => {
    expect(chooseImageset([set('base', 'i386')], 'x86_64', ['base'])).toBeUndefined();
    expect(chooseImageset([set('base', 'i386 x86_64')], 'x86_64', ['base'])).toBe(0);
    expect(chooseImageset([set('base', 'i386,x86_64')], 'x86_64', ['base'])).toBe(0);
    expect(chooseImageset([set('base', '')], 'ppc', ['base'])).toBe(0);
  });

  it('lets a later imageset with the same patterns string replace an earlier one', () => {
    expect(chooseImageset([set('base'), set('base')], 'x86_64', ['base'])).toBe(1);
    // 'a' sorts before 'b': the third imageset, which replaced the first, wins the tie.
    expect(chooseImageset([set('a'), set('b'), set('a')], 'x86_64', ['a', 'b'])).toBe(2);
  });

  it('lets an imageset without patterns match anything, with nothing matched', () => {
    expect(chooseImageset([set(''), set('a')], 'x86_64', ['x'])).toBe(0);
    expect(chooseImageset([set(''), set('a')], 'x86_64', ['a'])).toBe(1);
  });
});
