/**
 * Peak memory of a build: this process and the programs it runs through startFilter (the
 * compressors, which hold most of it: xz needs about 94 MiB per thread at level 6). Their
 * resident sizes are summed from /proc every SAMPLE_MS while a sampling runs; this process's
 * own peak comes from the kernel (exact). Elsewhere than Linux only the process itself counts.
 */
import fs from 'node:fs';

const SAMPLE_MS = 100;
const running = new Set<number>();
let peak = 0;

/** Counts a program started by the command wrapper until it ends. */
export function programStarted(pid: number | undefined): () => void {
  if (pid === undefined) return () => undefined;
  running.add(pid);
  return () => running.delete(pid);
}

/** Samples until the returned function is called; that returns the peak in bytes. */
export function sampleMemory(): () => number {
  peak = 0;
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
    return Math.max(peak, process.resourceUsage().maxRSS * 1024);
  };
}

function sample(): void {
  let bytes = process.memoryUsage.rss();
  for (const pid of running) bytes += residentBytes(pid);
  peak = Math.max(peak, bytes);
}

function residentBytes(pid: number): number {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? 0 : Number(kib) * 1024;
  } catch {
    // Ended meanwhile, or no /proc.
    return 0;
  }
}
