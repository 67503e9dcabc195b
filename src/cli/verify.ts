import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { ExitStatus } from '../errors.js';
import { createProgress } from './render/progress.js';
import { type VerifyResult, verify } from '../commands/verify.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { EXIT_STATUSES, jobsOption, jsonOption, mediumOption, quietOption, showCommands, silent } from './options.js';
import { runCommand } from './run.js';
import { formatSeconds } from '../runtime/format.js';

interface VerifyArgs {
  compose: string;
  jobs?: number;
  medium?: string;
  json: boolean;
  quiet?: boolean;
  strict: boolean;
  debug: boolean;
  verbose?: boolean;
}

/** Problem lines printed before the rest is only counted (--json lists all). */
const SHOWN = 50;

export const verifyCommand: CommandModule<{ debug: boolean; verbose?: boolean }, VerifyArgs> = {
  command: 'verify <compose>',
  describe: 'check that the medium deploys every imageset exactly as its root',
  builder: (y: Argv<{ debug: boolean; verbose?: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('jobs', jobsOption('archives read at once'))
      .option('medium', mediumOption)
      .option('json', jsonOption('the result'))
      .option('quiet', quietOption)
      .option('strict', { type: 'boolean', default: false, describe: 'fail (exit 3) when a root has no package database the installer could open' })
      .example('$0 verify compose.yaml', 'replay every imageset and compare it with its root')
      .epilog(`Exit status: 0 exact, 1 differences found, 3 an archive or a root cannot be read; in all: ${EXIT_STATUSES}.`),
  handler: (args: ArgumentsCamelCase<VerifyArgs>) =>
    runCommand(args.debug, async () => {
      // Timestamped lines on stderr (bars on a terminal); --json keeps stderr quiet too.
      const recorded = recordWarnings(createProgress({ quiet: silent(args) }));
      const { progress } = recorded;
      showCommands(progress, args.verbose);
      let result: VerifyResult;
      try {
        result = await verify(args.compose, { progress, jobs: args.jobs, medium: args.medium, strict: args.strict });
      } finally {
        progress.close?.();
      }
      process.stdout.write(args.json ? jsonDocument(jsonOf(result), recorded) : report(result));
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
