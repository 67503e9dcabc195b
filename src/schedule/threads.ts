/**
 * One thread budget for the whole build: the encoder threads of all images compressing at once
 * never exceed it. An image asks for as many threads as it can use (its format's usefulThreads:
 * xz's multithreaded encoder gives each thread its own block, so an image of B blocks uses at
 * most B) and gets what is free, at least one; requests are served in the order made. With images taken largest first,
 * a large image gets every thread and small ones share them.
 *
 * The number of threads never changes the bytes: xz's block size is fixed by the preset.
 */
export class ThreadBudget {
  /** Threads that may be granted at once: the budget, at least one. */
  private readonly capacity: number;
  /** Threads granted and not released yet. */
  private inUse = 0;
  private readonly queue: Array<{ want: number; grant: (n: number) => void }> = [];
  /** Most threads granted at once. */
  peak = 0;

  constructor(readonly total: number) {
    this.capacity = Math.max(1, total);
  }

  /** The turn whose request comes next (acquireInTurn). */
  private turn = 0;
  private readonly passed = new Set<number>();
  private readonly turnWaiters = new Map<number, () => void>();

  /**
   * Threads for the image of turn `turn` (0, 1, 2, ... in the order images are taken on), asked
   * for only once every earlier turn has asked or passed: requests are served in turn order,
   * whatever order the callers get here in.
   */
  async acquireInTurn(turn: number, want: number): Promise<number> {
    if (turn > this.turn) await new Promise<void>((resolve) => this.turnWaiters.set(turn, resolve));
    const granted = this.acquire(want);
    this.pass(turn);
    return granted;
  }

  /** A turn that asks for no threads (its image came from the cache, or failed) lets the next one ask. */
  pass(turn: number): void {
    if (turn < this.turn) return;
    this.passed.add(turn);
    while (this.passed.delete(this.turn)) {
      this.turn++;
      this.turnWaiters.get(this.turn)?.();
      this.turnWaiters.delete(this.turn);
    }
  }

  /** Resolves with the threads granted (1..want); call release() with that number when done. */
  acquire(want: number): Promise<number> {
    return new Promise((grant) => {
      this.queue.push({ want: Math.max(1, want), grant });
      this.serve();
    });
  }

  release(n: number): void {
    this.inUse -= n;
    this.serve();
  }

  private serve(): void {
    while (this.inUse < this.capacity && this.queue.length > 0) {
      const next = this.queue.shift()!;
      const n = Math.min(next.want, this.capacity - this.inUse);
      this.inUse += n;
      this.peak = Math.max(this.peak, this.inUse);
      next.grant(n);
    }
  }
}
