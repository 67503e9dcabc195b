import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type BuildOptions, type BuildResult, type ShardResult, build, buildShard } from '../commands/build.js';
import { DEFAULT_CACHE_SIZE, cacheFolder, parseCacheSize } from '../cache/location.js';
import { UsageError } from '../errors.js';
import { parseShard } from '../schedule/shard.js';
import { preparedLines } from './render/prepared.js';
import { createProgress } from './render/progress.js';
import { formatSeconds, mb } from '../runtime/format.js';
import { table } from './render/table.js';
import { jsonDocument, recordWarnings } from './render/warnings.js';
import { EXIT_STATUSES, jobsOption, jsonOption, mediumOption, quietOption, showCommands, signKeyOption, silent } from './options.js';
import { runCommand } from './run.js';

interface BuildArgs {
  compose: string;
  jobs?: number;
  medium?: string;
  cache?: string | boolean;
  cacheSize?: string;
  shard?: string;
  json: boolean;
  quiet?: boolean;
  strict: boolean;
  signKey?: string;
  debug: boolean;
  verbose?: boolean;
}

export const buildCommand: CommandModule<{ debug: boolean; verbose?: boolean }, BuildArgs> = {
  command: 'build <compose>',
  describe: 'write the medium described by a compose file',
  builder: (y: Argv<{ debug: boolean; verbose?: boolean }>) =>
    y
      .positional('compose', { type: 'string', demandOption: true, describe: 'the compose.yaml file' })
      .option('jobs', jobsOption('encoder threads for all images together'))
      .option('medium', mediumOption)
      .option('cache', { type: 'string', describe: 'image cache folder (default: $MEDIACOMPOSE_CACHE, else $XDG_CACHE_HOME/mediacompose, else ~/.cache/mediacompose); --no-cache: compress every image' })
      .option('cache-size', { type: 'string', describe: 'size bound of the image cache, least recently used entries go first (default 4GiB)' })
      .option('shard', { type: 'string', describe: 'K/N: compress only shard K (1..N) of the images into the cache, write no medium' })
      .option('json', jsonOption('the result'))
      .option('quiet', quietOption)
      .option('strict', { type: 'boolean', default: false, describe: 'fail (exit 3) on warnings about the roots: sockets, extended attributes, ACLs, no package database' })
      .option('sign-key', signKeyOption('gpg key (id or fingerprint) that signs the checksum list; overrides checksums: key:'))
      .example('$0 build compose.yaml', 'write the medium, e.g. out/medium/images/; bars on a terminal, timestamped lines in a log')
      .example('$0 build compose.yaml 2>build.log', 'progress as timestamped lines in build.log (also when CI=true)')
      .example('$0 build compose.yaml -j 4 --json', 'four encoder threads, result as JSON')
      .example('$0 build compose.yaml --medium /srv/media/test', 'write the medium to another folder')
      .example('parallel $0 build compose.yaml --shard {}/2 ::: 1 2 && $0 build compose.yaml', 'two shards at once, then the medium from the cache')
      .epilog(`Exit status: ${EXIT_STATUSES}.`),
  handler: (args: ArgumentsCamelCase<BuildArgs>) =>
    runCommand(args.debug, async () => {
      // Checked before any work: a wrong shard spec or size is a usage error, exit 2.
      const shard = args.shard === undefined ? undefined : parseShard(args.shard);
      const maxBytes = args.cacheSize === undefined ? DEFAULT_CACHE_SIZE : parseCacheSize(args.cacheSize);
      const noCache = args.cache === false;
      if (shard && noCache) throw new UsageError(undefined, '--shard needs the image cache', 'leave out --no-cache; the shards meet in the cache folder');
      // Bars on a terminal, timestamped lines in a log or CI; --json keeps stderr quiet too.
      const recorded = recordWarnings(createProgress({ quiet: silent(args) }));
      const { progress } = recorded;
      showCommands(progress, args.verbose);
      const options: BuildOptions = {
        jobs: args.jobs,
        medium: args.medium,
        progress,
        strict: args.strict,
        signKey: args.signKey,
        cache: noCache ? undefined : { folder: cacheFolder(typeof args.cache === 'string' ? args.cache : undefined), maxBytes },
      };
      let result: BuildResult | ShardResult;
      try {
        result = shard ? await buildShard(args.compose, { ...options, shard }) : await build(args.compose, options);
      } finally {
        // The bars must be finished before the summary or an error is printed below them.
        progress.close?.();
      }
      process.stdout.write(args.json ? jsonDocument(result, recorded) : 'shard' in result ? shardSummary(result) : summary(result));
      return 0;
    }),
};

function summary(result: BuildResult): string {
  const rows = result.images.map((i) => [i.file, String(i.files), mb(i.size), mb(i.compressedSize), i.imagesets.join(',')]);
  const total = result.images.reduce((n, i) => n + i.compressedSize, 0);
  const { medium, onePerRoot, storedTwice } = result.plan.totals;
  return [
    ...preparedLines(result.prepared),
    ...table(['image', 'members', 'tar MB', 'compressed MB', 'used by'], rows, [1, 2, 3]),
    `${result.images.length} images, ${mb(total)} MB compressed, in ${formatSeconds(result.seconds)}: ${result.medium}/images`,
    ...(result.cache ? [`${result.cache.hits} images taken from the image cache, ${result.cache.misses} compressed (${result.cache.folder})`] : []),
    `${mb(medium)} MB uncompressed against ${mb(onePerRoot)} MB as one archive per root; ${mb(storedTwice)} MB stored more than once (see mediacompose plan)`,
    '',
  ].join('\n');
}

function shardSummary(result: ShardResult): string {
  const compressed = result.images.filter((i) => !i.cached);
  const names = result.images.map((i) => `${i.file}${i.cached ? ' (already cached)' : ''}`);
  return [
    `shard ${result.shard.index}/${result.shard.count}: ${result.images.length} images, ${compressed.length} compressed, in ${formatSeconds(result.seconds)}: ${result.cache.folder}`,
    ...names.map((n) => `  ${n}`),
    '',
  ].join('\n');
}
