#!/usr/bin/env node
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('error: mediacompose is not built (run `npm ci` or `npm run build` in its folder)\n');
  process.exit(4);
}
await import(entry.href);
