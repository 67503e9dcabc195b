/**
 * Runs a command and turns what it throws into the documented exit status and one readable
 * line on stderr (a stack trace only with --debug).
 */
import { ExitStatus, MediaComposeError } from '../errors.js';
import { discardAllStagings } from '../medium.js';

export async function runCommand(debug: boolean, command: () => Promise<number>): Promise<never> {
  const onSignal = (signal: NodeJS.Signals): void => {
    discardAllStagings();
    process.stderr.write(`error: interrupted by ${signal}; the previous medium is unchanged\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let status: number;
  try {
    status = await command();
  } catch (err) {
    status = report(err, debug);
  }
  discardAllStagings();
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
