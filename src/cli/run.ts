/**
 * Runs a command and turns what it throws into the documented exit status and one readable
 * line on stderr (a stack trace only with --debug).
 */
import { writeSync } from 'node:fs';
import { ExitStatus, MediaComposeError } from '../errors.js';
import { drainCleanups } from '../runtime/cleanup.js';

export async function runCommand(debug: boolean, command: () => Promise<number>): Promise<never> {
  // SIGINT and SIGTERM end the run at once, after draining the cleanup registry (bars finished,
  // what was staged removed, the medium's lock released, temporary roots removed). The process
  // then dies of the signal itself, with the default action: the shell reports 130 or 143 and a
  // calling script sees that it was interrupted. process.exit()
  // would first wait for the compressor's threads to finish their blocks, which takes minutes.
  // SIGKILL cannot be handled: the next build removes the staging folder and takes over the
  // stale lock.
  const onSignal = (signal: NodeJS.Signals): void => {
    drainCleanups();
    writeSync(2, `error: interrupted by ${signal}: staged files removed, the previous medium is unchanged\n`);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let status: number;
  try {
    status = await command();
  } catch (err) {
    status = report(err, debug);
  }
  drainCleanups();
  process.exit(status);
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof MediaComposeError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitStatus;
  }
  const e = err as Error;
  process.stderr.write(`error: internal error: ${e?.message ?? String(err)} (please report this; --debug shows where)\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  return ExitStatus.output;
}
