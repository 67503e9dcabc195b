/**
 * Bars on a terminal, one per image being compressed (bytes in and out, rate) and one for the
 * whole medium (ratio, rate, ETA), drawn with cli-progress. While drawn, the renderer is
 * registered with the cleanup registry, so an interruption finishes the bars before its message.
 */
import cliProgress from 'cli-progress';
import { onCleanup } from '../../runtime/cleanup.js';
import { formatDuration, formatMB, formatRate, mb, percent } from '../../runtime/format.js';
import type { CompressionWork, ImageMeter, Progress } from '../../runtime/progress.js';
import { Clock, CompressionTally, type ImageView } from './tally.js';

/** The parts of a tty.WriteStream the bars use. */
export interface TerminalStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
  hasColors?: (count?: number, env?: NodeJS.ProcessEnv) => boolean;
}

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

export class TerminalProgress implements Progress {
  private readonly clock = new Clock();
  private tally?: CompressionTally;
  private bars?: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private readonly imageBars = new Map<string, cliProgress.SingleBar>();
  private labelWidth = 0;
  private lastDrawn = 0;
  private refresh?: NodeJS.Timeout;
  /** Unregisters the bars from the cleanup registry; set while they are drawn. */
  private unregister?: () => void;

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

  compressionStarted(work: CompressionWork): void {
    const { images } = work;
    this.tally = new CompressionTally(work);
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
    // An interrupted build drains the cleanup registry: the bars finish before its message.
    this.unregister = onCleanup(() => this.stopBars());
  }

  imageStarted(file: string, threads: number): void {
    this.tally?.started(file, threads);
    const view = this.tally?.view(file);
    if (!view || !this.bars) return;
    this.imageBars.set(file, this.bars.create(view.bytes, 0, this.imagePayload(view)));
    this.redraw(true);
  }

  imageProgress(file: string, meter: ImageMeter): void {
    this.tally?.grew(file, meter);
    this.redraw(false);
  }

  imageFinished(file: string, compressed: number, cached: boolean): void {
    this.tally?.finished(file, compressed, cached);
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
      const view = this.tally.view(file);
      if (view) bar.update(view.done, this.imagePayload(view));
    }
    this.overall?.update(Math.min(this.tally.totalBytes, this.tally.doneBytes()), this.overallPayload());
  }

  /** `45%  120.3 MB → ~37.1 MB  12.4 MB/s`: input compressed, its compressed size (~: blocks in flight included), rate. */
  private imagePayload(view: ImageView): BarPayload {
    return {
      label: view.file,
      colour: 'green',
      right:
        `${String(percent(view.done, view.bytes)).padStart(3)}%  ` +
        `${formatMB(view.done)} → ${view.estimated ? '~' : ''}${formatMB(view.compressed)}  ${formatRate(view.rate)}`,
    };
  }

  /** `38%  ETA 1m05s  400.1/1050.0 MB  3/7 images  ratio 0.31  25.1 MB/s`: the least needed last. */
  private overallPayload(): BarPayload {
    const tally = this.tally!;
    const eta = tally.eta();
    const ratio = tally.ratio();
    const done = tally.doneBytes();
    return {
      label: 'total',
      colour: 'cyan',
      right:
        `${String(percent(done, tally.totalBytes)).padStart(3)}%  ` +
        `ETA ${eta === undefined ? '--' : formatDuration(eta)}  ` +
        `${mb(done)}/${formatMB(tally.totalBytes)}  ` +
        `${tally.finishedCount}/${tally.count} images  ` +
        `ratio ${ratio === undefined ? '--' : ratio.toFixed(2)}  ${formatRate(tally.overallRate())}`,
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
    this.unregister?.();
    this.unregister = undefined;
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
