/**
 * Progress for people, on stderr: one plain line per step. Results go to stdout, elsewhere.
 */
export interface Progress {
  /** A step started or finished. */
  info(message: string): void;
  /** Something the user should know about the input (a skipped socket, ...). */
  warn(message: string): void;
}

export function plainProgress(quiet: boolean, stream: NodeJS.WritableStream = process.stderr): Progress {
  const start = Date.now();
  const stamp = (): string => `[${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s]`;
  return {
    info: (message) => {
      if (!quiet) stream.write(`${stamp()} ${message}\n`);
    },
    warn: (message) => {
      stream.write(`warning: ${message}\n`);
    },
  };
}

export const silentProgress: Progress = { info: () => {}, warn: () => {} };
