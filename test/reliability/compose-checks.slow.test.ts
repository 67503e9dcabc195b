/**
 * What compose.yaml can ask for that the build would find late or never (cases 5, 7 and 11 of
 * the hostile-media review): file names longer than a file system takes, a root inside the
 * medium or a medium inside a root, characters XML 1.0 does not allow in images.xml, and paths
 * deeper than PATH_MAX. Each is refused before anything is scanned or written: exit 2 (3 for
 * the deep path, found by the scan), one line per problem, and the work folder (medium and
 * roots) unchanged.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeYaml, mediacompose, writeCompose } from '../support/build.js';
import { type Work, changesSince, smallMedium, snapshot } from './hostile.js';

let work: Work;
beforeAll(() => {
  work = smallMedium('mc-compose-checks-');
}, 60_000);
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

/** Writes `yaml` as compose.yaml in the work folder, builds, and checks that nothing changed. */
function buildUnchanged(yaml: string, ...options: string[]): { status: number; stderr: string } {
  const before = snapshot(work.dir);
  const compose = writeCompose(path.join(work.dir), yaml);
  const after = snapshot(work.dir); // compose.yaml itself is the test's own change
  const r = mediacompose('build', compose, '--quiet', ...options);
  expect(changesSince(after, work.dir)).toEqual([]);
  expect([...before.entries.keys()].sort()).toEqual([...after.entries.keys()].sort());
  return r;
}

const sets = (a: Partial<{ name: string; root: string; patterns: string[] }> = {}) => [
  { name: a.name ?? 'a', patterns: a.patterns ?? ['base', 'a'], root: a.root ?? 'roots/a' },
  { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
];

describe('case 11: file names the medium will hold', () => {
  it('a 250-character imageset name: exit 2 at compose time, naming the file name', () => {
    const name = 'x'.repeat(250);
    const r = buildUnchanged(composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets({ name }) }));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`compose.yaml:6:5: imageset name "${name}" makes a 269-byte file name (${name}-meta-x86_64.tar.gz)`);
    expect(r.stderr).toContain('(file names on the medium are at most 255 bytes; use a shorter name)');
    expect(r.stderr).not.toMatch(/ENAMETOOLONG|internal error/);
  });

  it('names differing only in case (one name on FAT and ISO 9660 media): refused as names are lower case, exit 2', () => {
    const hint = '(did you mean "a"? names use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit)';
    const imagesets = [
      { name: 'a', patterns: ['base', 'a'], root: 'roots/a' },
      { name: 'A', patterns: ['base', 'b'], root: 'roots/b' },
    ];
    const r = buildUnchanged(composeYaml({ medium: 'out', compression: 'gzip', imagesets }));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: ${work.dir}/compose.yaml:9:11: invalid imageset name "A" ${hint}\n`);
    const image = buildUnchanged(composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets(), images: [{ name: 'A', sharedBy: 'all' }] }));
    expect(image.status).toBe(2);
    expect(image.stderr).toContain(`invalid image name "A" ${hint}\n`);
    const plan = mediacompose('plan', path.join(work.dir, 'compose.yaml'));
    expect(plan.status).toBe(2);
    expect(plan.stderr).toContain('invalid image name "A"');
  });

  it('a shared image name too long for one arch: exit 2', () => {
    const name = 'y'.repeat(240);
    const r = buildUnchanged(
      composeYaml({ medium: 'out', compression: 'bzip2', imagesets: sets(), images: [{ name, sharedBy: 'all' }] }),
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`image name "${name}" makes a 257-byte file name (${name}-x86_64.tar.bzip2)`);
  });

  it('imageset names whose automatic shared image name is too long: exit 2 with a hint', () => {
    const long = (c: string): string => c.repeat(120);
    const yaml = composeYaml({
      medium: 'out',
      compression: 'gzip',
      imagesets: [
        { name: long('p'), patterns: ['base', 'p'], root: 'roots/a' },
        { name: long('q'), patterns: ['base', 'q'], root: 'roots/b' },
      ],
    });
    const r = buildUnchanged(yaml);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the shared image of all 2 imagesets of x86_64 would have a 262-byte file name');
  });

  it('a path deeper than PATH_MAX: exit 3 with a short message, not the whole path', () => {
    // Its own folder: the test's tree listing cannot take such paths either.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-deep-'));
    const root = path.join(dir, 'deep');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    // Built with paths relative to the current folder: the absolute path is longer than mkdir takes.
    const cwd = process.cwd();
    try {
      process.chdir(root);
      for (let i = 0; i < 20; i++) {
        fs.mkdirSync('d'.repeat(250));
        process.chdir('d'.repeat(250));
      }
      fs.writeFileSync('leaf', 'x');
      process.chdir(cwd);
      const compose = writeCompose(dir, composeYaml({ medium: 'out', compression: 'gzip', imagesets: [{ name: 'a', patterns: ['a'], root: 'deep' }] }));
      const r = mediacompose('build', compose, '--quiet');
      expect(r.status).toBe(3);
      expect(r.stderr.length).toBeLessThan(400);
      expect(r.stderr).toMatch(/^error: .*\/deep\/d{60}\.\.\.: path of \d+ bytes is longer than PATH_MAX \(4095 bytes\) \(mediacompose archives paths up to PATH_MAX; move the deep folders to a shorter place\)\n$/);
      expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    } finally {
      process.chdir(cwd);
      execFileSync('rm', ['-rf', dir]);
    }
  });
});

describe('case 5: medium and roots do not overlap', () => {
  it('a root inside MEDIUM/images: exit 2, the root and the medium are kept', () => {
    const inside = path.join(work.medium, 'images', 'root-c');
    fs.mkdirSync(path.join(inside, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(inside, 'etc', 'hostname'), 'c\n');
    try {
      const r = buildUnchanged(composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets({ root: 'out/images/root-c' }) }));
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `error: ${work.dir}/compose.yaml:6:5: root "out/images/root-c" lies inside the medium folder ${work.medium} (medium: at line 2) ` +
          '(a build replaces the medium and would delete the root; keep roots outside the medium folder)\n',
      );
      expect(fs.readFileSync(path.join(inside, 'etc', 'hostname'), 'utf8')).toBe('c\n');
    } finally {
      fs.rmSync(inside, { recursive: true });
    }
  });

  it('a medium inside a root: exit 2 at the medium key, naming the root', () => {
    const r = buildUnchanged(composeYaml({ medium: 'roots/a/srv/medium', compression: 'gzip', imagesets: sets() }));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `error: ${work.dir}/compose.yaml:2:9: the medium folder ${work.dir}/roots/a/srv/medium lies inside root "roots/a" of imageset "a" (line 6) ` +
        "(the build would archive the medium into the root's own image; write the medium outside every root)\n",
    );
    expect(fs.existsSync(path.join(work.dir, 'roots', 'a', 'srv'))).toBe(false);
  });

  it('--medium inside a root, or around the roots: exit 2 naming --medium, nothing written', () => {
    const yaml = composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets() });
    const insideRoot = path.join(work.dir, 'roots', 'a', 'srv', 'medium');
    const r = buildUnchanged(yaml, '--medium', insideRoot);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `error: --medium ${insideRoot}: the medium folder ${insideRoot} lies inside root "roots/a" of imageset "a" (line 6) ` +
        "(the build would archive the medium into the root's own image; write the medium outside every root)\n",
    );
    expect(fs.existsSync(path.join(work.dir, 'roots', 'a', 'srv'))).toBe(false);

    const aroundRoots = buildUnchanged(yaml, '--medium', work.dir);
    expect(aroundRoots.status).toBe(2);
    expect(aroundRoots.stderr).toMatch(new RegExp(`^error: --medium ${work.dir}: root "roots/a" lies inside the medium folder ${work.dir} \\(a build replaces`));
  });

  it('--medium overrides a medium: inside a root: the checks apply to the medium used, the build succeeds', () => {
    const yaml = composeYaml({ medium: 'roots/a/srv/medium', compression: 'gzip', imagesets: sets() });
    const safe = path.join(work.dir, 'safe', 'place');
    try {
      const without = buildUnchanged(yaml);
      expect(without.status).toBe(2);
      expect(without.stderr).toContain(`the medium folder ${work.dir}/roots/a/srv/medium lies inside root "roots/a"`);

      const before = snapshot(path.join(work.dir, 'roots'));
      const r = mediacompose('build', path.join(work.dir, 'compose.yaml'), '--quiet', '-m', safe);
      expect(r.stderr).not.toContain('error');
      expect(r.status).toBe(0);
      expect(fs.readdirSync(path.join(safe, 'images'))).toContain('images.xml');
      expect(changesSince(before, path.join(work.dir, 'roots'))).toEqual([]);
      expect(fs.existsSync(path.join(work.dir, 'roots', 'a', 'srv'))).toBe(false);
      for (const command of ['plan', 'verify']) expect(mediacompose(command, path.join(work.dir, 'compose.yaml'), '--medium', safe).status).toBe(0);
    } finally {
      fs.rmSync(path.join(work.dir, 'safe'), { recursive: true, force: true });
    }
  });

  it('a root reached through a symlink into the medium: exit 2 too', () => {
    fs.mkdirSync(path.join(work.medium, 'images', 'root-d', 'etc'), { recursive: true });
    fs.symlinkSync(path.join(work.medium, 'images', 'root-d'), path.join(work.dir, 'roots', 'link-d'));
    try {
      const r = buildUnchanged(composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets({ root: 'roots/link-d' }) }));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('root "roots/link-d" lies inside the medium folder');
    } finally {
      fs.rmSync(path.join(work.dir, 'roots', 'link-d'));
      fs.rmSync(path.join(work.medium, 'images', 'root-d'), { recursive: true });
    }
  });
});

describe('case 7: only characters XML 1.0 allows go into images.xml', () => {
  const cases: Array<[string, string, string]> = [
    ['\\x01 in a title', 'title: "A\\x01B"', 'U+0001'],
    ['NUL in a title', 'title: "A\\0B"', 'U+0000'],
    ['ESC in a title', 'title: "A\\eB"', 'U+001B'],
    ['U+FFFE in a title', 'title: "A\\uFFFEB"', 'U+FFFE'],
    ['a lone surrogate in a title', 'title: "A\\uD800B"', 'a lone surrogate U+D800'],
  ];
  for (const [what, line, shown] of cases) {
    it(`${what}: exit 2, naming the character`, () => {
      const yaml = composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets() }).replace('  - name: a\n', `  - name: a\n    ${line}\n`);
      const r = buildUnchanged(yaml);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: .*compose\\.yaml:6:5: title of imageset "a" ".*" contains ${shown.replaceAll("+", "\\+")}, which XML 1\\.0 does not allow \\(images\\.xml would not be well-formed`));
    });
  }

  it('a control character in a pattern: exit 2', () => {
    const yaml = composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets() }).replace('[base, a]', '[base, "a\\x07"]');
    const r = buildUnchanged(yaml);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('pattern of imageset "a" "a\\u0007" contains U+0007, which XML 1.0 does not allow');
  });

  it('tabs, accents and characters beyond the BMP pass', () => {
    const yaml = composeYaml({ medium: 'out', compression: 'gzip', imagesets: sets() }).replace('  - name: a\n', '  - name: a\n    title: "Ä\\t😀"\n');
    writeCompose(work.dir, yaml);
    const r = mediacompose('plan', path.join(work.dir, 'compose.yaml'));
    expect(r.stderr).not.toContain('error');
    expect(r.status).toBe(0);
  });
});
