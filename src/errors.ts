/**
 * One error base for everything mediacompose reports to a person. Each error carries the exit
 * status documented in docs/compose-spec.md and renders as one line: `error: <file>: <what> (<hint>)`.
 */
export const ExitStatus = {
  ok: 0,
  differences: 1,
  usage: 2,
  input: 3,
  output: 4,
  budget: 5,
} as const;
export type ExitStatus = (typeof ExitStatus)[keyof typeof ExitStatus];

export class MediaComposeError extends Error {
  constructor(
    readonly exitStatus: ExitStatus,
    /** The file the problem is in or about (a path, printable). */
    readonly file: string | undefined,
    /** What is wrong, in a few words. */
    readonly what: string,
    /** How to fix it, when there is something to say. */
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(formatProblem(file, what, hint), options);
    this.name = new.target.name;
  }
}

export function formatProblem(file: string | undefined, what: string, hint?: string): string {
  return `${file ? `${file}: ` : ''}${what}${hint ? ` (${hint})` : ''}`;
}

/** compose.yaml or command-line mistakes: exit 2. */
export class UsageError extends MediaComposeError {
  constructor(file: string | undefined, what: string, hint?: string, options?: ErrorOptions) {
    super(ExitStatus.usage, file, what, hint, options);
  }
}

/** A position in a text file, 1-based. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** One problem found in compose.yaml. */
export interface ComposeProblem {
  position?: SourcePosition;
  what: string;
  hint?: string;
}

/** Every problem of a compose file at once; exit 2. */
export class ComposeError extends MediaComposeError {
  constructor(
    readonly composeFile: string,
    readonly problems: readonly ComposeProblem[],
  ) {
    super(
      ExitStatus.usage,
      composeFile,
      problems.map((p) => formatComposeProblem(composeFile, p)).join('\n'),
    );
    this.message = problems.map((p) => formatComposeProblem(composeFile, p)).join('\nerror: ');
  }
}

function formatComposeProblem(file: string, p: ComposeProblem): string {
  const where = p.position ? `${file}:${p.position.line}:${p.position.column}` : file;
  return formatProblem(where, p.what, p.hint);
}

/** A root, a file in a root, or an archive that cannot be used: exit 3. */
export class InputError extends MediaComposeError {
  constructor(file: string | undefined, what: string, hint?: string, options?: ErrorOptions) {
    super(ExitStatus.input, file, what, hint, options);
  }
}

/** Writing the medium failed: exit 4. */
export class OutputError extends MediaComposeError {
  constructor(file: string | undefined, what: string, hint?: string, options?: ErrorOptions) {
    super(ExitStatus.output, file, what, hint, options);
  }
}

/** The medium was built but does not fit compose.yaml's budget; the previous medium is kept: exit 5. */
export class BudgetError extends MediaComposeError {
  constructor(file: string | undefined, what: string, hint?: string, options?: ErrorOptions) {
    super(ExitStatus.budget, file, what, hint, options);
  }
}

/** Describes a Node system error (ENOENT, EACCES, ENOSPC, ...) in a few words. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': return 'permission denied';
    case 'EPERM': return 'operation not permitted';
    case 'ENOSPC': return 'no space left on device';
    case 'EROFS': return 'read-only file system';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'ENOTDIR': return 'not a directory';
    case 'EISDIR': return 'is a directory';
    case 'EIO': return 'input/output error';
    case 'EMFILE': return 'too many open files';
    default: return e?.message ?? String(err);
  }
}
