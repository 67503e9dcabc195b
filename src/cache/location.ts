/**
 * Where the image cache lives and how large it may grow: `--cache DIR`, else
 * $MEDIACOMPOSE_CACHE, else $XDG_CACHE_HOME/mediacompose, else ~/.cache/mediacompose. Entries go
 * to the `images` folder inside it (the same folder also holds other cached files).
 */
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** 4 GiB: a few media of a release's images. */
export const DEFAULT_CACHE_SIZE = 4 * 1024 ** 3;

export function cacheFolder(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return path.resolve(flag);
  if (env.MEDIACOMPOSE_CACHE) return path.resolve(env.MEDIACOMPOSE_CACHE);
  // The XDG spec ignores a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'mediacompose');
  return path.join(env.HOME || os.homedir(), '.cache', 'mediacompose');
}

const UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** "4GiB", "500MiB", "1073741824": bytes; a usage error otherwise. */
export function parseCacheSize(text: string): number {
  const match = /^\s*(\d+)\s*(B|KiB|MiB|GiB|TiB)?\s*$/.exec(text);
  const bytes = match ? Number(match[1]) * UNITS[match[2] ?? '']! : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(undefined, `--cache-size ${text}: not a size`, 'write bytes as an integer or with a unit: 500MiB, 4GiB');
  }
  return bytes;
}
