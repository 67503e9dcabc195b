/**
 * What build and plan share before planning: scan every root of the compose spec once, then
 * compare the contents of files whose path and metadata match another root's.
 */
import { warnAll } from '../runtime/warnings.js';
import type { ComposeSpec } from '../config/spec.js';
import type { BytePath } from '../model/entry.js';
import { nearMissCandidates } from '../plan/near-misses.js';
import { type ImagesetScan, filesToCompare } from '../plan/plan.js';
import { formatMB, secondsSince } from '../runtime/format.js';
import type { Progress } from '../runtime/progress.js';
import type { ContentDigests } from '../scan/digests.js';
import { type RootScan, scanRoot } from '../scan/walk.js';

/**
 * Scans every root once, then digests the files whose path and metadata match another root's.
 * With `nearMisses`, also those whose path and size match another root's with other metadata,
 * so that plan can tell near misses from different content (sharing is unaffected: it needs
 * equal metadata, and such files are digested either way). Contents are digested in worker
 * threads (scan/digests.ts), both roots' files at once, skipping those the memo remembers.
 */
export async function scanRoots(
  spec: ComposeSpec,
  digests: ContentDigests,
  progress: Progress,
  options: { nearMisses?: boolean } = {},
): Promise<ImagesetScan[]> {
  const byRoot = new Map<string, RootScan>();
  for (const imageset of spec.imagesets) {
    if (byRoot.has(imageset.root)) continue;
    const t = Date.now();
    const scan = await scanRoot(imageset.root);
    warnAll(progress, scan.warnings);
    progress.info(`scanned ${imageset.rootAsWritten}: ${scan.entries.length} entries in ${secondsSince(t)} (${perSecond(scan.entries.length, t)} entries/s)`);
    byRoot.set(imageset.root, scan);
  }
  const t = Date.now();
  const listed = spec.imagesets.map((s) => ({ arch: s.arch, entries: byRoot.get(s.root)!.entries }));
  const toCompare = filesToCompare(listed);
  if (options.nearMisses) nearMissCandidates(listed).forEach((paths, i) => paths.forEach((p) => toCompare[i]!.add(p)));
  // Each root's files to compare, once per root however many imagesets use it.
  const wanted = new Map<string, Set<BytePath>>();
  spec.imagesets.forEach((imageset, i) => {
    const paths = wanted.get(imageset.root) ?? new Set<BytePath>();
    for (const p of toCompare[i]!) paths.add(p);
    wanted.set(imageset.root, paths);
  });
  const before = { bytes: digests.bytes, remembered: digests.remembered };
  const digestsByRoot = new Map<string, Map<BytePath, string>>();
  await Promise.all(
    [...wanted].map(async ([root, paths]) => {
      const entries = byRoot.get(root)!.entries.filter((e) => paths.has(e.path));
      const found = await digests.ofEntries(root, entries);
      digestsByRoot.set(root, new Map(entries.map((e, k) => [e.path, found[k]!])));
    }),
  );
  const remembered = digests.remembered - before.remembered;
  progress.info(
    `compared ${formatMB(digests.bytes - before.bytes)} of content in ${secondsSince(t)}` +
      (remembered > 0 ? ` (${remembered.toLocaleString('en-US')} files unchanged since an earlier build, not read)` : ''),
  );
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
