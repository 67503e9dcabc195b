import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { ExitStatus } from '../errors.js';
import { createProgress } from './render/progress.js';
import { type VerifyResult, verify } from '../commands/verify.js';
import { runCommand } from './run.js';
import { formatSeconds } from '../runtime/format.js';

interface VerifyArgs {
  compose: string;
  json: boolean;
  debug: boolean;
}

/** Problem lines printed before the rest is only counted (--json lists all). */
const SHOWN = 50;

export const verifyCommand: CommandModule<{ debug: boolean }, VerifyArgs> = {
  command: 'verify <compose>',
  describe: 'check that the medium deploys every imageset exactly as its root',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as one JSON document' })
      .example('$0 verify compose.yaml', 'replay every imageset and compare it with its root')
      .epilog('Exit status: 0 exact, 1 differences found, 2 compose error, 3 an archive or a root cannot be read.'),
  handler: (args: ArgumentsCamelCase<VerifyArgs>) =>
    runCommand(args.debug, async () => {
      // Timestamped lines on stderr (bars on a terminal); --json keeps stderr quiet too.
      const progress = createProgress({ quiet: args.json });
      let result: VerifyResult;
      try {
        result = await verify(args.compose, { progress });
      } finally {
        progress.close?.();
      }
      process.stdout.write(args.json ? `${JSON.stringify(jsonOf(result), null, 2)}\n` : report(result));
      for (const u of result.unreadable) process.stderr.write(`error: ${u.error}\n`);
      if (result.unreadable.length > 0) return ExitStatus.input;
      return result.ok ? ExitStatus.ok : ExitStatus.differences;
    }),
};

function jsonOf(result: VerifyResult): object {
  const { ok, medium, problems, imagesets, unreadable, seconds } = result;
  return { ok, medium, problems, imagesets, unreadable: unreadable.map((u) => u.file), seconds };
}

function report(result: VerifyResult): string {
  const lines = result.problems
    .slice(0, SHOWN)
    .map((p) => `verify: ${p.imageset ?? '(medium)'}: ${p.path}: ${p.what}`);
  if (result.problems.length > SHOWN) lines.push(`verify: and ${result.problems.length - SHOWN} more (--json lists all)`);
  lines.push(summary(result));
  return `${lines.join('\n')}\n`;
}

function summary(result: VerifyResult): string {
  const time = `in ${formatSeconds(result.seconds)}`;
  const skipped = result.imagesets.filter((s) => !s.compared).map((s) => s.label);
  if (result.ok) {
    const sets = result.imagesets.map((s) => `${s.label} (${s.entries} entries)`).join(', ');
    return `verify: exact: the medium deploys every imageset as its root: ${sets}; ${time}`;
  }
  const counts = new Map<string, number>();
  for (const p of result.problems) counts.set(p.imageset ?? 'medium', (counts.get(p.imageset ?? 'medium') ?? 0) + 1);
  const parts = [...counts].map(([name, n]) => `${name} ${n}`).join(', ');
  const notCompared = skipped.length > 0 ? `; not compared (no deployable tree): ${skipped.join(', ')}` : '';
  const count = result.problems.length;
  return `verify: ${count} ${count === 1 ? 'difference' : 'differences'} (${parts})${notCompared}; ${time}`;
}
