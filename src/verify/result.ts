/**
 * What `mediacompose verify` hands back, and how its checks add to the one list of problems.
 */
import type { VerifyProblem } from '../manifest/problems.js';

export interface VerifiedImageset {
  readonly name: string;
  readonly arch: string;
  /** How problems name it: its name, with the arch when the name exists for several archs. */
  readonly label: string;
  /** Its archives in extraction order, as images.xml lists them. */
  readonly images: readonly string[];
  /** Entries of its root. */
  readonly entries: number;
  /** False when its deployed tree could not be replayed (not in images.xml, an archive missing or unreadable). */
  readonly compared: boolean;
  /** Problems that name it: its entry in images.xml, its archives' list, its deployed tree. */
  readonly differences: number;
}

interface UnreadableArchive {
  /** Its path. */
  readonly file: string;
  /** The reader's one-line message: `<file>: <what> (<hint>)`. */
  readonly error: string;
}

export interface VerifyResult {
  /** True when nothing differs: the medium deploys every imageset exactly. */
  readonly ok: boolean;
  readonly medium: string;
  readonly problems: readonly VerifyProblem[];
  readonly imagesets: readonly VerifiedImageset[];
  /** Archives that cannot be read (damaged, truncated, not an archive). */
  readonly unreadable: readonly UnreadableArchive[];
  readonly seconds: number;
}
