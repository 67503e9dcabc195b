/**
 * Reads compose.yaml into a frozen ComposeSpec, following docs/compose-spec.md ("compose.yaml").
 * Every problem is collected with the line and column of the YAML node it is about; one
 * ComposeError (exit 2) then lists them all, so a person can fix the file in one pass.
 *
 * Two descriptions of the structure, chosen on purpose: this hand-written loader is the one
 * source of positioned errors, and schema/compose.schema.json (for editors) describes the same
 * structure; test/ux/schema.test.ts holds them in step (every compose text of the loader's cases
 * and the templates is accepted by both or rejected by both). Driving the structure from the
 * schema with ajv, its instancePath mapped to YAML positions, would give up messages the loader
 * words per field (hints, the closest key, size units, quoting advice) that ajv's keyword errors
 * cannot carry, and would still leave the cross-item and file-system rules (rules.ts, fields.ts)
 * hand-written.
 *
 * load.ts: the top level, in reading order; reader.ts: YAML nodes with positions, problems,
 * hints; fields.ts: each field's validation; package-source.ts: repositories:, prepare: and
 * packages:; rules.ts: cross-item rules (uniqueness, file names).
 */
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ComposeError, MediaComposeError, describeSystemError } from '../errors.js';
import { readInputText } from '../runtime/input-file.js';
import type { ComposeSpec } from './spec.js';
import { Reader, deepFreeze, reportSyntaxErrors, sortProblems, unreadableFileHint } from './reader.js';
import { readChecksums, readCompression, readBudget, readCheckAttributes, readLayering, readLevel, readMedium, readMetadata, readVersion } from './fields.js';
import { readArchDefault, readImages, readImagesets } from './imagesets.js';
import { checkImages, checkImagesets, completeImage, completeImageset } from './rules.js';
import { readPrepare, readRepositories } from './package-source.js';
import { mediumLimitProblems } from './medium-limits.js';
import { type ComposeOverrides, applyOverrides } from './overrides.js';

const TOP_KEYS = ['version', 'medium', 'compression', 'level', 'arch', 'repositories', 'prepare', 'imagesets', 'images', 'metadata', 'layering', 'budget', 'checksums', 'check_attributes'];

/**
 * Reads and validates a compose file; throws ComposeError listing every problem. With
 * `overrides`, the command line's `--medium` replaces `medium:`, and the checks that concern the
 * medium folder apply to the one given there, not to the one the file names.
 */
export function loadCompose(file: string, overrides?: ComposeOverrides): ComposeSpec {
  let text: string;
  try {
    text = readInputText(file, 'compose', 'follow');
  } catch (err) {
    if (err instanceof MediaComposeError) throw new ComposeError(file, [{ what: err.what, ...(err.hint ? { hint: err.hint } : {}) }]);
    throw new ComposeError(file, [
      { what: `cannot read compose file: ${describeSystemError(err)}`, hint: unreadableFileHint(err) },
    ]);
  }
  return applyOverrides(parseCompose(text, file, overrides), overrides);
}

/**
 * Validates compose.yaml text. `file` is the compose file's path: relative paths inside it are
 * resolved against its folder, and messages name it as given.
 */
export function parseCompose(text: string, file: string, overrides?: ComposeOverrides): ComposeSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const reader = new Reader(doc, lines, path.dirname(path.resolve(file)));
  reportSyntaxErrors(reader, doc);
  const spec = reader.problems.length === 0 ? readSpec(reader, path.resolve(file), overrides) : undefined;
  if (reader.problems.length > 0 || spec === undefined) {
    throw new ComposeError(file, sortProblems(reader.problems));
  }
  return deepFreeze(spec);
}

// ---------------------------------------------------------------------------------------------
// Top level

function readSpec(reader: Reader, file: string, overrides: ComposeOverrides | undefined): ComposeSpec | undefined {
  const top = reader.top();
  if (!top) {
    reader.problem(undefined, 'compose file is empty', 'write at least medium: and imagesets:, or run `mediacompose init`');
    return undefined;
  }
  const map = reader.map(top, 'compose file', 'the top level is a mapping of keys such as medium: and imagesets:');
  if (!map) return undefined;
  const fields = reader.fields(map, TOP_KEYS, 'the top level', top.at);

  readVersion(reader, fields.get('version'));
  const medium = readMedium(reader, fields, top.at);
  const compression = readCompression(reader, fields.get('compression'));
  const level = readLevel(reader, fields.get('level'), compression);
  const archDefault = readArchDefault(reader, fields.get('arch'));
  const repositories = readRepositories(reader, fields.get('repositories'));
  const prepare = readPrepare(reader, fields.get('prepare'));
  const imagesets = readImagesets(reader, fields, top.at, archDefault, fields.has('repositories'));
  checkImagesets(reader, imagesets);
  const images = readImages(reader, fields.get('images'), imagesets);
  checkImages(reader, images, imagesets);
  const metadata = readMetadata(reader, fields.get('metadata'));
  const layering = readLayering(reader, fields.get('layering'), fields.has('images'));
  const budget = readBudget(reader, fields.get('budget'));
  const checksums = readChecksums(reader, fields.get('checksums'));
  const checkAttributes = readCheckAttributes(reader, fields.get('check_attributes'));

  if (reader.problems.length > 0) return undefined;
  const spec: ComposeSpec = {
    file,
    medium,
    compression,
    level,
    imagesets: imagesets.map((d) => completeImageset(d, prepare)),
    images: images.map(completeImage),
    imagesDeclared: fields.has('images'),
    metadata,
    layering,
    repositories,
    prepare,
    budget,
    checkAttributes,
    ...(checksums ? { checksums } : {}),
  };
  // A --medium replacing medium: is checked against the roots by applyOverrides, this one not at all.
  for (const p of mediumLimitProblems(spec, fields.get('medium')?.at, overrides?.medium === undefined)) reader.problems.push(p);
  return reader.problems.length > 0 ? undefined : spec;
}
