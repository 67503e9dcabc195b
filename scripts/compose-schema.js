#!/usr/bin/env node
// Writes schema/compose.schema.json, the JSON schema editors check compose.yaml with, from
// schema/compose.schema.base.json and the format records (dist/formats/registry.js): the
// compression names, each format's level range and its usual level come from the records, so a
// new format needs no edit here. Run by `npm run build` (and so by npm ci and npm test).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { FORMATS, DEFAULT_COMPRESSION } = await import(path.join(here, '..', 'dist', 'formats', 'registry.js'));
const schema = JSON.parse(fs.readFileSync(path.join(here, '..', 'schema', 'compose.schema.base.json'), 'utf8'));

const formats = Object.values(FORMATS);
const list = (words) => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`);
schema.properties.compression = {
  description: `Archive format: ${list(formats.map((f) => `${f.name} (*.${f.extension})`))}.`,
  enum: formats.map((f) => f.name),
  default: DEFAULT_COMPRESSION,
};
const byUsual = new Map();
for (const f of formats) byUsual.set(f.levels.usual, [...(byUsual.get(f.levels.usual) ?? []), f.name]);
schema.properties.level = {
  description:
    `Compression level, within the format's range (default: the format's usual level: ` +
    `${[...byUsual].map(([level, names]) => `${level} for ${list(names)}`).join(', ')}).`,
  type: 'integer',
  minimum: Math.min(...formats.map((f) => f.levels.min)),
  maximum: Math.max(...formats.map((f) => f.levels.max)),
};
// Each format's own range, when its levels are not the widest (no compression: the default's).
for (const f of formats) {
  const when = f.name === DEFAULT_COMPRESSION
    ? { anyOf: [{ not: { required: ['compression'] } }, { properties: { compression: { const: f.name } }, required: ['compression'] }] }
    : { properties: { compression: { const: f.name } }, required: ['compression'] };
  schema.allOf.push({
    if: when,
    then: { properties: { level: { type: 'integer', minimum: f.levels.min, maximum: f.levels.max, description: `${f.name}: ${f.levels.min}..${f.levels.max}, usually ${f.levels.usual}` } } },
  });
}
const out = path.join(here, '..', 'schema', 'compose.schema.json');
fs.writeFileSync(`${out}.tmp`, `${JSON.stringify(schema, null, 2)}\n`);
fs.renameSync(`${out}.tmp`, out);
