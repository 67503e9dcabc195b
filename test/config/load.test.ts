import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCompose, parseCompose } from '../../src/config/load.js';
import { DEFAULT_METADATA } from '../../src/config/spec.js';
import { INSTALLER_ARCHS } from '../../src/model/installer.js';
import { ComposeError, type ComposeProblem } from '../../src/errors.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mediacompose-load-'));
afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/** A fresh folder holding the installed roots roots/kde, roots/gnome and roots/x11. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(base, 'ws-'));
  for (const root of ['roots/kde', 'roots/gnome', 'roots/x11']) {
    fs.mkdirSync(path.join(dir, root), { recursive: true });
    fs.writeFileSync(path.join(dir, root, 'marker'), root);
  }
  return dir;
}

function writeCompose(dir: string, lines: readonly string[]): string {
  const file = path.join(dir, 'compose.yaml');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function load(lines: readonly string[]) {
  return loadCompose(writeCompose(workspace(), lines));
}

function composeError(run: () => unknown): ComposeError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ComposeError);
    return err as ComposeError;
  }
  throw new Error('expected a ComposeError');
}

function problemsOf(lines: readonly string[]): readonly ComposeProblem[] {
  return composeError(() => load(lines)).problems;
}

/** The only problem of a file, as `line:column what (hint)`. */
function onlyProblem(lines: readonly string[]): string {
  const problems = problemsOf(lines);
  expect(problems).toHaveLength(1);
  return render(problems[0]!);
}

function render(p: ComposeProblem): string {
  const where = p.position ? `${p.position.line}:${p.position.column} ` : '';
  return `${where}${p.what}${p.hint ? ` (${p.hint})` : ''}`;
}

/** A valid compose file with one imageset; tests change or append lines. */
const MINIMAL = [
  'medium: out', //                1
  'arch: x86_64', //               2
  'imagesets:', //                 3
  '  - name: kde', //              4
  '    patterns: [base, kde]', //  5
  '    root: roots/kde', //        6
];

describe('loadCompose: valid files', () => {
  it('reads a full file, resolving paths against the compose folder and a symlinked root', () => {
    const dir = workspace();
    fs.symlinkSync('roots/kde', path.join(dir, 'kde-link'));
    const file = writeCompose(dir, [
      'version: 1',
      'medium: out/medium',
      'compression: bzip2',
      'arch: x86_64',
      'imagesets:',
      '  - name: kde',
      '    title: KDE Desktop',
      '    patterns: [base, enhanced_base, x11, kde]',
      '    root: kde-link',
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
    ]);
    const spec = loadCompose(file);
    const realDir = fs.realpathSync(dir);

    expect(spec.file).toBe(file);
    expect(spec.medium).toBe(path.join(dir, 'out/medium'));
    expect(spec.compression).toBe('bzip2');
    expect(spec.level).toBe(9);
    expect(spec.imagesDeclared).toBe(true);
    expect(spec.metadata).toEqual(['var/lib/rpm', 'etc/products.d', 'usr/lib/sysimage/rpm']);
    expect(spec.imagesets).toEqual([
      {
        name: 'kde',
        title: 'KDE Desktop',
        patterns: ['base', 'enhanced_base', 'x11', 'kde'],
        root: path.join(realDir, 'roots/kde'),
        rootAsWritten: 'kde-link',
        arch: 'x86_64',
        position: { line: 6, column: 5 },
      },
      {
        name: 'gnome',
        title: 'GNOME',
        patterns: ['base', 'enhanced_base', 'x11', 'gnome'],
        root: path.join(realDir, 'roots/gnome'),
        rootAsWritten: './roots/gnome/',
        arch: 'x86_64',
        position: { line: 10, column: 5 },
      },
      {
        name: 'kde',
        title: 'KDE',
        patterns: ['base', 'enhanced_base', 'x11', 'kde'],
        root: path.join(realDir, 'roots/kde'),
        rootAsWritten: 'roots/kde',
        arch: 'i386',
        position: { line: 13, column: 5 },
      },
    ]);
    expect(spec.images).toEqual([
      { name: 'common-base', label: 'base', sharedBy: 'all', position: { line: 18, column: 5 } },
      { name: 'common-xorg', label: 'common-xorg', sharedBy: ['kde', 'gnome'], position: { line: 21, column: 5 } },
    ]);
  });

  it('applies the defaults', () => {
    const spec = load(MINIMAL);
    expect(spec.compression).toBe('xz');
    expect(spec.level).toBe(6);
    expect(spec.metadata).toEqual(DEFAULT_METADATA);
    expect(spec.images).toEqual([]);
    expect(spec.imagesDeclared).toBe(false);
    expect(spec.imagesets[0]!.title).toBe('KDE');
  });

  it('uses the usual level of each format and keeps an explicit one', () => {
    expect(load(['compression: gzip', ...MINIMAL]).level).toBe(6);
    expect(load(['compression: lzma', ...MINIMAL]).level).toBe(6);
    expect(load(['compression: gzip', 'level: 1', ...MINIMAL]).level).toBe(1);
  });

  it('accepts an empty images list as declared', () => {
    const spec = load([...MINIMAL, 'images: []']);
    expect(spec.imagesDeclared).toBe(true);
    expect(spec.images).toEqual([]);
  });

  it('resolves an absolute medium and root as written', () => {
    const dir = workspace();
    const root = path.join(dir, 'roots/x11');
    const spec = loadCompose(
      writeCompose(dir, ['medium: /srv/medium', 'arch: s390', 'imagesets:', `  - {name: x, patterns: [x11], root: "${root}"}`]),
    );
    expect(spec.medium).toBe('/srv/medium');
    expect(spec.imagesets[0]!.root).toBe(fs.realpathSync(root));
  });

  it('allows the same name and the same patterns on different archs', () => {
    const spec = load([
      'medium: out',
      'imagesets:',
      '  - {name: kde, patterns: [kde], root: roots/kde, arch: i386}',
      '  - {name: kde, patterns: [kde], root: roots/kde, arch: x86_64}',
    ]);
    expect(spec.imagesets.map((s) => s.arch)).toEqual(['i386', 'x86_64']);
  });

  it('freezes the spec deeply', () => {
    const spec = load([...MINIMAL, 'images:', '  - {name: shared, shared_by: [kde]}']);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.imagesets)).toBe(true);
    expect(Object.isFrozen(spec.imagesets[0])).toBe(true);
    expect(Object.isFrozen(spec.imagesets[0]!.patterns)).toBe(true);
    expect(Object.isFrozen(spec.imagesets[0]!.position)).toBe(true);
    expect(Object.isFrozen(spec.images[0]!.sharedBy)).toBe(true);
    expect(Object.isFrozen(spec.metadata)).toBe(true);
    expect(() => (spec.metadata as string[]).push('x')).toThrow(TypeError);
  });

  it('parseCompose resolves relative paths against the given file', () => {
    const dir = workspace();
    const spec = parseCompose(MINIMAL.join('\n'), path.join(dir, 'compose.yaml'));
    expect(spec.medium).toBe(path.join(dir, 'out'));
    expect(spec.imagesets[0]!.root).toBe(fs.realpathSync(path.join(dir, 'roots/kde')));
  });
});

describe('loadCompose: the error', () => {
  it('has exit status 2 and one line per problem naming file, line and column', () => {
    const dir = workspace();
    const file = writeCompose(dir, ['medium: out', 'compresion: gzip', 'imagesets: []']);
    const err = composeError(() => loadCompose(file));
    expect(err.exitStatus).toBe(2);
    expect(err.composeFile).toBe(file);
    expect(err.problems).toHaveLength(2);
    expect(err.message).toBe(
      `${file}:2:1: unknown key "compresion" in the top level (did you mean "compression"?)\n` +
        `error: ${file}:3:12: imagesets is empty ` +
        '(list one imageset per installed root: - {name: kde, patterns: [base, kde], root: roots/kde})',
    );
  });

  it('names the compose file as it was given', () => {
    const dir = workspace();
    writeCompose(dir, ['medium: out', 'level: 12', 'arch: x86_64', 'imagesets: [{name: a, patterns: [a], root: roots/kde}]']);
    const relative = path.relative(process.cwd(), path.join(dir, 'compose.yaml'));
    const err = composeError(() => loadCompose(relative));
    expect(err.composeFile).toBe(relative);
    expect(err.message).toBe(`${relative}:2:8: level must be an integer from 1 to 9, found 12 (the usual level for xz is 6; leave level out to use it)`);
  });

  it('reports a missing compose file without a position', () => {
    const file = path.join(base, 'missing.yaml');
    const err = composeError(() => loadCompose(file));
    expect(err.exitStatus).toBe(2);
    expect(err.problems).toEqual([
      {
        what: 'cannot read compose file: no such file or directory',
        hint: 'check the path, or write a starter file with `mediacompose init`',
      },
    ]);
    expect(err.message).toBe(`${file}: cannot read compose file: no such file or directory (check the path, or write a starter file with \`mediacompose init\`)`);
  });

  it('reports a folder given as the compose file', () => {
    const err = composeError(() => loadCompose(workspace()));
    expect(err.problems[0]!.what).toBe('compose file is a directory, not a regular file');
    expect(err.problems[0]!.hint).toBe('only a regular file is read; name the compose file itself');
    expect(err.problems[0]!.position).toBeUndefined();
  });

  it('reports every problem at once, in file order', () => {
    const dir = workspace();
    const file = writeCompose(dir, [
      'version: 2', //                         1
      'medium: [out]', //                      2
      'compression: zstd', //                  3
      'imagset: []', //                        4
      'imagesets:', //                         5
      '  - name: Kde', //                      6
      '    patterns: ["base,kde"]', //         7
      '    root: roots/nowhere', //            8
      '    arch: amd64', //                    9
      'metadata: [../etc]', //                 10
    ]);
    const err = composeError(() => loadCompose(file));
    expect(err.problems.map(render)).toEqual([
      '1:10 unsupported version 2 (this mediacompose reads version: 1)',
      '2:9 medium: expected a string, found a list (the output folder, relative to the compose file, e.g. medium: out/medium)',
      '3:14 unknown compression "zstd" (use one of: xz, lzma, bzip2, gzip)',
      '4:1 unknown key "imagset" in the top level (did you mean "imagesets"?)',
      '6:11 invalid imageset name "Kde" (did you mean "kde"? names use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit)',
      '7:16 pattern "base,kde" contains "," (the installer splits the patterns string on \',\' and \' \'; write each pattern as its own list item)',
      `8:11 root "roots/nowhere" does not exist (no directory at ${path.join(dir, 'roots/nowhere')}; root paths are relative to the compose file's folder)`,
      '9:11 unknown arch "amd64" (the installer calls this arch "x86_64")',
      '10:12 metadata path "../etc" contains ".." (metadata paths stay inside the root; write them without "..")',
    ]);
    expect(err.message.split('\nerror: ')).toHaveLength(9);
    expect(err.message.split('\nerror: ')[3]).toBe(`${file}:4:1: unknown key "imagset" in the top level (did you mean "imagesets"?)`);
  });
});

describe('loadCompose: YAML syntax', () => {
  it('reports a syntax error with its position: the first one only, the rest follow from it', () => {
    const problems = problemsOf(['medium: out', 'imagesets:', '  - name: kde', '    patterns: [base, kde', 'arch: x86_64']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.what).toMatch(/^invalid YAML: /);
    expect(problems[0]!.position).toEqual({ line: 5, column: 1 });
    // One missing ] before two more items: the parser has three errors, one is reported.
    expect(onlyProblem(['medium: out', 'arch: x86_64', 'imagesets:', '  - name: kde', '    patterns: [base', '  - name: gnome', '    patterns: [base, gnome]', '    root: roots/gnome'])).toBe(
      '6:3 invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] ' +
        '(fix the YAML syntax at or just before this place: indentation, quotes, brackets, ":" after keys)',
    );
  });

  it('reports a repeated key', () => {
    expect(onlyProblem([...MINIMAL, 'medium: other'])).toBe(
      '7:1 invalid YAML: Map keys must be unique (each key may appear only once in a mapping; remove or merge the repeated one)',
    );
  });

  it('reports an empty file', () => {
    expect(onlyProblem(['# nothing yet'])).toBe(
      'compose file is empty (write at least medium: and imagesets:, or run `mediacompose init`)',
    );
  });

  it('reports a top level that is not a mapping', () => {
    expect(onlyProblem(['- medium: out'])).toBe(
      '1:1 compose file: expected a mapping, found a list (the top level is a mapping of keys such as medium: and imagesets:)',
    );
  });

  it('reports an alias to an unknown anchor', () => {
    expect(onlyProblem(['medium: *nowhere', 'arch: x86_64', 'imagesets: [{name: a, patterns: [a], root: roots/kde}]'])).toBe(
      '1:9 unknown alias *nowhere (define &nowhere before using *nowhere)',
    );
  });

  it('follows aliases to their anchors', () => {
    const spec = load([
      'medium: out',
      'arch: x86_64',
      'imagesets:',
      '  - {name: a, patterns: &p [base, x11], root: roots/kde}',
      '  - {name: b, patterns: *p, root: roots/gnome, arch: i386}',
    ]);
    expect(spec.imagesets[1]!.patterns).toEqual(['base', 'x11']);
  });
});

describe('loadCompose: unknown keys', () => {
  it('suggests the near-miss of a top-level key', () => {
    expect(problemsOf(['compresion: gzip', ...MINIMAL]).map(render)).toEqual([
      '1:1 unknown key "compresion" in the top level (did you mean "compression"?)',
    ]);
  });

  it('suggests the near-miss of an image key', () => {
    expect(onlyProblem([...MINIMAL, 'images:', '  - name: shared', '    shared_by: all', '    lable: x'])).toBe(
      '10:5 unknown key "lable" in image (did you mean "label"?)',
    );
  });

  it('reports shared-by for shared_by, with the key then missing', () => {
    expect(problemsOf([...MINIMAL, 'images:', '  - name: shared', '    shared-by: all']).map(render)).toEqual([
      '8:5 missing required key "shared_by" in image (write shared_by: all, or a list of imageset names such as shared_by: [kde, gnome])',
      '9:5 unknown key "shared-by" in image (did you mean "shared_by"?)',
    ]);
  });

  it('suggests the near-miss of an imageset key', () => {
    expect(onlyProblem([...MINIMAL, '    titel: K'])).toBe('7:5 unknown key "titel" in imageset (did you mean "title"?)');
  });

  it('lists the valid keys when nothing is close', () => {
    expect(onlyProblem([...MINIMAL, 'output: x'])).toBe(
      '7:1 unknown key "output" in the top level (valid keys here: version, medium, compression, level, arch, repositories, prepare, imagesets, images, metadata, layering, budget, checksums, check_attributes)',
    );
  });
});

describe('loadCompose: top-level values', () => {
  it('requires version 1 when given', () => {
    expect(onlyProblem(['version: "1"', ...MINIMAL])).toBe('1:10 unsupported version "1" (this mediacompose reads version: 1)');
    expect(load(['version: 1', ...MINIMAL]).imagesets).toHaveLength(1);
  });

  it('requires medium', () => {
    expect(onlyProblem(MINIMAL.slice(1))).toBe(
      '1:1 missing required key "medium" in the top level (add the output folder, e.g. medium: out/medium)',
    );
  });

  it('rejects an empty medium', () => {
    expect(onlyProblem(['medium: ""', ...MINIMAL.slice(1)])).toBe(
      '1:9 medium is empty (the output folder, relative to the compose file, e.g. medium: out/medium)',
    );
    expect(onlyProblem(['medium:', ...MINIMAL.slice(1)])).toBe(
      '1:8 medium: expected a string, found nothing (the output folder, relative to the compose file, e.g. medium: out/medium)',
    );
  });

  it('suggests quoting a number where a string is expected', () => {
    expect(onlyProblem(['medium: 13.1', ...MINIMAL.slice(1)])).toBe(
      '1:9 medium: expected a string, found a number (13.1) (quote it to make it a string: medium: "13.1")',
    );
  });

  it('rejects an unknown compression with a did-you-mean', () => {
    expect(onlyProblem(['compression: gzp', ...MINIMAL])).toBe(
      '1:14 unknown compression "gzp" (did you mean "gzip"? use one of: xz, lzma, bzip2, gzip)',
    );
  });

  it('rejects levels outside 1..9 and non-integers', () => {
    for (const [level, shown] of [['0', '0'], ['10', '10'], ['6.5', '6.5'], ['high', '"high"']] as const) {
      expect(onlyProblem(['compression: bzip2', `level: ${level}`, ...MINIMAL])).toBe(
        `2:8 level must be an integer from 1 to 9, found ${shown} (the usual level for bzip2 is 9; leave level out to use it)`,
      );
    }
  });

  it('requires imagesets as a non-empty list', () => {
    expect(onlyProblem(['medium: out'])).toBe(
      '1:1 missing required key "imagesets" in the top level ' +
        '(add imagesets: and list one imageset per installed root: - {name: kde, patterns: [base, kde], root: roots/kde})',
    );
    expect(onlyProblem(['medium: out', 'imagesets: []'])).toMatch(/^2:12 imagesets is empty \(/);
    expect(onlyProblem(['medium: out', 'imagesets: kde'])).toMatch(/^2:12 imagesets: expected a list, found a string \(/);
    expect(onlyProblem(['medium: out', 'imagesets:', '  - kde'])).toBe(
      '3:5 imageset: expected a mapping, found a string (an imageset is a mapping with name:, patterns: and root:)',
    );
  });

  it('requires images, when given, to be a list', () => {
    expect(onlyProblem([...MINIMAL, 'images: all'])).toBe(
      '7:9 images: expected a list, found a string ' +
        '(list shared images (or write images: [] for none), or leave images: out for automatic layering)',
    );
  });
});

describe('loadCompose: metadata', () => {
  it('rejects empty paths and ".." components', () => {
    expect(problemsOf([...MINIMAL, 'metadata:', '  - var/lib/rpm', '  - /', '  - ./', '  - var/../../etc']).map(render)).toEqual([
      '9:5 empty metadata path "/" (write a path inside the roots, such as var/lib/rpm)',
      '10:5 empty metadata path "./" (write a path inside the roots, such as var/lib/rpm)',
      '11:5 metadata path "var/../../etc" contains ".." (metadata paths stay inside the root; write them without "..")',
    ]);
  });

  it('requires strings', () => {
    expect(onlyProblem([...MINIMAL, 'metadata: [var/lib/rpm, {a: b}]'])).toBe(
      '7:25 metadata path: expected a string, found a mapping (list paths inside the roots, e.g. metadata: [var/lib/rpm, etc/products.d])',
    );
  });

  it('keeps an empty list', () => {
    expect(load([...MINIMAL, 'metadata: []']).metadata).toEqual([]);
  });
});

describe('loadCompose: imagesets', () => {
  const valid = 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit';

  it('requires name, patterns and root', () => {
    expect(problemsOf(['medium: out', 'arch: x86_64', 'imagesets:', '  - title: KDE']).map(render)).toEqual([
      '4:5 missing required key "name" in imageset (add name:, e.g. name: kde)',
      '4:5 missing required key "patterns" in imageset (add the pattern names of this root, e.g. patterns: [base, x11, kde])',
      '4:5 missing required key "root" in imageset (add the installed root folder, e.g. root: roots/kde, or give repositories: to prepare it)',
    ]);
  });

  it('checks the name', () => {
    expect(onlyProblem(['medium: out', 'arch: x86_64', 'imagesets:', '  - {name: -kde, patterns: [kde], root: roots/kde}'])).toBe(
      `4:12 invalid imageset name "-kde" (names use ${valid})`,
    );
    expect(onlyProblem(['medium: out', 'arch: x86_64', 'imagesets:', '  - {name: 42, patterns: [kde], root: roots/kde}'])).toBe(
      '4:12 name: expected a string, found a number (42) (quote it to make it a string: name: "42")',
    );
  });

  it('rejects an empty title', () => {
    expect(onlyProblem([...MINIMAL, '    title: ""'])).toBe(
      '7:12 title is empty (the label prefix shown by the installer, e.g. title: KDE)',
    );
  });

  it('checks patterns', () => {
    const split = "the installer splits the patterns string on ',' and ' '; write each pattern as its own list item";
    expect(
      problemsOf([
        'medium: out', //                                                  1
        'arch: x86_64', //                                                 2
        'imagesets:', //                                                   3
        '  - {name: a, patterns: [], root: roots/kde}', //                 4
        '  - {name: b, patterns: base, root: roots/kde}', //               5
        '  - {name: c, patterns: ["base x11", "", ok], root: roots/kde}', // 6
        '  - {name: d, patterns: [base, "a,b"], root: roots/kde}', //      7
      ]).map(render),
    ).toEqual([
      '4:25 patterns is empty (list the pattern names of this root, e.g. patterns: [base, x11, kde])',
      '5:25 patterns: expected a list, found a string (list the pattern names of this root, e.g. patterns: [base, x11, kde])',
      `6:26 pattern "base x11" contains whitespace (${split})`,
      '6:38 empty pattern name (remove the empty item from patterns)',
      `7:32 pattern "a,b" contains "," (${split})`,
    ]);
  });

  it('reports a missing root', () => {
    const dir = workspace();
    const file = writeCompose(dir, ['medium: out', 'arch: x86_64', 'imagesets:', '  - name: kde', '    patterns: [kde]', '    root: roots/kdee']);
    const err = composeError(() => loadCompose(file));
    expect(err.problems.map(render)).toEqual([
      `6:11 root "roots/kdee" does not exist (no directory at ${path.join(dir, 'roots/kdee')}; root paths are relative to the compose file's folder)`,
    ]);
  });

  it('reports a root symlink that points nowhere', () => {
    const dir = workspace();
    fs.symlinkSync('roots/gone', path.join(dir, 'dangling'));
    const file = writeCompose(dir, ['medium: out', 'arch: x86_64', 'imagesets:', '  - {name: kde, patterns: [kde], root: dangling}']);
    expect(composeError(() => loadCompose(file)).problems.map((p) => p.what)).toEqual(['root "dangling" does not exist']);
  });

  it('reports a root that is a file', () => {
    const dir = workspace();
    const file = writeCompose(dir, ['medium: out', 'arch: x86_64', 'imagesets:', '  - {name: kde, patterns: [kde], root: roots/kde/marker}']);
    const problems = composeError(() => loadCompose(file)).problems;
    expect(problems.map(render)).toEqual([
      `4:40 root "roots/kde/marker" is not a directory (point root at the folder of an installed system (${fs.realpathSync(path.join(dir, 'roots/kde/marker'))} is a file))`,
    ]);
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable root (skipped as root, who reads every file)', () => {
    const dir = workspace();
    const root = path.join(dir, 'roots/kde');
    fs.chmodSync(root, 0o000);
    try {
      const file = writeCompose(dir, MINIMAL);
      const problems = composeError(() => loadCompose(file)).problems;
      expect(problems.map((p) => [p.position, p.what])).toEqual([
        [{ line: 6, column: 11 }, 'root "roots/kde" is not readable: permission denied'],
      ]);
    } finally {
      fs.chmodSync(root, 0o755);
    }
  });

  it('requires an arch from the imageset or the top level', () => {
    expect(problemsOf(['medium: out', 'imagesets:', '  - {name: kde, patterns: [kde], root: roots/kde}', '  - {name: x, patterns: [x11], root: roots/x11, arch: i386}']).map(render)).toEqual([
      '3:5 arch required for imageset "kde" (add arch: to the imageset, or a default arch: at the top level)',
    ]);
  });

  it('names the arch the installer uses for an alias', () => {
    expect(onlyProblem([...MINIMAL, '    arch: ppc64le'])).toBe('7:11 unknown arch "ppc64le" (the installer calls this arch "ppc")');
    expect(onlyProblem(['medium: out', 'arch: i586', ...MINIMAL.slice(2)])).toBe('2:7 unknown arch "i586" (the installer calls this arch "i386")');
  });

  it('lists the valid archs for an unknown one, once for the top-level default', () => {
    expect(onlyProblem(['medium: out', 'arch: risc', 'imagesets:', '  - {name: a, patterns: [a], root: roots/kde}', '  - {name: b, patterns: [b], root: roots/kde}'])).toBe(
      `2:7 unknown arch "risc" (use one of: ${INSTALLER_ARCHS.join(', ')})`,
    );
  });

  it('rejects a name used twice for one arch', () => {
    expect(
      onlyProblem([
        'medium: out',
        'arch: x86_64',
        'imagesets:',
        '  - {name: kde, patterns: [kde], root: roots/kde}',
        '  - {name: kde, patterns: [kde, x11], root: roots/kde, arch: i386}',
        '  - {name: kde, patterns: [kde, extra], root: roots/kde}',
      ]),
    ).toBe('6:12 duplicate imageset "kde" for arch x86_64 (the first one is at line 4; imageset names must be unique per arch)');
  });

  it('rejects a patterns string used twice for one arch, and the same set in another order', () => {
    expect(
      problemsOf([
        'medium: out',
        'arch: x86_64',
        'imagesets:',
        '  - {name: kde, patterns: [base, kde], root: roots/kde}',
        '  - {name: kde2, patterns: [kde, base], root: roots/kde}',
        '  - {name: kde3, patterns: [base, kde], root: roots/kde}',
      ]).map(render),
    ).toEqual([
      '5:28 patterns "kde,base" for arch x86_64 are the patterns "base,kde" of imageset "kde" (line 4) in another order ' +
        '(the installer sees two different patterns strings and never chooses one of them; keep one imageset per pattern set)',
      '6:28 patterns "base,kde" for arch x86_64 are already used by imageset "kde" (line 4) ' +
        '(the installer keys imagesets by their patterns string; two with the same one overwrite each other)',
    ]);
  });

  it('rejects an imageset named like the metadata image of another', () => {
    expect(onlyProblem([...MINIMAL, '  - {name: kde-meta, patterns: [meta], root: roots/kde}'])).toBe(
      '7:12 imageset "kde-meta" has the same file name as the metadata image of imageset "kde" ' +
        '(both would be written as kde-meta-x86_64.tar.<ext>; rename one of them)',
    );
  });
});

describe('loadCompose: images', () => {
  const imagesets = [
    'medium: out', //                                       1
    'arch: x86_64', //                                      2
    'imagesets:', //                                        3
    '  - {name: kde, patterns: [kde], root: roots/kde}', // 4
    '  - {name: gnome, patterns: [gnome], root: roots/gnome}', // 5
    'images:', //                                           6
  ];

  it('requires name and shared_by', () => {
    expect(problemsOf([...imagesets, '  - label: base']).map(render)).toEqual([
      '7:5 missing required key "name" in image (add name:, e.g. name: kde)',
      '7:5 missing required key "shared_by" in image (write shared_by: all, or a list of imageset names such as shared_by: [kde, gnome])',
    ]);
  });

  it('rejects an unknown imageset in shared_by with a did-you-mean', () => {
    expect(problemsOf([...imagesets, '  - name: common', '    shared_by: [kde, gnom, xfce]']).map(render)).toEqual([
      '8:22 unknown imageset "gnom" in shared_by (did you mean "gnome"?)',
      '8:28 unknown imageset "xfce" in shared_by (imagesets in this file: kde, gnome)',
    ]);
  });

  it('rejects an empty or scalar shared_by', () => {
    expect(onlyProblem([...imagesets, '  - {name: common, shared_by: []}'])).toBe(
      '7:31 shared_by is empty (write shared_by: all, or a list of imageset names such as shared_by: [kde, gnome])',
    );
    expect(onlyProblem([...imagesets, '  - {name: common, shared_by: kde}'])).toBe(
      '7:31 shared_by must be "all" or a list of imageset names, found "kde" (write a list: shared_by: [kde])',
    );
  });

  it('rejects a duplicate image name', () => {
    expect(onlyProblem([...imagesets, '  - {name: common, shared_by: all}', '  - {name: common, shared_by: [kde]}'])).toBe(
      '8:12 duplicate image "common" (the first one is at line 7; image names must be unique)',
    );
  });

  it('rejects an image named like an imageset archive', () => {
    expect(problemsOf([...imagesets, '  - {name: kde, shared_by: all}', '  - {name: gnome-meta, shared_by: all}']).map(render)).toEqual([
      '7:12 image "kde" has the same file name as the own image of imageset "kde" ' +
        '(both would be written as kde-<arch>.tar.<ext> and overwrite each other; rename the image)',
      '8:12 image "gnome-meta" has the same file name as the metadata image of imageset "gnome" ' +
        '(both would be written as gnome-meta-<arch>.tar.<ext> and overwrite each other; rename the image)',
    ]);
  });

  it('checks the image name and label', () => {
    expect(problemsOf([...imagesets, '  - {name: Common_, label: "", shared_by: all}']).map(render)).toEqual([
      '7:12 invalid image name "Common_" (did you mean "common_"? names use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit)',
      '7:28 label is empty (shown as "<title> [<label>]", e.g. label: base)',
    ]);
  });
});

describe('loadCompose: layering', () => {
  it('is automatic without images: and declared-only with them, 1 MiB minimum by default', () => {
    expect(load(MINIMAL).layering).toEqual({ auto: true, minSize: 1 << 20 });
    expect(load([...MINIMAL, 'images:', '  - name: common', '    shared_by: all']).layering).toEqual({ auto: false, minSize: 1 << 20 });
  });

  it('takes auto and min_size, with units', () => {
    expect(load([...MINIMAL, 'layering:', '  auto: true', '  min_size: 512KiB']).layering).toEqual({ auto: true, minSize: 512 * 1024 });
    expect(load([...MINIMAL, 'layering: {auto: false, min_size: 2000}']).layering).toEqual({ auto: false, minSize: 2000 });
  });

  it('reports wrong values and unknown keys with positions', () => {
    expect(onlyProblem([...MINIMAL, 'layering:', '  auto: yes please'])).toBe(
      '8:9 auto must be true or false, found "yes please" (write auto: true or auto: false)',
    );
    expect(onlyProblem([...MINIMAL, 'layering:', '  min_size: 1 MB'])).toBe(
      '8:13 min_size must be a size, found "1 MB" (write bytes as an integer or with a unit: 512KiB, 1MiB, 1GiB)',
    );
    expect(onlyProblem([...MINIMAL, 'layering:', '  minsize: 1'])).toMatch(/^8:3 unknown key "minsize" in layering \(did you mean "min_size"\?/);
  });
});

describe('loadCompose: checksums', () => {
  it('keeps the key as written (0x... would read as a YAML number) and defaults list to images', () => {
    expect(load([...MINIMAL, 'checksums:', '  key: 0x1234ABCD']).checksums).toEqual({ key: '0x1234ABCD', list: 'images' });
    expect(load([...MINIMAL, 'checksums: {key: 7F21C263, list: medium}']).checksums).toEqual({ key: '7F21C263', list: 'medium' });
    expect(load(MINIMAL).checksums).toBeUndefined();
  });

  it('reports an unknown list and an empty key with positions', () => {
    expect(problemsOf([...MINIMAL, 'checksums:', '  key: ""', '  list: root']).map(render)).toEqual([
      '8:8 key must be a gpg key id or fingerprint, found "" (e.g. key: 0x1234ABCD, or a 40-digit fingerprint)',
      '9:9 unknown checksums list "root" (use images (images/CHECKSUMS) or medium (the images/ lines of MEDIUM/CHECKSUMS or MEDIUM/content))',
    ]);
  });

  it('reads checksums: none as no list on purpose, and any other word as a mistake', () => {
    expect(load([...MINIMAL, 'checksums: none']).checksums).toEqual({ list: 'images', none: true });
    expect(onlyProblem([...MINIMAL, 'checksums: nope'])).toMatch(/^7:12 checksums: expected a mapping, f.*or checksums: none\)$/);
  });
});

describe('loadCompose: check_attributes', () => {
  it('is true unless set to false, and must be a boolean', () => {
    expect(load(MINIMAL).checkAttributes).toBe(true);
    expect(load([...MINIMAL, 'check_attributes: false']).checkAttributes).toBe(false);
    expect(onlyProblem([...MINIMAL, 'check_attributes: no way'])).toBe(
      '7:19 check_attributes must be true or false, found "no way" (false skips the extended-attribute and ACL check of the roots; leave it out to check)',
    );
  });
});

describe('loadCompose: repositories and prepared roots', () => {
  const REPOS = ['medium: out', 'arch: x86_64', 'repositories:', '  - {name: oss, url: "http://download.example.org/repo/oss"}', '  - {name: local, url: "dir:///srv/repo", gpgcheck: false}'];

  it('prepares an imageset without root into <prepare.roots>/<name>-<arch>, with its packages', () => {
    const spec = load([...REPOS, 'prepare: {roots: prepared, recommends: false}', 'imagesets:', '  - {name: kde, patterns: [base, kde], packages: [vim, less, vim]}']);
    expect(spec.repositories.map((r) => [r.name, r.url, r.gpgcheck])).toEqual([
      ['oss', 'http://download.example.org/repo/oss', true],
      ['local', 'dir:///srv/repo', false],
    ]);
    expect(spec.prepare.recommends).toBe(false);
    expect(spec.imagesets[0]!.root).toBe(path.join(path.dirname(spec.file), 'prepared', 'kde-x86_64'));
    expect(spec.imagesets[0]!.rootAsWritten).toBe(path.join('prepared', 'kde-x86_64'));
    expect(spec.imagesets[0]!.prepared).toEqual({ packages: ['vim', 'less'] });
  });

  it('defaults: roots/ and recommends', () => {
    const spec = load([...REPOS, 'imagesets:', '  - {name: kde, patterns: [kde]}']);
    expect(spec.prepare).toEqual({ roots: path.join(path.dirname(spec.file), 'roots'), rootsAsWritten: 'roots', recommends: true });
  });

  it('keeps an imageset with root as it is', () => {
    const dir = workspace();
    fs.mkdirSync(path.join(dir, 'roots', 'kde'), { recursive: true });
    const spec = loadCompose(writeCompose(dir, [...REPOS, 'imagesets:', '  - {name: kde, patterns: [kde], root: roots/kde}']));
    expect(spec.imagesets[0]!.prepared).toBeUndefined();
  });

  it('reports bad repositories, packages and prepare values', () => {
    expect(problemsOf([
      'medium: out', 'arch: x86_64',
      'repositories:',
      '  - {name: oss, url: /srv/repo}',
      '  - {name: oss, url: "dir:///srv/b"}',
      '  - {url: "dir:///srv/c", gpgcheck: maybe}',
      'prepare: {recommends: "yes", root: x}',
      'imagesets:',
      '  - {name: kde, patterns: [kde], packages: [--force, vim]}',
    ]).map(render)).toEqual([
      '4:22 repository url "/srv/repo" is not a zypper URI (write it with its scheme: http://host/repo, https://..., dir:///srv/repo, iso:/?iso=/srv/dvd.iso)',
      '5:12 duplicate repository "oss" (the first one is at line 4; repository names must be unique)',
      '6:5 missing required key "name" in repository (add its alias, e.g. name: oss)',
      '6:37 gpgcheck must be true or false, found "maybe" (write gpgcheck: true or gpgcheck: false)',
      '7:23 recommends must be true or false, found "yes" (write recommends: true or recommends: false)',
      '7:30 unknown key "root" in prepare (did you mean "roots"?)',
      '9:45 invalid package name "--force" (a package name: letters, digits and "_+.-", not starting with "-" or ".")',
    ]);
  });

  it('gpgkey: a file relative to the compose file or a file:// URL, resolved to its absolute path', () => {
    const dir = workspace();
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.writeFileSync(path.join(dir, 'keys', 'oss.asc'), 'key');
    const spec = loadCompose(writeCompose(dir, [
      'medium: out', 'arch: x86_64', 'repositories:',
      '  - {name: oss, url: "http://download.example.org/repo/oss", gpgkey: keys/oss.asc}',
      `  - {name: local, url: "dir:///srv/repo", gpgkey: "file://${dir}/keys/oss.asc"}`,
      '  - {name: other, url: "dir:///srv/other"}',
      'imagesets:', '  - {name: kde, patterns: [kde]}',
    ]));
    expect(spec.repositories.map((r) => [r.name, r.gpgkey, r.gpgkeyAsWritten])).toEqual([
      ['oss', path.join(dir, 'keys', 'oss.asc'), 'keys/oss.asc'],
      ['local', path.join(dir, 'keys', 'oss.asc'), `file://${dir}/keys/oss.asc`],
      ['other', undefined, undefined],
    ]);
  });

  it('reports a gpgkey that is a download URL, missing, not a regular file, too large, or with gpgcheck: false', () => {
    const dir = workspace();
    fs.writeFileSync(path.join(dir, 'big.asc'), Buffer.alloc((1 << 20) + 1));
    fs.writeFileSync(path.join(dir, 'key.asc'), 'key');
    const lines = [
      'medium: out', 'arch: x86_64', 'repositories:',
      '  - {name: a, url: "dir:///srv/a", gpgkey: "https://example.org/key.asc"}',
      '  - {name: b, url: "dir:///srv/b", gpgkey: keys/none.asc}',
      '  - {name: c, url: "dir:///srv/c", gpgkey: roots}',
      '  - {name: d, url: "dir:///srv/d", gpgkey: big.asc}',
      '  - {name: e, url: "dir:///srv/e", gpgcheck: false, gpgkey: key.asc}',
      'imagesets:', '  - {name: kde, patterns: [kde]}',
    ];
    expect(composeError(() => loadCompose(writeCompose(dir, lines))).problems.map(render)).toEqual([
      '4:44 gpgkey "https://example.org/key.asc" is not a file: keys are not downloaded (download the key, compare its fingerprint with the one its publisher announces, and name the file, e.g. gpgkey: keys/oss.asc)',
      `5:44 gpgkey "keys/none.asc" does not exist (no file at ${path.join(dir, 'keys/none.asc')}; gpgkey paths are relative to the compose file's folder)`,
      '6:44 gpgkey "roots": public key file is a directory, not a regular file (only a regular file is read; name the exported public key (gpg --armor --export FINGERPRINT > key.asc))',
      '7:44 gpgkey "big.asc": public key file of 1048577 bytes is larger than 1 MiB, the most read (a real one is far smaller; name the exported public key (gpg --armor --export FINGERPRINT > key.asc))',
      '8:61 gpgkey: with gpgcheck: false checks nothing (remove gpgcheck: false to have the signatures checked against this key, or remove gpgkey:)',
    ]);
  });

  it('rejects packages for an imageset with its own root', () => {
    const dir = workspace();
    fs.mkdirSync(path.join(dir, 'roots', 'kde'), { recursive: true });
    expect(composeError(() => loadCompose(writeCompose(dir, [...REPOS, 'imagesets:', '  - {name: kde, patterns: [kde], root: roots/kde, packages: [vim]}']))).message)
      .toMatch(/packages: is for imagesets prepared from repositories/);
  });
});

describe('loadCompose: budget', () => {
  it('has no limits by default', () => {
    expect(load(MINIMAL).budget).toEqual({});
  });

  it('reads decimal units, binary units and plain bytes', () => {
    expect(load([...MINIMAL, 'budget: {medium: 4.7GB, file: 4GiB}']).budget).toEqual({ medium: 4_700_000_000, file: 4 * 1024 ** 3 });
    expect(load([...MINIMAL, 'budget:', '  medium: 700MB']).budget).toEqual({ medium: 700_000_000 });
    expect(load([...MINIMAL, 'budget:', '  file: 2147483648']).budget).toEqual({ file: 2 ** 31 });
    expect(load([...MINIMAL, 'budget: {medium: "1.5 MiB", file: 10kB}']).budget).toEqual({ medium: 1.5 * 1024 ** 2, file: 10_000 });
  });

  it('reports sizes it cannot read and unknown keys with positions', () => {
    const hint = '(write bytes as an integer or with a unit: 4.7GB, 700MB, 4GiB)';
    expect(onlyProblem([...MINIMAL, 'budget:', '  medium: 4.7Gb'])).toBe(`8:11 budget.medium must be a size above zero, found "4.7Gb" ${hint}`);
    expect(onlyProblem([...MINIMAL, 'budget:', '  file: 0'])).toBe(`8:9 budget.file must be a size above zero, found 0 ${hint}`);
    expect(onlyProblem([...MINIMAL, 'budget:', '  file: 1.5'])).toBe(`8:9 budget.file must be a size above zero, found 1.5 ${hint}`);
    expect(onlyProblem([...MINIMAL, 'budget:', '  dvd: 4.7GB'])).toMatch(/^8:3 unknown key "dvd" in budget \(valid keys here: medium, file\)/);
  });
});
