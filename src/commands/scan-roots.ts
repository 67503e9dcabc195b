/**
 * What build and plan share before planning: scan every root of the compose spec once, then
 * compare the contents of files whose path and metadata match another root's.
 */
import type { ComposeSpec } from '../config/spec.js';
import type { BytePath } from '../model/entry.js';
import { nearMissCandidates } from '../plan/near-misses.js';
import { type ImagesetScan, filesToCompare } from '../plan/plan.js';
import { formatMB, secondsSince } from '../runtime/format.js';
import type { Progress } from '../runtime/progress.js';
import { digestFile } from '../scan/digest.js';
import { type RootScan, scanRoot } from '../scan/walk.js';

/**
 * Scans every root once, then digests the files whose path and metadata match another root's.
 * With `nearMisses`, also those whose path and size match another root's with other metadata,
 * so that plan can tell near misses from different content (sharing is unaffected: it needs
 * equal metadata, and such files are digested either way).
 */
export function scanRoots(spec: ComposeSpec, progress: Progress, options: { nearMisses?: boolean } = {}): ImagesetScan[] {
  const byRoot = new Map<string, RootScan>();
  for (const imageset of spec.imagesets) {
    if (byRoot.has(imageset.root)) continue;
    const t = Date.now();
    const scan = scanRoot(imageset.root);
    for (const w of scan.warnings) progress.warn(w);
    progress.info(`scanned ${imageset.rootAsWritten}: ${scan.entries.length} entries in ${secondsSince(t)} (${perSecond(scan.entries.length, t)} entries/s)`);
    byRoot.set(imageset.root, scan);
  }
  const t = Date.now();
  const listed = spec.imagesets.map((s) => ({ arch: s.arch, entries: byRoot.get(s.root)!.entries }));
  const toCompare = filesToCompare(listed);
  if (options.nearMisses) nearMissCandidates(listed).forEach((paths, i) => paths.forEach((p) => toCompare[i]!.add(p)));
  const digestsByRoot = new Map<string, Map<BytePath, string>>();
  let compared = 0;
  spec.imagesets.forEach((imageset, i) => {
    const digests = digestsByRoot.get(imageset.root) ?? new Map<BytePath, string>();
    digestsByRoot.set(imageset.root, digests);
    const byInode = new Map<string, string>();
    for (const entry of byRoot.get(imageset.root)!.entries) {
      if (!toCompare[i]!.has(entry.path) || digests.has(entry.path)) continue;
      let digest = entry.inode ? byInode.get(entry.inode) : undefined;
      if (digest === undefined) {
        digest = digestFile(imageset.root, entry);
        compared += entry.size;
        if (entry.inode) byInode.set(entry.inode, digest);
      }
      digests.set(entry.path, digest);
    }
  });
  progress.info(`compared ${formatMB(compared)} of content in ${secondsSince(t)}`);
  return spec.imagesets.map((imageset) => ({
    imageset,
    entries: byRoot.get(imageset.root)!.entries,
    digests: digestsByRoot.get(imageset.root)!,
  }));
}

/** Items per second since `since`, rounded for display. */
function perSecond(count: number, since: number): string {
  const elapsed = Math.max(Date.now() - since, 1) / 1000;
  return Math.round(count / elapsed).toLocaleString('en-US');
}
