import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript script without types
import { LAYERS, importGraph, offences } from '../../scripts/check-imports.js';

type Graph = Map<string, Set<string>>;
const check = offences as (graph: Graph) => string[];
const graphOf = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

describe('the stages of src/', () => {
  it('import only downwards, and no module imports itself back through others', () => {
    const graph = (importGraph as (src: string) => Graph)(path.resolve('src'));
    expect(graph.size).toBeGreaterThan(100);
    expect(check(graph)).toEqual([]);
  });

  it('every folder of src/ is a stage in the list', () => {
    const graph = (importGraph as (src: string) => Graph)(path.resolve('src'));
    const stages = new Set([...graph.keys()].filter((m) => m.includes('/')).map((m) => m.slice(0, m.indexOf('/'))));
    expect([...stages].sort()).toEqual([...(LAYERS as string[])].sort());
  });

  it('the check finds an import upwards, a circle and an unknown stage', () => {
    expect(check(graphOf({ 'model/a': ['plan/b'], 'plan/b': [] }))).toEqual(['model/a: imports plan/b from a higher stage (plan/ is above model/)']);
    expect(check(graphOf({ 'plan/a': ['plan/b'], 'plan/b': ['plan/c'], 'plan/c': ['plan/a'] }))).toEqual(['circle: plan/a -> plan/b -> plan/c']);
    expect(check(graphOf({ 'attic/a': [] }))).toEqual(['attic/a: stage attic/ is not in LAYERS']);
    expect(check(graphOf({ errors: ['model/a'], 'model/a': ['errors'] }))[0]).toContain('from a higher stage');
  });
});
