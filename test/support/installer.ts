/**
 * Test oracle: deploys an imageset the way the installer does (docs/yast-contract.md): images.xml read
 * with namespaces stripped, images extracted in listed order with the installer's exact tar
 * command lines, as root, into an empty directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

export interface DeployedImageset {
  patterns: string;
  archs: string;
  pkgImage: string;
  images: Array<{ name: string; type: string; file: string }>;
}

const LISTS = new Set(['image_set', 'image', 'rpm']);

export function readImagesXml(medium: string): DeployedImageset[] {
  const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, isArray: (name) => LISTS.has(name), parseTagValue: false });
  const doc = parser.parse(fs.readFileSync(path.join(medium, 'images', 'images.xml')));
  return (doc.image_installation.image_sets.image_set as any[]).map((s) => ({
    patterns: s.patterns,
    archs: s.archs,
    pkgImage: s.pkg_image,
    images: (s.images.image as any[]).map((i) => ({ name: i.name, type: i.type, file: i.file })),
  }));
}

export function readDetailsXml(medium: string, arch: string, name = `details-${arch}.xml`): Array<{ file: string; files: string; size: string; rpms?: string[] }> {
  const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, isArray: (name) => LISTS.has(name), parseTagValue: false });
  const doc = parser.parse(fs.readFileSync(path.join(medium, 'images', name)));
  return (doc.image_installation_details.details.image as any[]).map((i) => ({
    file: i.file,
    files: i.files,
    size: i.size,
    ...(i.rpms ? { rpms: (i.rpms.rpm ?? []) as string[] } : {}),
  }));
}

/** Extracts one archive as the installer does; returns tar's stderr lines other than its progress. */
function extractLikeInstaller(archive: string, target: string): string[] {
  const tar = 'tar --numeric-owner --totals --checkpoint=400 --record-size=10240 -C "$2"';
  const script = archive.endsWith('.xz')
    ? `set -o pipefail; xzdec < "$1" | ${tar} -xf -`
    : archive.endsWith('.lzma')
      ? `set -o pipefail; lzmadec < "$1" | ${tar} -xf -`
      : `${tar} -xf "$1"`;
  const result = spawnSync('bash', ['-c', script, 'bash', archive, target], { encoding: 'latin1' });
  if (result.status !== 0) throw new Error(`extracting ${archive} failed (${result.status}): ${result.stderr}`);
  return result.stderr
    .split('\n')
    .filter((l) => l && !/^tar: Read checkpoint \d+$/.test(l) && !/^Total bytes read: /.test(l))
    // GNU tar notes every mtime before 1970 or later than now: those are facts of the root (a
    // valid input), not of the archive format.
    .filter((l) => !/^tar: .*: (time stamp .* s in the future|implausibly old time stamp .*)$/.test(l));
}

/** Deploys the imageset with this patterns string into a new empty directory under `into`. */
export function deploy(medium: string, patterns: string, into: string): { target: string; warnings: string[] } {
  const set = readImagesXml(medium).find((s) => s.patterns === patterns);
  if (!set) throw new Error(`no imageset with patterns ${patterns}`);
  const target = fs.mkdtempSync(path.join(into, 'deploy-'));
  const warnings = set.images.flatMap((image) => extractLikeInstaller(path.join(medium, 'images', image.file), target));
  return { target, warnings };
}

/** Uncompressed bytes and member count of an archive, measured by the system tools. */
export function measureArchive(archive: string): { size: number; files: number } {
  const decompress = archive.endsWith('.xz') || archive.endsWith('.lzma') ? 'xz -dc' : archive.endsWith('.gz') ? 'gzip -dc' : 'bzip2 -dc';
  const run = (script: string): number =>
    Number(execFileSync('bash', ['-c', `set -o pipefail; ${decompress} "$1" | ${script}`, 'bash', archive], { encoding: 'utf8' }).trim());
  return { size: run('wc -c'), files: run('tar --numeric-owner -tf - | wc -l') };
}

export { isRoot } from './needs.js';
