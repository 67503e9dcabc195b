/**
 * Problems found while reading a medium, as `verify` lists them: each about one place, an
 * imageset (or the medium as a whole) and one path.
 */
import { IMAGES_DIR } from '../model/names.js';

export interface VerifyProblem {
  /** The imageset it is about; null for the medium as a whole (a details file, an archive). */
  readonly imageset: string | null;
  /** A path in the imageset's root, or a file of the medium (`images/<file>`). */
  readonly path: string;
  /** What differs, in a few words. */
  readonly what: string;
}

/** Adds problems about one place: an imageset (null: the medium as a whole) and one path. */
export type Report = (what: string) => void;

export function reporter(problems: VerifyProblem[], imageset: string | null, path: string): Report {
  return (what) => void problems.push({ imageset, path, what });
}

/** A file of the medium as problems name it: `images/<name>`. */
export function mediumFile(name: string): string {
  return `${IMAGES_DIR}/${name}`;
}
