/**
 * The one way mediacompose runs another program: argv only, never a shell. "Not found" and
 * non-zero exits become errors that name the program.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { constants as constants_ } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { programStarted } from './memory.js';

let tracer: ((argv: readonly string[]) => void) | undefined;

/** Calls `listener` with the argv of every program started from now on (for --verbose). */
export function traceCommands(listener: ((argv: readonly string[]) => void) | undefined): void {
  tracer = listener;
}

function traced(argv: readonly string[]): void {
  tracer?.(argv);
}

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
  /**
   * Bytes the program has read so far (from its stdin, and a few KiB of its own files), from
   * /proc; undefined where /proc does not tell. Bytes written into the pipe are not read ones.
   */
  bytesRead(): number | undefined;
  /**
   * Sends the program a signal it handles (xz prints its progress on SIGUSR1), only while it
   * runs and once /proc shows its handler installed: before that the signal would end it.
   * False when not sent.
   */
  poke(signal: NodeJS.Signals): boolean;
}

interface FilterOptions {
  /** Extra environment variables (added to this process's environment). */
  readonly env?: Readonly<Record<string, string>>;
  /** Takes each line of stderr; a line it returns true for is a report, not kept for an error message. */
  readonly onStderrLine?: (line: string) => boolean;
}

/** Starts a program that reads stdin and writes stdout (a filter such as a compressor). */
export function startFilter(argv: readonly string[], options: FilterOptions = {}): RunningFilter {
  const [program, ...args] = argv;
  if (!program) throw new Error('empty command');
  traced(argv);
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(program, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  const ended = programStarted(child.pid);
  let stderr = '';
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    const lines = (partial + d).split(/[\r\n]/);
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '' || options.onStderrLine?.(line)) continue;
      if (stderr.length < 4096) stderr += `${line}\n`;
    }
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      ended();
      reject(new CommandError(argv, err.code === 'ENOENT' ? 'program not found' : err.message));
    });
    child.on('close', (code, signal) => {
      ended();
      if (partial && !options.onStderrLine?.(partial)) stderr += partial;
      if (code === 0) resolve();
      else reject(new CommandError(argv, `${signal ? `killed by ${signal}` : `exit status ${code}`}${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
    });
  });
  let handles = false;
  const poke = (signal: NodeJS.Signals): boolean => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
    handles ||= catches(child.pid, signal);
    return handles && child.kill(signal);
  };
  return { stdin: child.stdin, stdout: child.stdout, exited, bytesRead: () => bytesReadBy(child.pid), poke };
}

/** Whether the process has a handler for the signal: its bit in SigCgt of /proc/PID/status. */
function catches(pid: number, signal: NodeJS.Signals): boolean {
  const number = constants_.signals[signal];
  try {
    const mask = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(number - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** `rchar` of /proc/PID/io: what the process's read calls returned, in bytes. */
function bytesReadBy(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const rchar = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1];
    return rchar === undefined ? undefined : Number(rchar);
  } catch {
    // Ended meanwhile, or no /proc.
    return undefined;
  }
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
  traced(argv);
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
  traced(argv);
  const result = spawnSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : undefined;
}
