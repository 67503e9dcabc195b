/**
 * The one way mediacompose runs another program: argv only, never a shell. "Not found" and
 * non-zero exits become errors that name the program.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { programStarted } from './memory.js';

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
  const ended = programStarted(child.pid);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      ended();
      reject(new CommandError(argv, err.code === 'ENOENT' ? 'program not found' : err.message));
    });
    child.on('close', (code, signal) => {
      ended();
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

export interface ProgramOptions {
  /** Extra environment variables (added to this process's environment). */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with each line of stdout, without its newline; stdout is not kept otherwise. */
  readonly onLine?: (line: string) => void;
  /** Called with each chunk of stdout as it arrives (e.g. to append it to a log). */
  readonly onStdout?: (chunk: string) => void;
  /** Called with the child's pid once it started (to end it on a signal). */
  readonly onStart?: (pid: number) => void;
  /** Called with the child's pid once it ended. */
  readonly onExit?: (pid: number) => void;
}

export interface ProgramResult {
  /** The exit status, or undefined when a signal ended the program. */
  readonly status: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  /** The last 64 KiB of stderr. */
  readonly stderr: string;
}

const STDERR_KEPT = 64 * 1024;

/**
 * Runs a program to its end with stdin closed; its exit status is the caller's to judge. Rejects
 * with a CommandError only when the program cannot be started (`program not found`).
 */
export function runProgram(argv: readonly string[], options: ProgramOptions = {}): Promise<ProgramResult> {
  const [program, ...args] = argv;
  if (!program) throw new Error('empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ? { ...process.env, ...options.env } : process.env,
    });
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      options.onStdout?.(d);
      if (!options.onLine) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > STDERR_KEPT) partial = '';
      for (const line of lines) options.onLine(line);
    });
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEPT);
    });
    child.on('spawn', () => {
      if (child.pid !== undefined) options.onStart?.(child.pid);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new CommandError(argv, err.code === 'ENOENT' ? 'program not found' : err.message));
    });
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) options.onExit?.(child.pid);
      if (partial && options.onLine) options.onLine(partial);
      resolve({ status: code ?? undefined, signal: signal ?? undefined, stderr });
    });
  });
}

/**
 * Asks a program something at once, e.g. `xz --version`, and returns what it prints (stdout, then stderr); undefined when it
 * is missing or fails. Synchronous, for the few probes whose answer decides how a stream is made
 * (runProgram is for work that runs a while and streams its output).
 */
export function programOutput(argv: readonly string[]): string | undefined {
  const [program, ...args] = argv;
  if (!program) throw new Error('empty command');
  const result = spawnSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : undefined;
}
