import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/mediacompose.js');

/** Runs the mediacompose command line; returns its exit status and output. */
export function mediacompose(...args: string[]): { status: number; stdout: string; stderr: string } {
  return mediacomposeWith({}, ...args);
}

/** Runs the command line with extra environment variables. */
export function mediacomposeWith(env: NodeJS.ProcessEnv, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Builds and throws with the output when the build fails. */
export function buildOk(compose: string, ...args: string[]): string {
  const r = mediacompose('build', compose, '--quiet', ...args);
  if (r.status !== 0) throw new Error(`build failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Every file of a folder with its bytes' digest, to compare media byte for byte. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    out[name] = execFileSync('sha256sum', [path.join(dir, name)], { encoding: 'utf8' }).split(' ')[0]!;
  }
  return out;
}

export function writeCompose(dir: string, yaml: string): string {
  const file = path.join(dir, 'compose.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

/** One imageset of a compose file: the patterns that select it and the root it is built from. */
interface ComposeImageset {
  name: string;
  patterns: string[];
  root: string;
}

/** One named image of a compose file, shared by every imageset or by the ones listed. */
interface ComposeImage {
  name: string;
  sharedBy: 'all' | string[];
}

export interface ComposeFields {
  medium: string;
  compression?: string;
  level?: number;
  arch?: string;
  imagesets: ComposeImageset[];
  images?: ComposeImage[];
  /** Whether build looks for xattrs and ACLs in the roots (default here: false, see composeYaml). */
  checkAttributes?: boolean;
}

/**
 * The text of an ordinary compose file, in block style and in the order the spec documents
 * (version, medium, compression, level, arch, imagesets, images). Fields left out are not
 * written, so the build's defaults apply; arch defaults to x86_64. Tests that need unusual
 * text (errors, a particular layout) write it themselves. The attribute check is off unless a
 * test asks for it: its result depends on the machine (getfattr from the attr package), and
 * tests compare the build's output exactly.
 */
export function composeYaml(fields: ComposeFields): string {
  const list = (items: string[]): string => `[${items.join(', ')}]`;
  const lines = ['version: 1', `medium: ${fields.medium}`];
  if (fields.compression !== undefined) lines.push(`compression: ${fields.compression}`);
  if (fields.level !== undefined) lines.push(`level: ${fields.level}`);
  lines.push(`arch: ${fields.arch ?? 'x86_64'}`, 'imagesets:');
  for (const set of fields.imagesets) {
    lines.push(`  - name: ${set.name}`, `    patterns: ${list(set.patterns)}`, `    root: ${set.root}`);
  }
  if (fields.images) {
    lines.push('images:');
    for (const image of fields.images) {
      lines.push(`  - name: ${image.name}`, `    shared_by: ${image.sharedBy === 'all' ? 'all' : list(image.sharedBy)}`);
    }
  }
  if (fields.checkAttributes !== true) lines.push('check_attributes: false');
  return `${lines.join('\n')}\n`;
}

/**
 * Gives a test root the smallest package database the installer could open (a dpkg status file
 * naming one package), so that a build of it has no warning about a missing database.
 */
export function addPackageDatabase(root: string): void {
  fs.mkdirSync(path.join(root, 'var', 'lib', 'dpkg'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var', 'lib', 'dpkg', 'status'), 'Package: base-files\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n');
}

/** Roots a and b in DIR/roots: /etc/os-release, /etc/hostname and a package database each. */
export function writeTwoSmallRoots(dir: string): void {
  for (const name of ['a', 'b']) {
    const root = path.join(dir, 'roots', name);
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'os-release'), 'NAME=demo\n');
    fs.writeFileSync(path.join(root, 'etc', 'hostname'), `${name}\n`);
    addPackageDatabase(root);
  }
}

/**
 * The compose file of a small two-imageset medium at DIR/medium (gzip unless said, level 1, easy
 * to take apart): imagesets a and b from DIR/roots/a and DIR/roots/b, one image shared by both.
 */
export function writeTwoImagesetCompose(dir: string, compression = 'gzip'): string {
  return writeCompose(
    dir,
    composeYaml({
      medium: 'medium',
      compression,
      level: 1,
      imagesets: [
        { name: 'a', patterns: ['base'], root: 'roots/a' },
        { name: 'b', patterns: ['base', 'b'], root: 'roots/b' },
      ],
      images: [{ name: 'common', sharedBy: 'all' }],
    }),
  );
}
