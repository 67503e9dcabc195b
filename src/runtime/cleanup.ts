/**
 * The one cleanup registry. Whatever must be undone when a command ends early -- a staging
 * folder, the medium's lock, a temporary root for a package database, bars on the terminal --
 * registers here, and runCommand drains the registry before the process exits and before it
 * re-raises SIGINT or SIGTERM (a process dying of a re-raised signal runs no 'exit' listeners).
 *
 * Tasks run last registered, first run: bars stop before the interruption message, a staging
 * folder is removed before the lock that guards it is released.
 */

type Task = () => void;

const tasks: Task[] = [];

/** Registers a cleanup task; the returned function unregisters it (idempotent). */
export function onCleanup(task: Task): () => void {
  tasks.push(task);
  return () => {
    const at = tasks.lastIndexOf(task);
    if (at >= 0) tasks.splice(at, 1);
  };
}

/** Runs every registered task once, newest first; a failing task does not stop the others. */
export function drainCleanups(): void {
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    try {
      task();
    } catch {
      // Best effort: the process is ending, and the other tasks must still run.
    }
  }
}
