/**
 * `mediacompose verify`: the medium against the roots, as a list of problems.
 *
 * Two halves. The medium itself: images.xml and every details-<arch>.xml read as the installer
 * reads them (docs/yast-contract.md) and checked against that contract, including which
 * imageset the installer would choose for each imageset's own patterns. Then, for each imageset,
 * its archives are replayed in images.xml order the way GNU tar extracts them, into an in-memory
 * tree, and that tree is compared with a fresh scan of the imageset's root: paths, types,
 * permission bits, owners, content digests, mtimes to the second, symlink targets, device
 * numbers and hardlink groups (the invariant of docs/compose-spec.md).
 *
 * Every archive is streamed once, also when several imagesets list it: its content is hashed as
 * it streams and only member headers with their digests are kept, so memory grows with the
 * number of entries, never with bytes.
 *
 * manifest/reader.ts reads images.xml and the details files, manifest/medium.ts checks them
 * against compose.yaml; verify/archives.ts streams the archives into member records and checks
 * the details entries (manifest/details-differences.ts, as `details` does), verify/replay.ts
 * extracts them as GNU tar would, verify/compare.ts holds the result against each root;
 * verify/result.ts has the types verify returns.
 */
import { StrictWarnings, warnAll } from '../runtime/warnings.js';
import os from 'node:os';
import path from 'node:path';
import { checkChecksums } from '../checksums/medium.js';
import { loadCompose } from '../config/load.js';
import type { ComposeOverrides } from '../config/overrides.js';
import { InputError } from '../errors.js';
import { missingDatabaseWarnings } from '../pkgdb/presence.js';
import { buildWritingMedium, imagesGeneration, interruptedSwapError } from '../medium/staging.js';
import { IMAGES_DIR } from '../model/names.js';
import type { Progress } from '../runtime/progress.js';
import { type Unreadable, archivesToRead, checkArchives, readArchives } from '../verify/archives.js';
import { compareImagesets } from '../verify/compare.js';
import { readMedium } from '../manifest/medium.js';
import type { VerifyProblem } from '../manifest/problems.js';
import type { VerifyResult } from '../verify/result.js';

export type { VerifyResult } from '../verify/result.js';

interface VerifyOptions extends ComposeOverrides {
  readonly progress: Progress;
  /** Archives read at once (default: number of cores). */
  readonly jobs?: number;
  /** A root without a package database is an error (exit 3), not a warning. */
  readonly strict?: boolean;
}

export async function verify(composeFile: string, options: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const { progress } = options;
  const spec = loadCompose(composeFile, options);
  const rootWarnings = new StrictWarnings(progress, 'about the roots');
  warnAll(rootWarnings, await missingDatabaseWarnings(spec.imagesets));
  if (options.strict) rootWarnings.enforce(spec.file, 'fix the roots as the warnings say, or verify without --strict');
  const folder = path.join(spec.medium, IMAGES_DIR);
  const problems: VerifyProblem[] = [];

  // One generation of the medium: not while a build holds the lock, and not if one swapped
  // images/ while it was read (its XML files of one build, its archives of the next).
  const consistentView = (): void => {
    const writing = buildWritingMedium(spec.medium);
    if (writing) throw writing;
    if (imagesGeneration(spec.medium) !== generation) {
      throw new InputError(spec.medium, 'a build is writing this medium: it replaced images/ while verify read it', 'run verify again when the build has finished');
    }
  };
  const generation = imagesGeneration(spec.medium);
  consistentView();
  // No images/ because a build was killed in the middle of its swap: say so, and what repairs it.
  const swapped = interruptedSwapError(spec.medium);
  if (swapped) throw swapped;
  const medium = readMedium(folder, spec, problems);
  const archives = await readArchives(folder, archivesToRead(medium), options.jobs ?? os.availableParallelism(), progress);
  consistentView();
  checkArchives(medium, archives, problems);
  const compared = await compareImagesets(spec, medium, archives, problems, progress);
  // What libzypp checks before the installer gets any of these files: lists, signatures, digests.
  for (const p of await checkChecksums(folder, spec.checksums?.key !== undefined)) problems.push({ imageset: null, ...p });
  consistentView();

  return {
    ok: problems.length === 0,
    medium: spec.medium,
    problems,
    imagesets: compared.map((s) => ({ ...s, differences: problems.filter((p) => p.imageset === s.label).length })),
    unreadable: [...archives.values()].filter((a): a is Unreadable => a.kind === 'unreadable').map(({ file, error }) => ({ file: path.join(folder, file), error })),
    seconds: (Date.now() - started) / 1000,
  };
}

