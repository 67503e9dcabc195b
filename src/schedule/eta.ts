/**
 * How far a build's compression really is, and how long the rest takes: pure functions of what
 * the encoders reported (runtime/progress.ts's ImageMeter) and when. Times are in seconds.
 *
 * The input handed to an encoder is not input compressed: xz's multithreaded encoder takes a
 * whole block per thread (24 MiB at level 6) and writes nothing of it until the block is done.
 * So an xz image is followed block by block:
 * - block j starts when the encoder has read into it (xz reads a block only once a thread is
 *   free for it, and then reads it whole at once);
 * - with T threads, block k+T starts on the thread the (k+1)-th block to finish freed, so k+1
 *   blocks count as finished from the start of block k+T, or from the moment block k appeared
 *   in the output, whichever comes first (the output keeps the blocks' order);
 * - the per-thread rate is the finished blocks' input over their threads' seconds, and a block
 *   in flight has done that rate times its age, at most its input read so far.
 * The xz program says itself how much input it has compressed (its progress line on SIGUSR1,
 * blocks in flight included): then that is what is done, the blocks in flight share it by age,
 * and the image's rate is what it compressed over the seconds of the threads that were busy.
 * A stream encoder (gzip, LZMA-alone, bzip2) has done what it read less what it may hold.
 *
 * The time left is the rest of the schedule played forward at that rate, as ThreadBudget would
 * play it (threads.ts): images in order, each given min(wanted, free) threads when it starts,
 * its blocks T at a time, its threads freed when it ends. That sees the end of a build as it is:
 * the last block of the last image on one thread while the others have nothing left.
 */
import type { ImageMeter, ImageToWrite } from '../runtime/progress.js';

/** Blocks count as started once this much of them was read (xz reads a few KiB ahead). */
const START_MARGIN = 1 << 20;
/** xz prints its counts to 0.1 MiB. */
const COUNT_PRECISION = 0.1 * 1024 ** 2;
/** Thread-seconds the build's rate counts for against an image's own (see ownRate). */
const PRIOR_SECONDS = 8;

export class ImageEstimate {
  startedAt?: number;
  finishedAt?: number;
  /** Threads granted (0 until started, and for an image taken from the cache). */
  threads = 0;
  cached = false;
  meter: ImageMeter = { fed: 0, written: 0 };
  /** xz: when each block was seen to start, and to appear in the output. */
  private readonly starts: number[] = [];
  private readonly emitted: number[] = [];
  private readonly sizes: number[];
  /** The encoder's own reports: the last one, and the input and busy thread-seconds between them. */
  private told?: { at: number; consumed: number };
  private toldBytes = 0;
  private toldSeconds = 0;

  constructor(readonly image: ImageToWrite) {
    const block = image.blockBytes;
    this.sizes = [];
    if (block !== undefined && block > 0) {
      for (let at = 0; at < image.bytes; at += block) this.sizes.push(Math.min(block, image.bytes - at));
      if (this.sizes.length === 0) this.sizes.push(0);
    }
  }

  get blocks(): boolean {
    return this.sizes.length > 0;
  }

  started(at: number, threads: number): void {
    this.startedAt = at;
    this.threads = Math.max(1, threads);
  }

  update(at: number, meter: ImageMeter): void {
    this.meter = meter;
    const read = this.read();
    while (this.starts.length < this.sizes.length && read >= this.offset(this.starts.length) + Math.min(START_MARGIN, this.sizes[this.starts.length]! / 4)) {
      this.starts.push(at);
    }
    const completed = meter.completed ?? 0;
    while (this.emitted.length < this.sizes.length && completed >= this.offset(this.emitted.length + 1)) this.emitted.push(at);
    if (meter.consumed !== undefined && meter.consumed !== this.told?.consumed) {
      const last = this.told ?? { at: this.startedAt ?? at, consumed: 0 };
      this.toldBytes += meter.consumed - last.consumed;
      this.toldSeconds += Math.max(0, at - last.at) * this.busy();
      this.told = { at, consumed: meter.consumed };
    }
  }

  /**
   * Threads busy: one per block in flight that is not done, as far as the encoder's last count
   * says (its count shared by age); a stream keeps all of its threads busy.
   */
  private busy(): number {
    if (!this.blocks) return this.threads;
    const finished = this.finishedBlocks().length;
    let busy = this.starts.length - finished;
    if (this.told) {
      const share = this.shareByAge(this.told.consumed - this.offset(finished), finished, this.told.at);
      for (const [j, done] of share) if (done >= this.sizes[j]! - COUNT_PRECISION) busy--;
    }
    return Math.max(1, Math.min(this.threads, busy));
  }

  /**
   * Bytes per second per thread as the encoder itself told it, weighed against the build's
   * rate as if that had been seen for PRIOR_SECONDS: an encoder's first seconds go to reading
   * its first blocks, and one report is no measure.
   */
  ownRate(build: number | undefined): number | undefined {
    if (this.toldSeconds <= 0) return build;
    if (build === undefined) return this.toldBytes / this.toldSeconds;
    return (this.toldBytes + build * PRIOR_SECONDS) / (this.toldSeconds + PRIOR_SECONDS);
  }

  /** What ownRate is made of, for the rate of all images. */
  toldWork(): { bytes: number; seconds: number } {
    return { bytes: this.toldBytes, seconds: this.toldSeconds };
  }

  finished(at: number, compressed: number, cached: boolean): void {
    this.finishedAt = at;
    this.cached = cached;
    this.meter = { fed: this.image.bytes, written: compressed, completed: this.image.bytes };
    while (this.starts.length < this.sizes.length) this.starts.push(at);
    while (this.emitted.length < this.sizes.length) this.emitted.push(at);
  }

  /** Input the encoder has taken: what its process read, else what was handed to it. */
  read(): number {
    return Math.min(this.image.bytes, this.meter.read ?? this.meter.fed);
  }

  /** xz: each finished block's input and its thread's seconds, in block order. */
  finishedBlocks(): Array<{ bytes: number; seconds: number }> {
    const done: Array<{ bytes: number; seconds: number }> = [];
    for (let k = 0; k < this.sizes.length; k++) {
      const end = Math.min(this.starts[k + this.threads] ?? Infinity, this.emitted[k] ?? Infinity);
      if (end === Infinity) break;
      const start = this.starts[k] ?? this.startedAt ?? end;
      done.push({ bytes: this.sizes[k]!, seconds: Math.max(0, end - start) });
    }
    return done;
  }

  /** Uncompressed bytes compressed by `at`, at `rate` bytes per second per thread. */
  done(at: number, rate: number | undefined): number {
    if (this.finishedAt !== undefined) return this.image.bytes;
    if (this.startedAt === undefined) return 0;
    if (this.told) {
      // Its own count, and since that report what its busy threads did at its own rate.
      const since = (this.ownRate(rate) ?? 0) * this.busy() * Math.max(0, at - this.told.at);
      return Math.min(this.read(), this.image.bytes, Math.max(this.offset(this.finishedBlocks().length), this.told.consumed + since));
    }
    if (!this.blocks) return Math.max(0, this.read() - this.image.holds);
    const finished = this.finishedBlocks().length;
    let done = this.offset(finished);
    for (let j = finished; j < this.starts.length; j++) done += this.inFlight(j, at, rate);
    return Math.min(done, this.image.bytes);
  }

  /** Compressed bytes so far, and whether that includes an estimate of the blocks in flight at `ratio`. */
  compressed(at: number, rate: number | undefined, ratio: number | undefined): { bytes: number; estimated: boolean } {
    const written = this.meter.written;
    if (this.finishedAt === undefined && this.meter.encoded !== undefined) return { bytes: Math.max(written, this.meter.encoded), estimated: this.meter.encoded > written };
    if (this.finishedAt !== undefined || !this.blocks || ratio === undefined || this.startedAt === undefined) return { bytes: written, estimated: false };
    const inFlight = this.done(at, rate) - (this.meter.completed ?? 0);
    return inFlight > 0 ? { bytes: written + inFlight * ratio, estimated: true } : { bytes: written, estimated: false };
  }

  /** What is left to compress, as pieces: xz's blocks (one thread each), or the one stream. */
  pieces(at: number, rate: number | undefined): number[] {
    if (this.finishedAt !== undefined) return [];
    if (!this.blocks) return [this.image.bytes - this.done(at, rate)];
    const finished = this.startedAt === undefined ? 0 : this.finishedBlocks().length;
    const flying = this.told ? this.shareByAge(this.done(at, rate) - this.offset(finished), finished, at) : undefined;
    return this.sizes.slice(finished).map((size, i) => {
      const j = finished + i;
      if (j >= this.starts.length) return size;
      return size - (flying ? flying.get(j)! : this.inFlight(j, at, rate));
    });
  }

  /**
   * The encoder's count for the blocks in flight, shared by their age, none given more than
   * its input read so far (what one cannot take goes to the others).
   */
  private shareByAge(total: number, finished: number, at: number): Map<number, number> {
    const share = new Map<number, number>();
    let open = [...Array(this.starts.length - finished).keys()].map((i) => finished + i);
    let left = Math.max(0, total);
    while (open.length > 0) {
      const ages = open.map((j) => Math.max(1e-3, at - this.starts[j]!));
      const sum = ages.reduce((a, b) => a + b, 0);
      const full = open.filter((j, i) => (left * ages[i]!) / sum >= this.available(j));
      if (full.length === 0) {
        open.forEach((j, i) => share.set(j, (left * ages[i]!) / sum));
        break;
      }
      for (const j of full) {
        share.set(j, this.available(j));
        left -= this.available(j);
      }
      open = open.filter((j) => !full.includes(j));
    }
    return share;
  }

  /** The input of block j the encoder has read. */
  private available(j: number): number {
    return Math.max(0, Math.min(this.sizes[j]!, this.read() - this.offset(j)));
  }

  private inFlight(j: number, at: number, rate: number | undefined): number {
    return rate === undefined ? 0 : Math.min(this.available(j), rate * Math.max(0, at - this.starts[j]!));
  }

  /** Input offset of block j. */
  private offset(j: number): number {
    return Math.min(this.image.bytes, j * (this.image.blockBytes ?? 0));
  }
}

/**
 * Bytes one encoder thread compresses per second, from what is known exactly: xz's finished
 * blocks, or a stream encoder's input taken over its threads' seconds. Undefined until there
 * is a second of it.
 */
export function threadRate(images: readonly ImageEstimate[], at: number): number | undefined {
  let bytes = 0;
  let seconds = 0;
  for (const image of images) {
    if (image.cached || image.startedAt === undefined) continue;
    const told = image.toldWork();
    if (told.seconds > 0) {
      bytes += told.bytes;
      seconds += told.seconds;
    } else if (image.blocks) {
      for (const block of image.finishedBlocks()) {
        bytes += block.bytes;
        seconds += block.seconds;
      }
    } else {
      bytes += image.done(at, undefined);
      seconds += image.threads * ((image.finishedAt ?? at) - image.startedAt);
    }
  }
  return bytes > 0 && seconds >= 1 ? bytes / seconds : undefined;
}

/**
 * Compressed over uncompressed bytes so far: the encoder's own count where it tells one, else
 * what was written out over the input behind it (xz: whole blocks).
 */
export function ratioSoFar(images: readonly ImageEstimate[]): number | undefined {
  let input = 0;
  let output = 0;
  for (const image of images) {
    const { meter } = image;
    const [i, o] =
      image.finishedAt !== undefined ? [image.image.bytes, meter.written]
      : meter.consumed !== undefined && meter.encoded !== undefined ? [meter.consumed, meter.encoded]
      : [image.blocks ? (meter.completed ?? 0) : image.read(), meter.written];
    if (i <= 0) continue;
    input += i;
    output += o;
  }
  return input > 0 ? output / input : undefined;
}

interface Job {
  /** Threads granted, 0 while queued. */
  threads: number;
  /** Bytes per second per thread: its own once known, else the build's. */
  readonly rate: number;
  readonly wants: number;
  readonly pieces: number[];
  readonly blocks: boolean;
}

/**
 * Seconds until every image is compressed: the rest of the schedule played forward at `rate`
 * bytes per second per thread, with `budget` threads, images queued in the given order.
 */
export function secondsLeft(images: readonly ImageEstimate[], budget: number, at: number, rate: number): number {
  const jobs: Job[] = images
    .filter((i) => i.finishedAt === undefined)
    .map((i) => ({ threads: i.startedAt === undefined ? 0 : i.threads, rate: i.ownRate(rate)!, wants: Math.max(1, i.image.threads), pieces: i.pieces(at, rate), blocks: i.blocks }));
  // An image whose estimate says it is done only waits for its last bytes: its threads are free.
  for (const job of jobs) if (job.pieces.length === 0) job.threads = 0;
  let free = Math.max(1, budget) - jobs.reduce((n, j) => n + j.threads, 0);
  const serve = (): void => {
    for (const job of jobs) {
      if (free <= 0) break;
      if (job.threads > 0 || job.pieces.length === 0) continue;
      job.threads = Math.min(job.wants, free);
      free -= job.threads;
    }
  };
  serve();
  let t = 0;
  // Each round ends when the next piece ends; a build has at most a few hundred pieces.
  for (let round = 0; round < 100_000; round++) {
    const running = jobs.filter((j) => j.threads > 0 && j.pieces.length > 0);
    if (running.length === 0) break;
    // A stream is one piece on all its threads; xz runs its first T blocks, one thread each.
    const active = (j: Job): { count: number; speed: number } =>
      j.blocks ? { count: Math.min(j.threads, j.pieces.length), speed: j.rate } : { count: 1, speed: j.rate * j.threads };
    let step = Infinity;
    for (const j of running) {
      const { count, speed } = active(j);
      for (let p = 0; p < count; p++) step = Math.min(step, Math.max(0, j.pieces[p]!) / speed);
    }
    t += step;
    for (const j of running) {
      const { count, speed } = active(j);
      for (let p = 0; p < count; p++) j.pieces[p]! -= step * speed;
      for (let p = count - 1; p >= 0; p--) if (j.pieces[p]! <= 1e-3) j.pieces.splice(p, 1);
      if (j.pieces.length === 0) {
        free += j.threads;
        j.threads = 0;
      }
    }
    serve();
  }
  return t;
}
