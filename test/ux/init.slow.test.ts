/**
 * `mediacompose init` as a person starts with it: a commented compose.yaml from each template,
 * which builds as soon as its roots exist; nothing overwritten; the templates listed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCHEMA_FILE, TEMPLATES_DIR, schemaReference } from '../../src/cli/init.js';
import { BIN, mediacompose, mediacomposeWith } from '../support/build.js';
import { deploy, isRoot, readImagesXml } from '../support/installer.js';
import { describeIf, pathWithout, unmet } from '../support/needs.js';
import { diffTrees, listTree } from '../support/tree.js';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-init-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const TEMPLATES = fs
  .readdirSync(TEMPLATES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();
/** The templates whose roots a person installs (the demo's roots init writes itself). */
const STARTERS = TEMPLATES.filter((t) => t !== 'demo');

interface ComposeDoc {
  imagesets: Array<{ name: string; patterns: string[]; root: string }>;
}

/**
 * Small installed-looking roots at the paths the compose file names: the same base files in
 * each (so shared images get content), one file of the imageset's own, a product file (which
 * goes to the metadata image), a symlink. No package database: its readers are tested elsewhere.
 */
function makeRoots(composeFile: string): ComposeDoc {
  const doc = parse(fs.readFileSync(composeFile, 'utf8')) as ComposeDoc;
  const dir = path.dirname(composeFile);
  for (const imageset of doc.imagesets) {
    const root = path.join(dir, imageset.root);
    for (const sub of ['etc/products.d', 'usr/bin', 'usr/share/patterns']) fs.mkdirSync(path.join(root, sub), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/os-release'), 'NAME="openSUSE Leap"\nVERSION="15.6"\n');
    fs.writeFileSync(path.join(root, 'usr/bin/true'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    fs.utimesSync(path.join(root, 'etc/os-release'), 1_600_000_000, 1_600_000_000);
    fs.utimesSync(path.join(root, 'usr/bin/true'), 1_600_000_000, 1_600_000_000);
    fs.writeFileSync(path.join(root, 'usr/share/patterns', `${imageset.name}.txt`), imageset.patterns.join('\n'));
    fs.writeFileSync(path.join(root, 'etc/products.d/openSUSE.prod'), `<product>${imageset.name}</product>\n`);
    fs.symlinkSync('../usr/bin/true', path.join(root, 'etc/true-link'));
  }
  return doc;
}

describe('mediacompose init', () => {
  it('ships at least the minimal and the openSUSE DVD templates', () => {
    expect(TEMPLATES).toEqual(expect.arrayContaining(['minimal', 'opensuse-dvd']));
  });

  it.each(STARTERS)('writes the %s template, which builds once its roots exist', (template) => {
    const dir = path.join(work, `from-${template}`);
    const r = mediacompose('init', dir, '--template', template);
    expect(r.status, r.stderr).toBe(0);
    const composeFile = path.join(dir, 'compose.yaml');
    const text = fs.readFileSync(composeFile, 'utf8');
    expect(r.stdout).toContain(`wrote ${composeFile} (template ${template})`);

    // The template's text, but for where the schema is, seen from the new folder.
    const original = fs.readFileSync(path.join(TEMPLATES_DIR, `${template}.yaml`), 'utf8');
    expect(text.split('\n').slice(1)).toEqual(original.split('\n').slice(1));
    const reference = /^# yaml-language-server: \$schema=(\S+)$/.exec(text.split('\n')[0]!)?.[1];
    expect(reference).toBeDefined();
    expect(path.resolve(dir, reference!)).toBe(SCHEMA_FILE);

    // Every key is explained: each line with a key carries a comment, or repeats a key
    // explained above it in the same list.
    const explained = new Set<string>();
    for (const line of text.split('\n')) {
      const key = /^\s*(?:- )?([a-z_]+):/.exec(line)?.[1];
      if (!key) continue;
      if (line.includes(' # ')) explained.add(key);
      expect(explained.has(key), `${template}: ${line}`).toBe(true);
    }

    const doc = makeRoots(composeFile);
    const build = mediacompose('build', composeFile, '--quiet');
    expect(build.status, build.stderr).toBe(0);
    const medium = path.join(dir, 'out/medium');
    const sets = readImagesXml(medium);
    expect(sets.map((s) => s.patterns).sort()).toEqual(doc.imagesets.map((s) => s.patterns.join(',')).sort());

    // The invariant, for each imageset: its images, extracted as the installer does, are its root.
    if (isRoot) {
      for (const imageset of doc.imagesets) {
        const { target, warnings } = deploy(medium, imageset.patterns.join(','), work);
        expect(warnings).toEqual([]);
        expect(diffTrees(listTree(path.join(dir, imageset.root)), listTree(target))).toEqual([]);
      }
    }
  });

  it('writes the demo with its roots, the same bytes every time, which builds and verifies with no warning', () => {
    const dirs = ['demo-1', 'demo-2'].map((d) => path.join(work, d));
    for (const dir of dirs) {
      const r = mediacompose('init', dir, '--template', 'demo');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`wrote ${dir}/compose.yaml and its roots, ${dir}/roots/\nnext: mediacompose build ${dir}/compose.yaml\n`);
    }
    const [first, second] = dirs.map((dir) => listTree(path.join(dir, 'roots')));
    expect(diffTrees(first!, second!)).toEqual([]);
    expect([...first!.entries.keys()].filter((p) => p.endsWith('/usr/lib/sysimage/rpm/rpmdb.sqlite')).length).toBe(3);

    // Where the attr package is missing too: the demo says it checks no attributes.
    const dir = dirs[0]!;
    const composeFile = path.join(dir, 'compose.yaml');
    const env = { PATH: pathWithout(work, ['getfattr', 'setfattr']), MEDIACOMPOSE_CACHE: path.join(work, 'demo-cache') };
    const build = mediacomposeWith(env, 'build', composeFile);
    expect(build.status, build.stderr).toBe(0);
    expect(build.stderr.split('\n').filter((l) => /warning/i.test(l))).toEqual([]);
    expect(build.stderr).toMatch(/read the package database of .*roots\/kde: 7 packages \(rpm-sqlite\)/);
    const verify = mediacomposeWith(env, 'verify', composeFile);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stderr.split('\n').filter((l) => /warning/i.test(l))).toEqual([]);
    const medium = path.join(dir, 'out/medium');
    expect(readImagesXml(medium).map((s) => s.patterns).sort()).toEqual(['base', 'base,x11', 'base,x11,kde']);
    if (isRoot) {
      for (const [name, patterns] of [['base', 'base'], ['x11', 'base,x11'], ['kde', 'base,x11,kde']] as const) {
        const { target, warnings } = deploy(medium, patterns, work);
        expect(warnings).toEqual([]);
        expect(diffTrees(listTree(path.join(dir, 'roots', name)), listTree(target))).toEqual([]);
      }
    }
  });

  describeIf(unmet({ programs: ['rpm'] }), 'the demo roots as rpm sees them', () => {
    it('rpm lists, owns and verifies every package file of each root, and sees a changed one', () => {
      const dir = path.join(work, 'demo-rpm');
      expect(mediacompose('init', dir, '--template', 'demo').status).toBe(0);
      const rpm = (root: string, ...args: string[]) =>
        spawnSync('rpm', ['--root', path.join(dir, 'roots', root), '--dbpath', '/usr/lib/sysimage/rpm', ...args], { encoding: 'utf8' });
      expect(rpm('kde', '-qa', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n').stdout.split('\n').filter(Boolean).sort()).toEqual(
        ['base-files', 'coreutils', 'libc', 'plasma', 'shadow', 'xorg-fonts', 'xorg-server'].map((n) => `${n}-1.0-1.x86_64`),
      );
      expect(rpm('base', '-qf', '/usr/bin/passwd').stdout).toBe('shadow-1.0-1.x86_64\n');
      for (const root of ['base', 'x11', 'kde']) {
        const verified = rpm(root, '-Va');
        expect([verified.status, verified.stdout, verified.stderr]).toEqual([0, '', '']);
      }
      fs.chmodSync(path.join(dir, 'roots/x11/etc/issue'), 0o600);
      expect(rpm('x11', '-Va').stdout).toBe('.M.......    /etc/issue\n');
    });
  });

  it('refuses the demo where its roots folder exists, writing nothing', () => {
    const dir = path.join(work, 'demo-roots-exist');
    fs.mkdirSync(path.join(dir, 'roots'), { recursive: true });
    const r = mediacompose('init', dir, '--template', 'demo');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: ${dir}/roots: already exists (init never overwrites; edit it, remove it first, or name another folder: mediacompose init DIR)\n`);
    expect(fs.readdirSync(dir)).toEqual(['roots']);
  });

  it('writes compose.yaml into the current folder by default, from the minimal template', () => {
    const dir = fs.mkdtempSync(path.join(work, 'cwd-'));
    const r = spawnSync(process.execPath, [BIN, 'init'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote compose\.yaml \(template minimal\)$/m);
    expect(fs.readFileSync(path.join(dir, 'compose.yaml'), 'utf8')).toContain('# A minimal medium');
  });

  it('refuses to overwrite an existing compose.yaml, with exit 2 and a hint', () => {
    const dir = fs.mkdtempSync(path.join(work, 'exists-'));
    const file = path.join(dir, 'compose.yaml');
    fs.writeFileSync(file, 'hours of work\n');
    const r = mediacompose('init', dir, '--template', 'opensuse-dvd');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: ${file}: already exists (init never overwrites; edit it, remove it first, or name another folder: mediacompose init DIR)\n`);
    expect(fs.readFileSync(file, 'utf8')).toBe('hours of work\n');
  });

  it('lists the templates with --template list', () => {
    const r = mediacompose('init', '--template', 'list');
    expect(r.status).toBe(0);
    for (const template of TEMPLATES) expect(r.stdout).toMatch(new RegExp(`^  ${template} +\\S`, 'm'));
    expect(r.stdout).toMatch(/^ {2}minimal .*\(default\)$/m);
  });

  it('names the templates for an unknown one, with exit 2, and writes nothing', () => {
    const dir = path.join(work, 'unknown');
    const r = mediacompose('init', dir, '--template', 'minimall');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `error: unknown template "minimall" (did you mean "minimal"? templates: ${TEMPLATES.join(', ')}; mediacompose init --template list describes them)\n`,
    );
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('refers to the schema relatively within one tree, absolutely across trees', () => {
    const inside = path.join(path.dirname(SCHEMA_FILE), '..', 'some', 'project');
    expect(schemaReference(inside)).toBe('../../schema/compose.schema.json');
    expect(schemaReference('/')).toBe(SCHEMA_FILE);
  });
});
