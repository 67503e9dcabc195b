/**
 * Progress for people, on stderr; results go to stdout, elsewhere. Builds run for tens of
 * minutes, so there are three renderers:
 * - on a terminal: live bars (bars.ts);
 * - on a pipe, in a log file or in CI: plain timestamped lines, plus a line every few seconds
 *   while images are compressed, so that a long build's log shows that it is alive and how far;
 * - with --quiet: warnings only.
 * Colours follow the terminal's own rules (NO_COLOR, FORCE_COLOR, TERM=dumb).
 */
import type { ImageToWrite, Progress } from '../../runtime/progress.js';
import { formatDuration, formatMB, formatRate, percent } from '../../runtime/format.js';
import { TerminalProgress, type TerminalStream } from './bars.js';
import { Clock, CompressionTally } from './tally.js';

interface ProgressOptions {
  /** No progress at all, warnings only. */
  readonly quiet: boolean;
  readonly stream?: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  /** Seconds between the plain renderer's compression lines. */
  readonly plainInterval?: number;
}

/** The renderer that fits where stderr goes: bars on a terminal, lines elsewhere. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.quiet) return plainProgress(true, stream);
  if (drawsBars(stream, env)) return new TerminalProgress(stream as TerminalStream, usesColour(stream, env));
  return new LineProgress(stream, options.plainInterval ?? 10);
}

/** One plain line per step, timestamped; nothing but warnings when quiet. */
export function plainProgress(quiet: boolean, stream: NodeJS.WritableStream = process.stderr): Progress {
  const clock = new Clock();
  return {
    info: (message) => {
      if (!quiet) stream.write(`${clock.stamp()} ${message}\n`);
    },
    warn: (message) => {
      stream.write(`warning: ${message}\n`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Where progress goes

/** Bars only on a real terminal, and not in CI, whose log viewers show cursor moves as junk. */
function drawsBars(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  return (stream as TerminalStream).isTTY === true && !isCI(env) && env.TERM !== 'dumb';
}

function isCI(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Node's own decision (it reads NO_COLOR, FORCE_COLOR and TERM), and NO_COLOR in any case. */
function usesColour(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return (stream as TerminalStream).hasColors?.(16, env) ?? false;
}

// ---------------------------------------------------------------------------------------------
// Plain lines

/** Timestamped lines; while images are compressed, one line every `interval` seconds. */
class LineProgress implements Progress {
  private readonly clock = new Clock();
  private tally?: CompressionTally;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly interval: number,
  ) {}

  info(message: string): void {
    this.stream.write(`${this.clock.stamp()} ${message}\n`);
  }

  warn(message: string): void {
    this.stream.write(`warning: ${message}\n`);
  }

  compressionStarted(images: readonly ImageToWrite[]): void {
    this.tally = new CompressionTally(images);
    this.info(`compressing ${images.length} images, ${formatMB(this.tally.totalBytes)} uncompressed`);
    this.timer = setInterval(() => this.report(), this.interval * 1000);
    // A build that fails must not be kept alive by its progress lines.
    this.timer.unref();
  }

  imageStarted(file: string): void {
    this.tally?.started(file);
  }

  imageBytes(file: string, bytes: number): void {
    this.tally?.grew(file, bytes);
  }

  imageFinished(file: string): void {
    this.tally?.finished(file);
    if (this.tally?.allFinished) this.stopReports();
  }

  close(): void {
    this.stopReports();
  }

  /** `compressing: 38% of 1050.0 MB, 3/7 images, 25.1 MB/s, about 1m05s left; now: kde 45%, ...` */
  private report(): void {
    const tally = this.tally;
    if (!tally) return;
    const eta = tally.eta();
    const now = tally.inProgress().map((s) => `${s.image.file} ${percent(s.bytes, s.image.bytes)}%`);
    this.info(
      `compressing: ${percent(tally.doneBytes(), tally.totalBytes)}% of ${formatMB(tally.totalBytes)}, ` +
        `${tally.finishedCount}/${tally.count} images, ${formatRate(tally.rate())}` +
        `${eta === undefined ? '' : `, about ${formatDuration(eta)} left`}` +
        `${now.length > 0 ? `; now: ${now.join(', ')}` : ''}`,
    );
  }

  private stopReports(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
