/**
 * Numbers as mediacompose prints them, one way each: megabytes, rates, seconds, durations,
 * percentages. Used by the core's progress messages and by the renderers.
 */

/** `12.3`: bytes as decimal megabytes, one decimal. */
export function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

export function formatMB(bytes: number): string {
  return `${mb(bytes)} MB`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${mb(bytesPerSecond)} MB/s`;
}

/** 42s, 3m07s, 1h05m. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
}

/** `3.2s`: seconds with one decimal. */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(1)}s`;
}

/** `3.2s`: the seconds since a Date.now() timestamp. */
export function secondsSince(since: number): string {
  return formatSeconds((Date.now() - since) / 1000);
}
