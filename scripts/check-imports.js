#!/usr/bin/env node
// The stages of src/ import only downwards. LAYERS lists them bottom to top; a module may import
// from its own stage or from a stage below it, never from one above, and the modules form no
// circle. Prints one line per offence and exits 1 when there is one; `--graph` prints the
// stage-to-stage edges with their counts instead.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAYERS = [
  'model', 'runtime', 'formats', 'config', 'manifest', 'plan', 'archive', 'scan', 'medium', 'pkgdb',
  'cache', 'checksums', 'prepare', 'schedule', 'verify', 'commands', 'cli',
];

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm;

/** Every module of `src` (relative path without `.ts`) and the modules it imports. */
export function importGraph(src) {
  const graph = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        const targets = new Set();
        for (const m of text.matchAll(IMPORT)) {
          const spec = m[1] ?? m[2];
          if (!spec.startsWith('.')) continue;
          const target = path.relative(src, path.resolve(path.dirname(full), spec)).replace(/\.js$/, '');
          targets.add(target);
        }
        graph.set(path.relative(src, full).replace(/\.ts$/, ''), targets);
      }
    }
  };
  walk(src);
  return graph;
}

// A module at the top of src/ (errors.ts) is below every stage.
const rankOf = (stage) => (stage === '' ? -1 : LAYERS.includes(stage) ? LAYERS.indexOf(stage) : undefined);
const stageOf = (module) => (module.includes('/') ? module.slice(0, module.indexOf('/')) : '');

/** Offences: unknown stages, imports upwards, and the circles among modules. */
export function offences(graph) {
  const found = [];
  for (const [from, targets] of graph) {
    const fromStage = stageOf(from);
    const fromRank = rankOf(fromStage);
    if (fromRank === undefined) { found.push(`${from}: stage ${fromStage}/ is not in LAYERS`); continue; }
    for (const to of targets) {
      if (!graph.has(to)) { found.push(`${from}: imports ${to}, which is not a module of src/`); continue; }
      const toRank = rankOf(stageOf(to)) ?? Infinity;
      if (toRank > fromRank) found.push(`${from}: imports ${to} from a higher stage (${stageOf(to) || 'src'}/ is above ${fromStage || 'src'}/)`);
    }
  }
  for (const circle of circles(graph)) found.push(`circle: ${circle.join(' -> ')}`);
  return found;
}

/** Each strongly connected set of modules with more than one member, as a path through it. */
function circles(graph) {
  const index = new Map(), low = new Map(), onStack = new Set(), stack = [], result = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const set = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); set.push(w); } while (w !== v);
      if (set.length > 1 || graph.get(v).has(v)) result.push(set.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const graph = importGraph(src);
  if (process.argv.includes('--graph')) {
    const edges = new Map();
    for (const [from, targets] of graph) for (const to of targets) {
      const key = `${stageOf(from)} -> ${stageOf(to)}`;
      if (stageOf(from) !== stageOf(to)) edges.set(key, (edges.get(key) ?? 0) + 1);
    }
    for (const [edge, count] of [...edges].sort()) console.log(`${edge} ${count}`);
  } else {
    const found = offences(graph);
    for (const line of found) console.log(line);
    if (found.length > 0) process.exit(1);
    console.log(`${graph.size} modules, ${LAYERS.length} stages: every import goes downwards, no circle`);
  }
}
