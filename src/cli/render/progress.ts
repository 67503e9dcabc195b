/**
 * Progress for people, on stderr; results go to stdout, elsewhere. Builds run for tens of
 * minutes, so there are three renderers:
 * - on a terminal: live bars (bars.ts);
 * - on a pipe, in a log file or in CI: plain timestamped lines, and never five seconds without
 *   one: while images are compressed, how far, the rate and the time left;
 * - with --quiet: warnings only.
 * Colours follow the terminal's own rules (NO_COLOR, FORCE_COLOR, TERM=dumb).
 */
import type { CompressionWork, ImageMeter, Progress } from '../../runtime/progress.js';
import { formatDuration, formatMB, formatRate, percent } from '../../runtime/format.js';
import { TerminalProgress, type TerminalStream } from './bars.js';
import { Clock, CompressionTally } from './tally.js';

/** Seconds between the plain renderer's lines at most. */
const LINE_SECONDS = 5;

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
  return new LineProgress(stream, options.plainInterval ?? LINE_SECONDS);
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

/**
 * Timestamped lines. While images are compressed, one line every `interval` seconds; at any
 * other time a line when nothing was said for that long, so that a log never stands still.
 */
class LineProgress implements Progress {
  private readonly clock = new Clock();
  private tally?: CompressionTally;
  private readonly timer: NodeJS.Timeout;
  private lastLine = 0;
  private lastReport = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly interval: number,
  ) {
    this.timer = setInterval(() => this.tick(), Math.min(0.5, interval) * 1000);
    // A command that ends or fails must not be kept alive by its progress lines.
    this.timer.unref();
  }

  info(message: string): void {
    this.lastLine = this.clock.seconds();
    this.stream.write(`${this.clock.stamp()} ${message}\n`);
  }

  warn(message: string): void {
    this.lastLine = this.clock.seconds();
    this.stream.write(`warning: ${message}\n`);
  }

  compressionStarted(work: CompressionWork): void {
    this.tally = new CompressionTally(work);
    this.lastReport = this.clock.seconds();
    this.info(`compressing ${work.images.length} images, ${formatMB(this.tally.totalBytes)} uncompressed`);
  }

  imageStarted(file: string, threads: number): void {
    this.tally?.started(file, threads);
  }

  imageProgress(file: string, meter: ImageMeter): void {
    this.tally?.grew(file, meter);
  }

  imageFinished(file: string, compressed: number, cached: boolean): void {
    this.tally?.finished(file, compressed, cached);
    if (this.tally?.allFinished) this.tally = undefined;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = this.clock.seconds();
    if (this.tally) {
      if (now - this.lastReport >= this.interval - 1e-3) this.report();
    } else if (now - this.lastLine >= this.interval - 1e-3) {
      this.info(`still working (${formatDuration(now - this.lastLine)} since the last line)`);
    }
  }

  /** `compressing: 38% of 1050.0 MB, 3/7 images, 25.1 MB/s, about 1m05s left; now: kde 45% -> ~37.1 MB, ...` */
  private report(): void {
    const tally = this.tally!;
    this.lastReport = this.clock.seconds();
    const eta = tally.eta();
    const now = tally.inProgress().map((v) => `${v.file} ${percent(v.done, v.bytes)}% -> ${v.estimated ? '~' : ''}${formatMB(v.compressed)}`);
    this.info(
      `compressing: ${percent(tally.doneBytes(), tally.totalBytes)}% of ${formatMB(tally.totalBytes)}, ` +
        `${tally.finishedCount}/${tally.count} images, ${formatRate(tally.overallRate())}` +
        `${eta === undefined ? '' : `, about ${formatDuration(eta)} left`}` +
        `${now.length > 0 ? `; now: ${now.join(', ')}` : ''}`,
    );
  }
}

