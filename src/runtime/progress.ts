/**
 * Progress for people, on stderr; results go to stdout, elsewhere. Builds run for tens of
 * minutes, so there are three renderers:
 * - on a terminal: live bars, one per image being compressed (bytes in and out, rate) and one
 *   for the whole medium (ratio, rate, ETA), drawn with cli-progress;
 * - on a pipe, in a log file or in CI: plain timestamped lines, plus a line every few seconds
 *   while images are compressed, so that a long build's log shows that it is alive and how far;
 * - with --quiet: warnings only.
 * Colours follow the terminal's own rules (NO_COLOR, FORCE_COLOR, TERM=dumb).
 */
import fs from 'node:fs';
import cliProgress from 'cli-progress';

/**
 * What a build tells about itself. info and warn are all a renderer must handle; the image
 * events are optional, for renderers that draw the compression as it goes.
 */
export interface Progress {
  /** A step started or finished. */
  info(message: string): void;
  /** Something the user should know about the input (a skipped socket, ...). */
  warn(message: string): void;
  /** Compression of these images begins; each one then starts, grows and finishes. */
  compressionStarted?(images: readonly ImageToWrite[]): void;
  imageStarted?(file: string): void;
  /** Uncompressed bytes of the image produced so far (called often: renderers throttle). */
  imageBytes?(file: string, bytes: number): void;
  imageFinished?(file: string): void;
  /** The command is done (or failed): stop drawing and leave the terminal as it was. */
  close?(): void;
}

export interface ImageToWrite {
  /** Its file name on the medium, e.g. kde-x86_64.tar.xz. */
  readonly file: string;
  /** Where it is being written; its size so far is the compressed bytes so far. */
  readonly path: string;
  /** Uncompressed tar bytes it will hold. */
  readonly bytes: number;
}

export interface ProgressOptions {
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

export const silentProgress: Progress = { info: () => {}, warn: () => {} };

// ---------------------------------------------------------------------------------------------
// Where progress goes

/** The parts of a tty.WriteStream the bars use. */
interface TerminalStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
  hasColors?: (count?: number, env?: NodeJS.ProcessEnv) => boolean;
}

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

class Clock {
  private readonly start = Date.now();

  seconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  /** `[  12.3s]`: seconds since the command started. */
  stamp(): string {
    return `[${this.seconds().toFixed(1).padStart(6)}s]`;
  }
}

// ---------------------------------------------------------------------------------------------
// The compression as it goes

interface ImageState {
  readonly image: ImageToWrite;
  bytes: number;
  startedAt?: number;
  finished: boolean;
  /** The file's size once finished. */
  compressed?: number;
}

const ETA_AFTER_MS = 3000;

/** Every image of the medium with its bytes so far; rates and the ETA come from here. */
class CompressionTally {
  private readonly images = new Map<string, ImageState>();
  private readonly startedAt = Date.now();
  readonly totalBytes: number;

  constructor(images: readonly ImageToWrite[]) {
    for (const image of images) this.images.set(image.file, { image, bytes: 0, finished: false });
    this.totalBytes = images.reduce((n, i) => n + i.bytes, 0);
  }

  get(file: string): ImageState | undefined {
    return this.images.get(file);
  }

  started(file: string): ImageState | undefined {
    const state = this.images.get(file);
    if (state) state.startedAt = Date.now();
    return state;
  }

  grew(file: string, bytes: number): ImageState | undefined {
    const state = this.images.get(file);
    if (state) state.bytes = bytes;
    return state;
  }

  finished(file: string): ImageState | undefined {
    const state = this.images.get(file);
    if (state) {
      // The estimate may be off by a few headers; a finished image counts as exactly done.
      state.bytes = state.image.bytes;
      state.finished = true;
      state.compressed = compressedSoFar(state);
    }
    return state;
  }

  /**
   * Compressed over uncompressed bytes of the finished images. Only finished ones: xz holds
   * several blocks of input (megabytes to tens of megabytes) before it writes their output,
   * so a ratio taken while an image is written reads far too low.
   */
  ratio(): number | undefined {
    let bytes = 0;
    let compressed = 0;
    for (const s of this.images.values()) {
      if (!s.finished) continue;
      bytes += s.image.bytes;
      compressed += s.compressed ?? 0;
    }
    return bytes > 0 ? compressed / bytes : undefined;
  }

  get count(): number {
    return this.images.size;
  }

  get finishedCount(): number {
    return [...this.images.values()].filter((s) => s.finished).length;
  }

  get allFinished(): boolean {
    return this.finishedCount === this.count;
  }

  inProgress(): ImageState[] {
    return [...this.images.values()].filter((s) => s.startedAt !== undefined && !s.finished);
  }

  doneBytes(): number {
    let done = 0;
    for (const s of this.images.values()) done += Math.min(s.bytes, s.image.bytes);
    return done;
  }

  /** Uncompressed bytes per second since compression began. */
  rate(): number {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return seconds > 0 ? this.doneBytes() / seconds : 0;
  }

  /**
   * Seconds left at the average rate so far. The rate is steady enough for that: the largest
   * images start first and all cores stay busy until the last few small ones.
   */
  eta(): number | undefined {
    const rate = this.rate();
    const done = this.doneBytes();
    // The first seconds measure how fast the compressors' buffers fill, not how fast they work.
    if (rate <= 0 || done === 0 || Date.now() - this.startedAt < ETA_AFTER_MS) return undefined;
    return Math.max(0, (this.totalBytes - done) / rate);
  }
}

/** Bytes written to the image's file so far (0 before it exists). */
function compressedSoFar(state: ImageState): number {
  try {
    return fs.statSync(state.image.path).size;
  } catch {
    return 0;
  }
}

function imageRate(state: ImageState): number {
  const seconds = state.startedAt === undefined ? 0 : (Date.now() - state.startedAt) / 1000;
  return seconds > 0 ? state.bytes / seconds : 0;
}

export function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

/** 42s, 3m07s, 1h05m. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
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

// ---------------------------------------------------------------------------------------------
// Bars on a terminal

const ESC = '\x1b[';
const COLOURS = { green: [32, 39], cyan: [36, 39], yellow: [33, 39], dim: [2, 22] } as const;
type Colour = keyof typeof COLOURS;

/** Bars redraw at most this often; bytes arrive per tar chunk, far more often. */
const REDRAW_MS = 100;
/** Rates and the ETA are refreshed this often even when no bytes arrive (xz fills its blocks). */
const REFRESH_MS = 1000;
/** Room kept for the numbers right of a bar before the bar shrinks. */
const NUMBERS_WIDTH = 42;

interface BarPayload {
  readonly label: string;
  readonly right: string;
  readonly colour: Colour;
}

class TerminalProgress implements Progress {
  private readonly clock = new Clock();
  private tally?: CompressionTally;
  private bars?: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private readonly imageBars = new Map<string, cliProgress.SingleBar>();
  private labelWidth = 0;
  private lastDrawn = 0;
  private refresh?: NodeJS.Timeout;
  private readonly onSignal = (): void => this.stopBars();
  private readonly onExit = (): void => this.stopBars();

  constructor(
    private readonly stream: TerminalStream,
    private readonly colour: boolean,
  ) {}

  info(message: string): void {
    const stamp = this.clock.stamp();
    this.line(this.paint('dim', stamp), stamp.length, message);
  }

  warn(message: string): void {
    this.line(this.paint('yellow', 'warning:'), 'warning:'.length, message);
  }

  compressionStarted(images: readonly ImageToWrite[]): void {
    this.tally = new CompressionTally(images);
    this.info(`compressing ${images.length} images, ${formatMB(this.tally.totalBytes)} uncompressed`);
    this.labelWidth = Math.min(28, Math.max('total'.length, ...images.map((i) => i.file.length)));
    this.bars = new cliProgress.MultiBar({
      stream: this.stream,
      format: (_options, params, payload: BarPayload) => this.renderBar(params.progress, payload),
      hideCursor: true,
      // Bars must not wrap, or redrawing them in place goes wrong; log lines are wrapped here.
      linewrap: false,
      fps: 10,
    });
    this.overall = this.bars.create(this.tally.totalBytes, 0, this.overallPayload());
    this.refresh = setInterval(() => this.redraw(true), REFRESH_MS);
    // An interrupted build ends in the signal handler: finish the bars before its message.
    process.prependOnceListener('SIGINT', this.onSignal);
    process.prependOnceListener('SIGTERM', this.onSignal);
    process.once('exit', this.onExit);
  }

  imageStarted(file: string): void {
    const state = this.tally?.started(file);
    if (!state || !this.bars) return;
    this.imageBars.set(file, this.bars.create(state.image.bytes, 0, this.imagePayload(state)));
    this.redraw(true);
  }

  imageBytes(file: string, bytes: number): void {
    this.tally?.grew(file, bytes);
    this.redraw(false);
  }

  imageFinished(file: string): void {
    this.tally?.finished(file);
    const bar = this.imageBars.get(file);
    if (bar && this.bars) {
      this.bars.remove(bar);
      this.imageBars.delete(file);
    }
    this.redraw(true);
    if (this.tally?.allFinished) this.stopBars();
  }

  close(): void {
    this.stopBars();
  }

  /** Updates every bar's numbers; cli-progress draws them on its own timer. */
  private redraw(now: boolean): void {
    if (!this.tally || !this.bars) return;
    if (!now && Date.now() - this.lastDrawn < REDRAW_MS) return;
    this.lastDrawn = Date.now();
    for (const [file, bar] of this.imageBars) {
      const state = this.tally.get(file);
      if (state) bar.update(Math.min(state.bytes, state.image.bytes), this.imagePayload(state));
    }
    this.overall?.update(this.tally.doneBytes(), this.overallPayload());
  }

  /** `45%  120.3 MB → 37.1 MB  12.4 MB/s`: bytes in, bytes written so far, rate in. */
  private imagePayload(state: ImageState): BarPayload {
    return {
      label: state.image.file,
      colour: 'green',
      right:
        `${String(percent(state.bytes, state.image.bytes)).padStart(3)}%  ` +
        `${formatMB(state.bytes)} → ${formatMB(compressedSoFar(state))}  ${formatRate(imageRate(state))}`,
    };
  }

  /** `38%  ETA 1m05s  400.1/1050.0 MB  3/7 images  ratio 0.31  25.1 MB/s`: the least needed last. */
  private overallPayload(): BarPayload {
    const tally = this.tally!;
    const eta = tally.allFinished ? 0 : tally.eta();
    const ratio = tally.ratio();
    return {
      label: 'total',
      colour: 'cyan',
      right:
        `${String(percent(tally.doneBytes(), tally.totalBytes)).padStart(3)}%  ` +
        `ETA ${eta === undefined ? '--' : formatDuration(eta)}  ` +
        `${(tally.doneBytes() / 1e6).toFixed(1)}/${formatMB(tally.totalBytes)}  ` +
        `${tally.finishedCount}/${tally.count} images  ` +
        `ratio ${ratio === undefined ? '--' : ratio.toFixed(2)}  ${formatRate(tally.rate())}`,
    };
  }

  /**
   * `label █████░░░░░  45%  ...`, fitted to the terminal's width: the bar shrinks to 10
   * characters, then the numbers lose their end (the least needed ones are last).
   */
  private renderBar(progress: number, payload: BarPayload): string {
    const columns = this.stream.columns || 80;
    const label = fit(payload.label, this.labelWidth).padEnd(this.labelWidth);
    // One width for every bar, so that they line up.
    const width = Math.max(10, Math.min(30, columns - 1 - label.length - NUMBERS_WIDTH - 3));
    const filled = Math.round(Math.min(1, Math.max(0, progress)) * width);
    const bar = `${this.paint(payload.colour, '█'.repeat(filled))}${'░'.repeat(width - filled)}`;
    return `${label} ${bar}  ${cutAtField(payload.right, columns - 1 - label.length - width - 3)}`;
  }

  /**
   * A line above the bars while they are drawn, else straight to the terminal. The terminal
   * does not wrap while bars are drawn, so long messages are wrapped here, under their start.
   */
  private line(prefix: string, prefixWidth: number, message: string): void {
    if (!this.bars) {
      this.stream.write(`${prefix} ${message}\n`);
      return;
    }
    const pieces = wrap(message, (this.stream.columns || 80) - 2 - prefixWidth);
    pieces.forEach((piece, i) => this.bars!.log(`${i === 0 ? prefix : ' '.repeat(prefixWidth)} ${piece}\n`));
  }

  /**
   * Stops drawing and leaves the bars as last drawn, on their own lines, so that what comes
   * next (the summary, an error, the interruption message) starts on a fresh line.
   */
  private stopBars(): void {
    const bars = this.bars;
    if (!bars) return;
    this.redraw(true);
    this.bars = undefined;
    clearInterval(this.refresh);
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    process.removeListener('exit', this.onExit);
    // Draws the lines logged since the last redraw, then the bars; stop() draws them once more.
    bars.update();
    bars.stop();
  }

  private paint(colour: Colour, text: string): string {
    if (!this.colour || text === '') return text;
    const [on, off] = COLOURS[colour];
    return `${ESC}${on}m${text}${ESC}${off}m`;
  }
}

/** Shortens a label from the middle so that both its start and its extension stay readable. */
function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/** The fields (separated by two spaces) of `text` that fit into `width` characters. */
function cutAtField(text: string, width: number): string {
  if (text.length <= width) return text;
  const cut = text.lastIndexOf('  ', width);
  return cut > 0 ? text.slice(0, cut) : text.slice(0, Math.max(0, width));
}

/** Splits a message into pieces of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  if (width < 20 || text.length <= width) return [text];
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += width) parts.push(text.slice(i, i + width));
  return parts;
}
