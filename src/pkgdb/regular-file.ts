/**
 * Reading a text file of a package database as a root presents it: only a regular file is
 * opened (never a device, a FIFO or a terminal a hostile root links to), without following a
 * last symlink, and only up to a size no real database file reaches.
 */
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { unreadableDatabase } from './dbfile.js';

/** No dpkg status or file list comes near this; a bigger one is refused, not loaded. */
export const MAX_DATABASE_TEXT = 256 << 20;

/** The file's text; ENOENT is thrown as is (callers may treat a missing file as none). */
export async function readDatabaseText(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(path, 'a symlink');
    throw unreadableDatabase(path, err);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notRegular(path, stat.isCharacterDevice() ? 'a character device' : stat.isFIFO() ? 'a FIFO' : stat.isDirectory() ? 'a directory' : 'not a regular file');
    if (stat.size > MAX_DATABASE_TEXT) {
      throw new InputError(path, `package database file of ${stat.size} bytes is too large (more than ${MAX_DATABASE_TEXT >> 20} MiB)`, 'a real one is far smaller; the root or medium is damaged');
    }
    try {
      return await handle.readFile('utf8');
    } catch (err) {
      throw unreadableDatabase(path, err);
    }
  } finally {
    await handle.close();
  }
}

function notRegular(path: string, kind: string): InputError {
  return new InputError(path, `package database file is ${kind}, not a regular file`, 'a package database holds regular files only; the root or medium is damaged or hostile');
}
