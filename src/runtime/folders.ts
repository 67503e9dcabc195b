/**
 * Folder creation, one way for the whole program (opening files to read: input-file.ts).
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p`, returning the outermost folder it created. One level at a time: a recursive
 * mkdirSync reports "no such file or directory" where the cause is a read-only file system, and
 * never returns for a folder under /proc (it retries ENOENT forever, and no signal gets in).
 */
export function makeFolders(dir: string): string | undefined {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) fs.mkdirSync(d);
  return missing[0];
}

