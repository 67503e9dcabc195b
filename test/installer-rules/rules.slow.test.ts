/**
 * The installer's own rules (src/model/installer.ts) against the installer's facts:
 * - the decompressor: the installer's command lines are run for every name/content pair and our
 *   verdict must say exactly whether that pipeline deploys the tree;
 * - the imageset choice, archs and numbers: tables read from yast-installation
 *   ImageInstallation.FindImageSet / ReadImageSetDetails, yast2 Arch.arch_short and
 *   yast-ruby-bindings Builtins (splitstring, foreach over a hash sorts its keys, tointeger).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/registry.js';
import { loadCompose } from '../../src/config/load.js';
import { ComposeError } from '../../src/errors.js';
import { INSTALLER_ARCHS, chooseImageset, installerDecompressor, installerInteger, numberProblem } from '../../src/model/installer.js';
import { installerCanRead } from '../../src/formats/registry.js';
import { describeIf, unmet } from '../support/needs.js';
import { buildOk, fingerprint, mediacompose, writeCompose, writeTwoImagesetCompose, writeTwoSmallRoots } from '../support/build.js';

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-rules-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// 1. The decompressor by name: run the installer's pipelines

/** The installer's command lines (ImageInstallation.DeployTar), run as it runs them: a shell. */
function installerPipeline(archive: string, target: string): number {
  const tar = `tar --numeric-owner --record-size=10240 -C '${target}'`;
  const cmd = /.lzma$/.test(archive)
    ? `lzmadec < '${archive}' | ${tar} -xf -`
    : /.xz$/.test(archive)
      ? `xzdec < '${archive}' | ${tar} -xf -`
      : `${tar} -xf '${archive}'`;
  return spawnSync('sh', ['-c', cmd], { stdio: 'ignore' }).status ?? -1;
}

describeIf(unmet({ programs: ['xzdec', 'lzmadec', 'bzip2'] }), 'the decompressor is chosen by name', () => {
  const contents = ['xz', 'lzma', 'gzip', 'bzip2', 'tar'] as const;
  const names = ['img.tar.xz', 'img.tar.lzma', 'img.tar.gz', 'img.tar.bzip2', 'img.tar', 'img.txz', 'img.tlz'];

  it('says "readable" for exactly the name/content pairs whose installer pipeline deploys the tree', () => {
    const dir = fs.mkdtempSync(path.join(work, 'matrix-'));
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'etc', 'os-release'), 'NAME=demo\n');
    fs.writeFileSync(path.join(tree, 'big'), Buffer.alloc(100_000, 'x'));
    const plain = path.join(dir, 'plain.tar');
    execFileSync('tar', ['--numeric-owner', '-C', tree, '-cf', plain, '.']);
    const compress: Record<(typeof contents)[number], string[]> = {
      xz: ['xz', '-c'],
      lzma: ['xz', '--format=lzma', '-c'],
      gzip: ['gzip', '-c'],
      bzip2: ['bzip2', '-c'],
      tar: ['cat'],
    };
    const verdicts: string[] = [];
    let readable = 0;
    for (const content of contents) {
      const bytes = execFileSync(compress[content][0]!, [...compress[content].slice(1), plain], { maxBuffer: 1 << 24 });
      expect(detectFormat(bytes.subarray(0, 512))).toBe(content);
      for (const name of names) {
        const archive = path.join(dir, name);
        fs.writeFileSync(archive, bytes);
        const target = fs.mkdtempSync(path.join(dir, 'target-'));
        const status = installerPipeline(archive, target);
        const same = spawnSync('diff', ['-r', tree, target], { stdio: 'ignore' }).status === 0;
        const deploys = status === 0 && same;
        expect({ name, content, ours: installerCanRead(name, content) }).toEqual({ name, content, ours: deploys });
        verdicts.push(`${name} ${content} ${deploys ? 'deploys' : 'aborts'}`);
        if (deploys) readable++;
        fs.rmSync(target, { recursive: true });
        fs.rmSync(archive);
      }
    }
    // The installer's facts, as measured above: each name has its decompressor.
    expect(verdicts).toContain('img.tar.xz bzip2 aborts');
    expect(verdicts).toContain('img.tar.gz xz deploys');
    expect(verdicts).toContain('img.tar.gz lzma aborts');
    expect(verdicts).toContain('img.txz gzip aborts'); // ".xz$" is a regular expression: txz goes to xzdec
    expect(readable).toBe(3 + 4 * 4); // xz by .tar.xz and .txz, lzma by .tar.lzma; xz/gzip/bzip2/tar by the 4 other names
    expect(names.map(installerDecompressor)).toEqual(['xzdec', 'lzmadec', 'tar', 'tar', 'tar', 'xzdec', 'tar']);
  });
});

/** A gzip medium with imagesets a (base) and b (base,b) sharing `common`. */
function gzipMedium(): { compose: string; images: string } {
  const dir = fs.mkdtempSync(path.join(work, 'medium-'));
  writeTwoSmallRoots(dir);
  const compose = writeTwoImagesetCompose(dir);
  buildOk(compose);
  return { compose, images: path.join(dir, 'medium', 'images') };
}

/** Recompresses common-x86_64.tar.gz with `argv` into `newName` and renames it in images.xml. */
function repackCommon(images: string, argv: string[], newName: string): void {
  const old = path.join(images, 'common-x86_64.tar.gz');
  const tar = execFileSync('gzip', ['-dc', old], { maxBuffer: 1 << 26 });
  fs.writeFileSync(path.join(images, newName), execFileSync(argv[0]!, argv.slice(1), { input: tar, maxBuffer: 1 << 26 }));
  fs.rmSync(old);
  const xml = path.join(images, 'images.xml');
  fs.writeFileSync(xml, fs.readFileSync(xml, 'utf8').replaceAll('common-x86_64.tar.gz', newName));
}

describe('details and verify refuse what the installer cannot read', () => {
  it('a .tar.xz holding bzip2: --check exits 1 naming xzdec, details exits 3 and writes nothing, verify names it', () => {
    const m = gzipMedium();
    repackCommon(m.images, ['bzip2', '-c'], 'common-x86_64.tar.xz');
    const before = fingerprint(m.images);

    const check = mediacompose('details', path.dirname(m.images), '--check');
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('common-x86_64.tar.xz: holds bzip2 data, which the installer\'s `xzdec < common-x86_64.tar.xz | tar --numeric-owner --record-size=10240 -xf -` cannot read');

    const write = mediacompose('details', path.dirname(m.images));
    expect(write.status).toBe(3);
    expect(write.stderr.trim().split('\n').at(-1)).toBe(
      `error: ${path.join(m.images, 'common-x86_64.tar.xz')}: holds bzip2 data, which the installer's \`xzdec < common-x86_64.tar.xz | tar --numeric-owner --record-size=10240 -xf -\` cannot read: the installation aborts (rename it to a name not ending in .xz or .lzma (e.g. .tar.gz or .tar.bzip2), or recompress it)`,
    );
    expect(fingerprint(m.images)).toEqual(before);

    const v = mediacompose('verify', m.compose, '--json');
    expect(v.status).toBe(1);
    expect(JSON.parse(v.stdout).problems).toContainEqual({
      imageset: null,
      path: 'images/common-x86_64.tar.xz',
      what: "holds bzip2 data, which the installer's `xzdec < common-x86_64.tar.xz | tar --numeric-owner --record-size=10240 -xf -` cannot read: the installation aborts",
    });
  });

  it('xz data in a .tar.bzip2 is accepted: GNU tar finds xz by its magic bytes', () => {
    const m = gzipMedium();
    repackCommon(m.images, ['xz', '-c'], 'common-x86_64.tar.bzip2');
    const r = mediacompose('details', path.dirname(m.images));
    expect(r.status).toBe(0);
    expect(mediacompose('details', path.dirname(m.images), '--check').status).toBe(0);
  });
});

describeIf(unmet({ programs: ['xzdec'] }), 'a truncated .xz: the installer does not check the decompressor', () => {
  it('deploys a partial tree with exit 0 when the readable part ends between members; details and verify refuse the archive', () => {
    const m = gzipMedium();
    const tar = execFileSync('gzip', ['-dc', path.join(m.images, 'common-x86_64.tar.gz')], { maxBuffer: 1 << 26 });
    const members = execFileSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8' }).trim().split('\n');
    expect(members.length).toBeGreaterThan(1);
    // Two xz streams, split after the first member (a directory: one header), the second cut short.
    const first = execFileSync('xz', ['-c'], { input: tar.subarray(0, 512) });
    const second = execFileSync('xz', ['-c'], { input: tar.subarray(512) });
    const truncated = Buffer.concat([first, second.subarray(0, 24)]);
    const name = 'common-x86_64.tar.xz';
    fs.writeFileSync(path.join(m.images, name), truncated);
    fs.rmSync(path.join(m.images, 'common-x86_64.tar.gz'));
    const xml = path.join(m.images, 'images.xml');
    fs.writeFileSync(xml, fs.readFileSync(xml, 'utf8').replaceAll('common-x86_64.tar.gz', name));

    const target = fs.mkdtempSync(path.join(work, 'partial-'));
    expect(installerPipeline(path.join(m.images, name), target)).toBe(0);
    const deployed = execFileSync('find', ['.', '-mindepth', '1'], { cwd: target, encoding: 'utf8' }).trim().split('\n');
    expect(deployed).toEqual([`./${members[0]!.replace(/\/$/, '')}`]);

    expect(mediacompose('details', path.dirname(m.images), '--check').status).toBe(3);
    const v = mediacompose('verify', m.compose);
    expect(v.status).toBe(3);
    expect(v.stdout + v.stderr).toContain(name);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Which imageset wins (FindImageSet)

const set = (patterns: string | undefined, archs = ''): { patterns: string | undefined; archs: string } => ({ patterns, archs });

describe('chooseImageset follows FindImageSet', () => {
  // Each row: image_sets (patterns, undefined = no <patterns>), selection, the installer's pick.
  // Derived from the code: candidates keyed by patterns string, foreach over the hash walks the
  // keys sorted (byte order), a later key only wins with strictly more matches.
  const table: Array<[Array<string | undefined>, string[], number | undefined]> = [
    [['b,c', 'a,b'], ['a', 'b', 'c'], 1], // tie: "a,b" sorts first, though second in the file
    [['x11,base', 'base,x11'], ['base', 'x11'], 1], // the same set in another order: "base,x11" wins, always
    [['base,x11', 'x11,base'], ['base', 'x11'], 0],
    [['B', 'a'], ['a', 'B'], 0], // byte order: "B" (0x42) before "a" (0x61)
    [['base', 'base,x11'], ['base', 'x11'], 1], // more matches win
    [['base,x11', 'base'], ['base'], 1], // not all of base,x11 selected
    [[undefined], ['base'], undefined], // no <patterns>: never chosen
    [[undefined, ''], ['base'], 1],
    [[''], [], 0], // an empty <patterns/> matches any selection, even none
    [['', 'base'], ['base'], 1],
    [['', 'base'], ['other'], 0],
    [['a, b'], ['a', 'b'], undefined], // the space makes an empty name that never matches
    [['a,a'], ['a'], undefined], // two names, one match
    [['a', 'a'], ['a'], 1], // the same string: the later one replaces the earlier
  ];
  it.each(table)('%j for %j -> %s', (patterns, selected, expected) => {
    expect(chooseImageset(patterns.map((p) => set(p)), 'x86_64', selected)).toBe(expected);
  });

  it('keeps other archs out; "archs" splits on space and comma', () => {
    expect(chooseImageset([set('a', 'i386'), set('a,b', 'riscv64 x86_64')], 'x86_64', ['a', 'b'])).toBe(1);
    expect(chooseImageset([set('a', 'i386,ppc')], 'ppc', ['a'])).toBe(0);
  });
});

/** A workspace with roots a, b, c and a compose.yaml of `lines`. */
function composeProblems(lines: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(work, 'compose-'));
  for (const r of ['a', 'b', 'c']) fs.mkdirSync(path.join(dir, 'roots', r), { recursive: true });
  const file = path.join(dir, 'compose.yaml');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  try {
    loadCompose(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ComposeError);
    return (err as ComposeError).problems.map((p) => `${p.position?.line}:${p.position?.column} ${p.what} (${p.hint})`);
  }
  return [];
}

describe('compose time: a pattern set in another order is refused like a duplicate', () => {
  it('exits 2 naming both positions', () => {
    const lines = [
      'medium: out', //                      1
      'arch: x86_64', //                     2
      'imagesets:', //                       3
      '  - name: a', //                      4
      '    patterns: [x11, base]', //        5
      '    root: roots/a', //                6
      '  - name: b', //                      7
      '    patterns: [base, x11]', //        8
      '    root: roots/b', //                9
    ];
    expect(composeProblems(lines)).toEqual([
      '8:15 patterns "base,x11" for arch x86_64 are the patterns "x11,base" of imageset "a" (line 4) in another order (the installer sees two different patterns strings and never chooses one of them; keep one imageset per pattern set)',
    ]);
    const dir = fs.mkdtempSync(path.join(work, 'cli-'));
    for (const r of ['a', 'b']) fs.mkdirSync(path.join(dir, 'roots', r), { recursive: true });
    const r = mediacompose('plan', writeCompose(dir, `${lines.join('\n')}\n`));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('compose.yaml:8:15: patterns "base,x11"');
    expect(r.stderr).toContain('of imageset "a" (line 4) in another order');
  });

  it('allows the same set for another arch', () => {
    expect(
      composeProblems([
        'medium: out',
        'imagesets:',
        '  - {name: a, patterns: [x11, base], root: roots/a, arch: x86_64}',
        '  - {name: b, patterns: [base, x11], root: roots/b, arch: aarch64}',
      ]),
    ).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Archs (yast2 Arch.arch_short)

describe('archs', () => {
  it('are the current installer\'s short archs', () => {
    // arch_short: sparc/sparc64 -> sparc, ppc/ppc64 -> ppc, s390_32/s390_64 -> s390, else architecture
    // (i386, x86_64, alpha, ia64, arm, aarch64, riscv64); mips left the Arch module in 2015.
    expect([...INSTALLER_ARCHS].sort()).toEqual(['aarch64', 'alpha', 'arm', 'i386', 'ia64', 'ppc', 'riscv64', 's390', 'sparc', 'x86_64']);
  });

  it('accepts riscv64 and refuses mips and amd64 with a hint', () => {
    const one = (arch: string): string[] => composeProblems(['medium: out', `arch: ${arch}`, 'imagesets:', '  - {name: a, patterns: [base], root: roots/a}']);
    expect(one('riscv64')).toEqual([]);
    expect(one('mips')).toEqual(['2:7 unknown arch "mips" (the current installer has no mips arch (yast2 Arch dropped it))']);
    expect(one('amd64')).toEqual(['2:7 unknown arch "amd64" (the installer calls this arch "x86_64")']);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Numbers (Builtins.tointeger on the text of <size> and <files>)

describe('numbers', () => {
  it('reads them as tointeger does', () => {
    const table: Array<[string, number | null]> = [
      ['10240', 10240],
      ['010240', 0o10240], // leading zero: octal
      ['0', 0],
      ['09', 0], // octal stops at the first non-octal digit
      ['0x10', 16],
      ['12abc', 12],
      ['abc', null],
      ['', null],
    ];
    for (const [text, value] of table) expect([text, installerInteger(text)]).toEqual([text, value]);
  });

  it('flags a leading zero and a typed value', () => {
    expect(numberProblem('10240', undefined)).toBeUndefined();
    expect(numberProblem('010240', undefined)).toBe('"010240" is not plain decimal: the installer reads it as 4256');
    expect(numberProblem('10240', 'integer')).toMatch(/config:type="integer"/);
  });

  it('verify flags hand-edited details with a leading zero or config:type="integer"', () => {
    const m = gzipMedium();
    const details = path.join(m.images, 'details-x86_64.xml');
    const xml = fs.readFileSync(details, 'utf8');
    const block = /<image>\s*<file>common-x86_64\.tar\.gz<\/file>[\s\S]*?<\/image>/.exec(xml)![0];
    const size = /<size>(\d+)<\/size>/.exec(block)![1]!;
    const own = /<image>\s*<file>a-x86_64\.tar\.gz<\/file>[\s\S]*?<\/image>/.exec(xml)![0];
    const edited = xml
      .replace(block, block.replace(`<size>${size}</size>`, `<size>0${size}</size>`))
      .replace(own, own.replace(/<files>(\d+)</, '<files config:type="integer">$1<'));
    expect(edited).not.toBe(xml);
    fs.writeFileSync(details, edited);
    const v = mediacompose('verify', m.compose, '--json');
    expect(v.status).toBe(1);
    const whats = (JSON.parse(v.stdout).problems as Array<{ what: string }>).map((p) => p.what);
    expect(whats).toContainEqual(`common-x86_64.tar.gz: <size> "0${size}" is not plain decimal: the installer reads it as ${Number.parseInt(size, 8) || 0}`);
    expect(whats.some((w) => w.includes('<files> has config:type="integer"'))).toBe(true);
  });
});
