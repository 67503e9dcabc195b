/**
 * Shared plumbing of the database readers: read-only positional access to a database file, and
 * turning a bad record into one InputError that names the file.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { describeSystemError, InputError, MediaComposeError } from '../errors.js';
import { openInput } from '../runtime/input-file.js';
import { HeaderFormatError, packageFromHeaderBlob } from './header.js';
import type { InstalledPackage } from './package.js';

/** The kinds of database read here, as named in messages. */
type DatabaseKind = 'rpm sqlite' | 'rpm ndb' | 'rpm Berkeley DB' | 'dpkg';

/** The error every reader throws for a database it cannot make sense of. */
export function damagedDatabase(file: string, kind: DatabaseKind, what: string, options?: ErrorOptions): InputError {
  return new InputError(file, `damaged ${kind} database: ${what}`, undefined, options);
}

/** The error for a database file that cannot be opened or read at all. */
export function unreadableDatabase(file: string, err: unknown): InputError {
  return new InputError(file, `cannot read package database: ${describeSystemError(err)}`, undefined, {
    cause: err,
  });
}

/** A database file opened read-only; reads past its end are reported as damage. */
export class DatabaseFile {
  private constructor(
    readonly path: string,
    readonly kind: DatabaseKind,
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Opens a regular file of at most INPUT_FILES.rpmDatabase.max bytes; a symlink left on the resolved path is refused. */
  static async open(path: string, kind: DatabaseKind): Promise<DatabaseFile> {
    try {
      const { fd, size } = openInput(path, 'rpmDatabase', 'none');
      return new DatabaseFile(path, kind, fd, size);
    } catch (err) {
      if (err instanceof MediaComposeError) throw err;
      throw unreadableDatabase(path, err);
    }
  }

  /** Runs `use` with the opened file and closes it afterwards. */
  static async with<T>(path: string, kind: DatabaseKind, use: (file: DatabaseFile) => Promise<T>): Promise<T> {
    const file = await DatabaseFile.open(path, kind);
    try {
      return await use(file);
    } finally {
      await file.close();
    }
  }

  /** Exactly `length` bytes at `offset`; `what` names them in the error when they are missing. */
  async read(offset: number, length: number, what: string): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw this.damaged(
        `${what} (bytes ${offset}..${offset + length}) lies past the end of the ${this.size}-byte file; truncated?`,
      );
    }
    const buffer = new Uint8Array(length);
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await readAt(this.fd, buffer, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw unreadableDatabase(this.path, err);
    }
    if (done < length) throw this.damaged(`${what} is cut short; the file shrank while being read`);
    return buffer;
  }

  damaged(what: string, options?: ErrorOptions): InputError {
    return damagedDatabase(this.path, this.kind, what, options);
  }

  async close(): Promise<void> {
    await closeFile(this.fd);
  }
}

const readAt = promisify(fs.read);
const closeFile = promisify(fs.close);

/** Decodes one package record (a header blob); `record` names it in the error. */
export function packageFromRecord(
  file: string,
  kind: DatabaseKind,
  record: string,
  blob: Uint8Array,
): InstalledPackage {
  try {
    return packageFromHeaderBlob(blob);
  } catch (err) {
    if (err instanceof HeaderFormatError) {
      throw damagedDatabase(file, kind, `${record}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** A DataView over exactly the bytes of `bytes`. */
export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
