/**
 * The JSON Schema shipped for editors and the loader agree: every compose text below is either
 * accepted by both or rejected by both. The texts are the templates and the cases of the
 * loader's own tests (test/config/load.test.ts), copied here as YAML.
 *
 * What a schema cannot say is the loader's alone; those cases are listed in LOADER_ONLY, where
 * the loader must reject them and the schema, by construction, accepts them:
 * - a root must exist, be a directory and be readable, a gpgkey a regular file (the file system);
 * - imageset names and pattern strings are unique per arch, image names unique, and no image or
 *   imageset may share a file stem with another's own or metadata archive (relations between
 *   items of a list);
 * - shared_by names must be imagesets of the same file (a reference into another list).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEMPLATES_DIR } from '../../src/cli/init.js';
import { NAME_PATTERN } from '../../src/config/imagesets.js';
import { COMPRESSION_NAMES } from '../../src/formats/registry.js';
import { parseCompose } from '../../src/config/load.js';
import { INSTALLER_ARCHS } from '../../src/model/installer.js';

const SCHEMA_FILE = path.resolve(import.meta.dirname, '../../schema/compose.schema.json');

let work: string;
let composeFile: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-schema-'));
  // Every root the texts below name, so that the loader judges the rest.
  for (const root of ['kde', 'gnome', 'x11', 'base', 'desktop']) {
    fs.mkdirSync(path.join(work, 'roots', root), { recursive: true });
    fs.writeFileSync(path.join(work, 'roots', root, 'marker'), root);
  }
  composeFile = path.join(work, 'compose.yaml');
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// strictRequired would reject `required: [arch]` inside if/else, where it is the point.
const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));

/** The schema's verdict, as an editor gives it: text that is not valid YAML is rejected. */
function schemaAccepts(text: string): boolean {
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    return false;
  }
  return validate(value);
}

function loaderAccepts(text: string): boolean {
  try {
    parseCompose(text, composeFile);
    return true;
  } catch {
    return false;
  }
}

const lines = (...l: string[]): string => `${l.join('\n')}\n`;

/** The loader tests' valid file with one imageset; cases append or change lines. */
const MINIMAL = ['medium: out', 'arch: x86_64', 'imagesets:', '  - name: kde', '    patterns: [base, kde]', '    root: roots/kde'];
const TWO_IMAGESETS = [
  'medium: out',
  'arch: x86_64',
  'imagesets:',
  '  - {name: kde, patterns: [kde], root: roots/kde}',
  '  - {name: gnome, patterns: [gnome], root: roots/gnome}',
  'images:',
];

const VALID: Record<string, string> = {
  'a full file': lines(
    'version: 1',
    'medium: out/medium',
    'compression: bzip2',
    'arch: x86_64',
    'imagesets:',
    '  - name: kde',
    '    title: KDE Desktop',
    '    patterns: [base, enhanced_base, x11, kde]',
    '    root: roots/kde',
    '  - name: gnome',
    '    patterns: [base, enhanced_base, x11, gnome]',
    '    root: ./roots/gnome/',
    '  - name: kde',
    '    patterns: [base, enhanced_base, x11, kde]',
    '    root: roots/kde',
    '    arch: i386',
    'images:',
    '  - name: common-base',
    '    label: base',
    '    shared_by: all',
    '  - name: common-xorg',
    '    shared_by: [kde, gnome]',
    'metadata:',
    '  - ./var/lib/rpm/',
    '  - /etc/products.d',
    '  - usr//lib/./sysimage/rpm',
    '  - var/lib/...hidden',
  ),
  'the defaults': lines(...MINIMAL),
  'an explicit level': lines('compression: gzip', 'level: 1', ...MINIMAL),
  'an empty images list': lines(...MINIMAL, 'images: []'),
  'an empty metadata list': lines(...MINIMAL, 'metadata: []'),
  'an absolute medium and root': lines('medium: /srv/medium', 'arch: s390', 'imagesets:', `  - {name: x, patterns: [x11], root: "${'ROOT'}"}`),
  'the same name and patterns on two archs, no default arch': lines(
    'medium: out',
    'imagesets:',
    '  - {name: kde, patterns: [kde], root: roots/kde, arch: i386}',
    '  - {name: kde, patterns: [kde], root: roots/kde, arch: x86_64}',
  ),
  'aliases': lines(
    'medium: out',
    'arch: x86_64',
    'imagesets:',
    '  - {name: a, patterns: &p [base, x11], root: roots/kde}',
    '  - {name: b, patterns: *p, root: roots/gnome, arch: i386}',
  ),
  'version 1': lines('version: 1', ...MINIMAL),
  'layering with a unit': lines(...MINIMAL, 'layering: {auto: true, min_size: 1MiB}'),
  'layering in bytes': lines(...MINIMAL, 'layering:', '  min_size: 524288'),
  'imagesets prepared from repositories': lines(
    'medium: out',
    'arch: x86_64',
    'repositories:',
    '  - {name: oss, url: "http://download.example.org/repo/oss", gpgkey: roots/kde/marker}',
    '  - {name: local, url: "dir:///srv/repo", gpgcheck: false}',
    'prepare: {roots: prepared, recommends: false}',
    'imagesets:',
    '  - {name: kde, patterns: [base, kde], packages: [vim, less]}',
    '  - {name: gnome, patterns: [gnome], root: roots/gnome}',
  ),
  'a budget in decimal units': lines(...MINIMAL, 'budget: {medium: 4.7GB, file: 700MB}'),
  'a budget in binary units and bytes': lines(...MINIMAL, 'budget:', '  medium: 4700000000', '  file: 4GiB'),
  'a budget of the medium only': lines(...MINIMAL, 'budget: {medium: "8.5 GB"}'),
};

const INVALID: Record<string, string> = {
  'an imageset without root and no repositories': lines('medium: out', 'arch: x86_64', 'imagesets: [{name: a, patterns: [a]}]'),
  'packages with a root': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: "dir:///srv/r"}]', 'imagesets: [{name: a, patterns: [a], root: roots/kde, packages: [vim]}]'),
  'a repository url without scheme': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: /srv/r}]', 'imagesets: [{name: a, patterns: [a]}]'),
  'a repository without url': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r}]', 'imagesets: [{name: a, patterns: [a]}]'),
  'a package name that is an option': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: "dir:///srv/r"}]', 'imagesets: [{name: a, patterns: [a], packages: [--force]}]'),
  'a gpgkey to download': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: "dir:///srv/r", gpgkey: "https://example.org/key.asc"}]', 'imagesets: [{name: a, patterns: [a]}]'),
  'a gpgkey with gpgcheck: false': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: "dir:///srv/r", gpgcheck: false, gpgkey: roots/kde/marker}]', 'imagesets: [{name: a, patterns: [a]}]'),
  'recommends as a string': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: "dir:///srv/r"}]', 'prepare: {recommends: "yes"}', 'imagesets: [{name: a, patterns: [a]}]'),
  'a misspelt top-level key': lines('medium: out', 'compresion: gzip', 'imagesets: []'),
  'many problems at once': lines(
    'version: 2',
    'medium: [out]',
    'compression: zstd',
    'imagset: []',
    'imagesets:',
    '  - name: Kde',
    '    patterns: ["base,kde"]',
    '    root: roots/kde',
    '    arch: amd64',
    'metadata: [../etc]',
  ),
  'a YAML syntax error': lines('medium: out', 'imagesets:', '  - name: kde', '    patterns: [base, kde', 'arch: x86_64'),
  'a repeated key': lines(...MINIMAL, 'medium: other'),
  'an empty file': lines('# nothing yet'),
  'a list at the top level': lines('- medium: out'),
  'an unknown alias': lines('medium: *nowhere', 'arch: x86_64', 'imagesets: [{name: a, patterns: [a], root: roots/kde}]'),
  'a misspelt image key': lines(...MINIMAL, 'images:', '  - name: shared', '    shared_by: all', '    lable: x'),
  'shared-by for shared_by': lines(...MINIMAL, 'images:', '  - name: shared', '    shared-by: all'),
  'a misspelt imageset key': lines(...MINIMAL, '    titel: K'),
  'an unknown top-level key': lines(...MINIMAL, 'output: x'),
  'version as a string': lines('version: "1"', ...MINIMAL),
  'version 2': lines('version: 2', ...MINIMAL),
  'no medium': lines(...MINIMAL.slice(1)),
  'an empty medium': lines('medium: ""', ...MINIMAL.slice(1)),
  'a medium without value': lines('medium:', ...MINIMAL.slice(1)),
  'a number as medium': lines('medium: 13.1', ...MINIMAL.slice(1)),
  'an unknown compression': lines('compression: gzp', ...MINIMAL),
  'level 0': lines('compression: bzip2', 'level: 0', ...MINIMAL),
  'level 10': lines('compression: bzip2', 'level: 10', ...MINIMAL),
  'level 6.5': lines('compression: bzip2', 'level: 6.5', ...MINIMAL),
  'level high': lines('compression: bzip2', 'level: high', ...MINIMAL),
  'level 12': lines('medium: out', 'level: 12', 'arch: x86_64', 'imagesets: [{name: a, patterns: [a], root: roots/kde}]'),
  'no imagesets': lines('medium: out'),
  'an empty imagesets list': lines('medium: out', 'imagesets: []'),
  'imagesets as a string': lines('medium: out', 'imagesets: kde'),
  'an imageset that is a string': lines('medium: out', 'imagesets:', '  - kde'),
  'images as a string': lines(...MINIMAL, 'images: all'),
  'empty metadata paths and ".."': lines(...MINIMAL, 'metadata:', '  - var/lib/rpm', '  - /', '  - ./', '  - var/../../etc'),
  'the metadata path "/"': lines(...MINIMAL, 'metadata: ["/"]'),
  'the metadata path "./"': lines(...MINIMAL, 'metadata: [./]'),
  'a metadata path with ".."': lines(...MINIMAL, 'metadata: [var/../../etc]'),
  'a metadata path that is a mapping': lines(...MINIMAL, 'metadata: [var/lib/rpm, {a: b}]'),
  'an imageset without name, patterns and root': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - title: KDE'),
  'the name -kde': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: -kde, patterns: [kde], root: roots/kde}'),
  'a number as name': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: 42, patterns: [kde], root: roots/kde}'),
  'an empty title': lines(...MINIMAL, '    title: ""'),
  'an empty patterns list': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: a, patterns: [], root: roots/kde}'),
  'patterns as a string': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: b, patterns: base, root: roots/kde}'),
  'a pattern with a space, an empty one': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: c, patterns: ["base x11", "", ok], root: roots/kde}'),
  'a pattern with a comma': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: d, patterns: [base, "a,b"], root: roots/kde}'),
  'an empty root': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: d, patterns: [base], root: ""}'),
  'no arch for one imageset': lines(
    'medium: out',
    'imagesets:',
    '  - {name: kde, patterns: [kde], root: roots/kde}',
    '  - {name: x, patterns: [x11], root: roots/x11, arch: i386}',
  ),
  'an arch alias on an imageset': lines(...MINIMAL, '    arch: ppc64le'),
  'an arch alias at the top level': lines('medium: out', 'arch: i586', ...MINIMAL.slice(2)),
  'an unknown arch': lines('medium: out', 'arch: risc', 'imagesets:', '  - {name: a, patterns: [a], root: roots/kde}', '  - {name: b, patterns: [b], root: roots/kde}'),
  'an image without name and shared_by': lines(...TWO_IMAGESETS, '  - label: base'),
  'an empty shared_by': lines(...TWO_IMAGESETS, '  - {name: common, shared_by: []}'),
  'a scalar shared_by': lines(...TWO_IMAGESETS, '  - {name: common, shared_by: kde}'),
  'an invalid image name and an empty label': lines(...TWO_IMAGESETS, '  - {name: Common_, label: "", shared_by: all}'),
  'layering auto as a string': lines(...MINIMAL, 'layering: {auto: "yes"}'),
  'layering min_size with a decimal unit': lines(...MINIMAL, 'layering: {min_size: 1MB}'),
  'layering min_size a fraction': lines(...MINIMAL, 'layering: {min_size: 1.5}'),
  'layering min_size negative': lines(...MINIMAL, 'layering: {min_size: -5}'),
  'an unknown layering key': lines(...MINIMAL, 'layering: {minsize: 1}'),
  'a budget of zero': lines(...MINIMAL, 'budget: {medium: 0}'),
  'a budget without a number': lines(...MINIMAL, 'budget: {medium: GB}'),
  'a budget with an unknown unit': lines(...MINIMAL, 'budget: {medium: 4.7Gb}'),
  'a budget fraction of bytes': lines(...MINIMAL, 'budget: {file: "1.5"}'),
  'a budget as a list': lines(...MINIMAL, 'budget: [4GB]'),
  'an unknown budget key': lines(...MINIMAL, 'budget: {disk: 4GB}'),
  'layering as a boolean': lines(...MINIMAL, 'layering: true'),
};

/** Rejected by the loader only: see the list at the top of this file. */
const LOADER_ONLY: Record<string, string> = {
  'a gpgkey file that does not exist': lines('medium: out', 'arch: x86_64', 'repositories: [{name: r, url: "dir:///srv/r", gpgkey: keys/none.asc}]', 'imagesets: [{name: a, patterns: [a]}]'),
  'a root that does not exist': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: kde, patterns: [kde], root: roots/kdee}'),
  'a root that is a file': lines('medium: out', 'arch: x86_64', 'imagesets:', '  - {name: kde, patterns: [kde], root: roots/kde/marker}'),
  'a name used twice for one arch': lines(
    'medium: out',
    'arch: x86_64',
    'imagesets:',
    '  - {name: kde, patterns: [kde], root: roots/kde}',
    '  - {name: kde, patterns: [kde, extra], root: roots/kde}',
  ),
  'a patterns string used twice for one arch': lines(
    'medium: out',
    'arch: x86_64',
    'imagesets:',
    '  - {name: kde, patterns: [base, kde], root: roots/kde}',
    '  - {name: kde3, patterns: [base, kde], root: roots/kde}',
  ),
  'an imageset named like the metadata image of another': lines(...MINIMAL, '  - {name: kde-meta, patterns: [meta], root: roots/kde}'),
  'an unknown imageset in shared_by': lines(...TWO_IMAGESETS, '  - name: common', '    shared_by: [kde, gnom, xfce]'),
  'a duplicate image name': lines(...TWO_IMAGESETS, '  - {name: common, shared_by: all}', '  - {name: common, shared_by: [kde]}'),
  'an image named like an imageset archive': lines(...TWO_IMAGESETS, '  - {name: kde, shared_by: all}', '  - {name: gnome-meta, shared_by: all}'),
};

function templates(): Array<[string, string]> {
  return fs
    .readdirSync(TEMPLATES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => [f, fs.readFileSync(path.join(TEMPLATES_DIR, f), 'utf8')]);
}

describe('compose.schema.json', () => {
  it('is a draft-07 schema that closes every mapping', () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    for (const name of ['imageset', 'image']) expect(schema.definitions[name].additionalProperties).toBe(false);
  });

  it('takes its names, archs and formats from the loader', () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.definitions.arch.enum).toEqual(INSTALLER_ARCHS);
    expect(schema.properties.compression.enum).toEqual(COMPRESSION_NAMES);
    expect(schema.definitions.name.pattern).toBe(NAME_PATTERN.source);
  });

  it('validates every template, and each template points its editor at the shipped schema', () => {
    const found = templates();
    expect(found.map(([f]) => f)).toEqual(expect.arrayContaining(['minimal.yaml', 'opensuse-dvd.yaml']));
    for (const [file, text] of found) {
      expect(schemaAccepts(text), file).toBe(true);
      expect(loaderAccepts(text), file).toBe(true);
      const reference = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
      expect(reference, file).toBe('../schema/compose.schema.json');
      expect(path.resolve(TEMPLATES_DIR, reference!)).toBe(SCHEMA_FILE);
    }
  });

  it.each(Object.entries(VALID))('accepts, with the loader: %s', (_name, text) => {
    const concrete = text.replace('ROOT', path.join(work, 'roots/x11'));
    expect(loaderAccepts(concrete)).toBe(true);
    expect(schemaAccepts(concrete)).toBe(true);
  });

  it.each(Object.entries(INVALID))('rejects, with the loader: %s', (_name, text) => {
    expect(loaderAccepts(text)).toBe(false);
    expect(schemaAccepts(text)).toBe(false);
  });

  it.each(Object.entries(LOADER_ONLY))('leaves to the loader: %s', (_name, text) => {
    expect(loaderAccepts(text)).toBe(false);
    expect(schemaAccepts(text)).toBe(true);
  });

  it('rejects each invalid line of the templates, as the loader does', () => {
    // Break each template in the ways people do: a typo in a key, a wrong type, a bad value.
    const breakages: Array<[RegExp, string]> = [
      [/^compression: xz/m, 'compression: zstd'],
      [/^medium: /m, 'mediun: '],
      [/^( {4})patterns: \[base\]/m, '$1patterns: [base, "x y"]'],
      [/shared_by: all/, 'shared_by: everyone'],
      [/^arch: x86_64/m, 'arch: amd64'],
    ];
    for (const [file, text] of templates()) {
      for (const [pattern, replacement] of breakages) {
        const broken = text.replace(pattern, replacement);
        if (broken === text) continue;
        expect([loaderAccepts(broken), schemaAccepts(broken)], `${file}: ${replacement}`).toEqual([false, false]);
      }
    }
  });
});
