#!/usr/bin/env node
// The package.json that npm pack and npm publish put in the package: the repository's own, less
// its `prepare` script. A checkout needs prepare (npm ci compiles dist/ and writes the demo roots);
// the package ships dist/ compiled and runs no script at install, so npm has none to warn about.
// prepack: node scripts/pack-manifest.js strip; postpack: node scripts/pack-manifest.js restore
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const manifest = fileURLToPath(new URL('../package.json', import.meta.url));
const kept = `${manifest}.checkout`;

if (process.argv[2] === 'strip') {
  // A pack that failed before postpack left the checkout's file kept: start from it again.
  const text = fs.existsSync(kept) ? fs.readFileSync(kept, 'utf8') : fs.readFileSync(manifest, 'utf8');
  fs.writeFileSync(kept, text);
  const json = JSON.parse(text);
  delete json.scripts.prepare;
  fs.writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
} else if (process.argv[2] === 'restore') {
  if (fs.existsSync(kept)) fs.renameSync(kept, manifest);
} else {
  process.stderr.write('usage: node scripts/pack-manifest.js strip|restore\n');
  process.exit(2);
}
