/**
 * Letting SIGINT and SIGTERM in during long synchronous work. The handlers cli/run.ts installs
 * (remove what is staged, release the lock, die of the signal) are JavaScript listeners: Node
 * runs them only when the event loop gets control, never in the middle of a synchronous loop.
 * Work that reads gigabytes synchronously (digesting files to compare them) awaits
 * signalCheckpoint() between files and between chunks: at most every CHECK_INTERVAL_MS it yields
 * one turn of the event loop, in which a pending signal's listener runs and ends the process.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long synchronous work may run between two looks at pending signals. */
const CHECK_INTERVAL_MS = 100;

let lastTurn = performance.now();

/** Yields to the event loop when CHECK_INTERVAL_MS passed since the last time; cheap otherwise. */
export async function signalCheckpoint(): Promise<void> {
  if (performance.now() - lastTurn < CHECK_INTERVAL_MS) return;
  await nextTurn();
  lastTurn = performance.now();
}
