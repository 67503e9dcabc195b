#!/usr/bin/env node
// Writes the demo roots that the repository's compose.yaml builds from, with the generator that
// `mediacompose init --template demo` uses (src/commands/demo-roots.ts; run `npm run build` first).
// Usage: node scripts/demo-roots.js [DIR]   (default: demo/roots beside this script's folder)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDemoRoots } from '../dist/commands/demo-roots.js';

const dir = path.resolve(process.argv[2] ?? fileURLToPath(new URL('../demo/roots', import.meta.url)));
await writeDemoRoots(dir);
process.stdout.write(`demo roots written to ${dir}\n`);
