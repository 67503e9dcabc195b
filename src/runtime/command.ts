/**
 * The one way mediacompose runs another program: argv only, never a shell. "Not found" and
 * non-zero exits become errors that name the program.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], what: string) {
    super(`${argv[0]}: ${what}`);
    this.name = 'CommandError';
  }
}

interface RunningFilter {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves when the program exited 0; rejects with a CommandError otherwise. */
  readonly exited: Promise<void>;
}

/** Starts a program that reads stdin and writes stdout (a filter such as a compressor). */
export function startFilter(argv: readonly string[]): RunningFilter {
  const [program, ...args] = argv;
  if (!program) throw new Error('empty command');
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(program, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new CommandError(argv, err.code === 'ENOENT' ? 'program not found' : err.message));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new CommandError(argv, `${signal ? `killed by ${signal}` : `exit status ${code}`}${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
    });
  });
  return { stdin: child.stdin, stdout: child.stdout, exited };
}

/** Whether a program is on PATH (as an executable file). */
export function onPath(program: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(`${dir}/${program}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs a program to its end with `input` on stdin; resolves with its stdout, rejects with a CommandError. */
export function runProgram(
  argv: readonly string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  const [program, ...args] = argv;
  if (!program) throw new Error('empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new CommandError(argv, err.code === 'ENOENT' ? 'program not found' : err.message));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else {
        const why = stderr.trim().split('\n').filter((l) => !l.startsWith('[GNUPG:]')).pop();
        reject(new CommandError(argv, `${signal ? `killed by ${signal}` : `exit status ${code}`}${why ? `: ${why}` : ''}`));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
