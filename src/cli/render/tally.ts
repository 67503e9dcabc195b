/**
 * The compression as it goes, shared by the line and the bar renderers: every image with what
 * its encoder really did (schedule/eta.ts estimates it), the rates and the time left; and the
 * clock their timestamps come from.
 */
import type { CompressionWork, ImageMeter } from '../../runtime/progress.js';
import { ImageEstimate, ratioSoFar, secondsLeft, threadRate } from '../../schedule/eta.js';

export class Clock {
  private readonly start = Date.now();

  seconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  /** `[  12.3s]`: seconds since the command started. */
  stamp(): string {
    return `[${this.seconds().toFixed(1).padStart(6)}s]`;
  }
}

/** What a renderer shows of one image. */
export interface ImageView {
  readonly file: string;
  readonly bytes: number;
  /** Uncompressed bytes compressed so far (estimated while xz's blocks are in flight). */
  readonly done: number;
  /** Compressed bytes so far; `estimated` when it counts blocks not yet written out. */
  readonly compressed: number;
  readonly estimated: boolean;
  /** Uncompressed bytes per second since its encoder started. */
  readonly rate: number;
}

/** Every image of the medium with its encoder's progress; rates and the time left come from here. */
export class CompressionTally {
  private readonly images = new Map<string, ImageEstimate>();
  private readonly startedAt: number;
  readonly totalBytes: number;
  private readonly threads: number;

  /** `now` gives the time in seconds (a clock of the tests' own, or the wall clock). */
  constructor(
    work: CompressionWork,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    for (const image of work.images) this.images.set(image.file, new ImageEstimate(image));
    this.totalBytes = work.images.reduce((n, i) => n + i.bytes, 0);
    this.threads = work.threads;
    this.startedAt = now();
  }

  started(file: string, threads: number): void {
    this.images.get(file)?.started(this.now(), threads);
  }

  grew(file: string, meter: ImageMeter): void {
    this.images.get(file)?.update(this.now(), meter);
  }

  finished(file: string, compressed: number, cached: boolean): void {
    this.images.get(file)?.finished(this.now(), compressed, cached);
  }

  get count(): number {
    return this.images.size;
  }

  get finishedCount(): number {
    return [...this.images.values()].filter((i) => i.finishedAt !== undefined).length;
  }

  get allFinished(): boolean {
    return this.finishedCount === this.count;
  }

  /** Bytes per second per encoder thread, once known. */
  private rate(): number | undefined {
    return threadRate([...this.images.values()], this.now());
  }

  /** Uncompressed bytes compressed so far, over all images. */
  doneBytes(): number {
    const at = this.now();
    const rate = this.rate();
    let done = 0;
    for (const image of this.images.values()) done += image.done(at, rate);
    return done;
  }

  /** Uncompressed bytes per second since compression began. */
  overallRate(): number {
    const seconds = this.now() - this.startedAt;
    return seconds > 0 ? this.doneBytes() / seconds : 0;
  }

  /** Compressed over uncompressed bytes of what was written out so far. */
  ratio(): number | undefined {
    return ratioSoFar([...this.images.values()]);
  }

  /** Seconds left: the rest of the schedule at the rate seen so far; undefined until it is known. */
  eta(): number | undefined {
    if (this.allFinished) return 0;
    const rate = this.rate();
    return rate === undefined ? undefined : secondsLeft([...this.images.values()], this.threads, this.now(), rate);
  }

  view(file: string): ImageView | undefined {
    const image = this.images.get(file);
    if (!image) return undefined;
    const at = this.now();
    const rate = this.rate();
    const done = image.done(at, rate);
    const { bytes, estimated } = image.compressed(at, rate, this.ratio());
    const seconds = image.startedAt === undefined ? 0 : (image.finishedAt ?? at) - image.startedAt;
    return { file, bytes: image.image.bytes, done, compressed: bytes, estimated, rate: seconds > 0 ? done / seconds : 0 };
  }

  /** The images whose encoders run, in order. */
  inProgress(): ImageView[] {
    return [...this.images.values()].filter((i) => i.startedAt !== undefined && i.finishedAt === undefined).map((i) => this.view(i.image.file)!);
  }
}
