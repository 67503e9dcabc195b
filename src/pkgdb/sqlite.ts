/**
 * Reader for rpm's sqlite backend, rpmdb.sqlite (Fedora 33+, RHEL 9, Debian's rpm, ...).
 * rpm (lib/backend/sqlite.c) keeps one header blob per package in
 *     CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)
 * next to index tables we do not need. The file is read into memory and opened there with
 * sql.js, so neither it nor its -wal/-shm companions are ever written; committed transactions
 * still sitting in the -wal file are folded into the in-memory copy first.
 */
import { createRequire } from 'node:module';
import initSqlJs from 'sql.js';
import { MediaComposeError } from '../errors.js';
import { readInputChunked } from '../runtime/input-file.js';
import { damagedDatabase, packageFromRecord, unreadableDatabase } from './dbfile.js';
import type { InstalledPackage } from './package.js';
import { applyWriteAheadLog } from './sqlite-wal.js';

const KIND = 'rpm sqlite';
const SQLITE_MAGIC = 'SQLite format 3\0';

let sqlJs: Promise<initSqlJs.SqlJsStatic> | undefined;

/** sql.js, loaded once; its WebAssembly file is found next to its JavaScript. */
export function loadSqlJs(): Promise<initSqlJs.SqlJsStatic> {
  const wasmPath = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm');
  sqlJs ??= initSqlJs({ locateFile: () => wasmPath });
  return sqlJs;
}

/** Reads every package of an rpmdb.sqlite, in package-number (installation) order. */
export async function readSqliteDatabase(path: string): Promise<InstalledPackage[]> {
  const image = await readDatabaseImage(path);
  const SQL = await loadSqlJs();
  let db: initSqlJs.Database | undefined;
  const rows: { hnum: number; blob: Uint8Array }[] = [];
  try {
    db = new SQL.Database(image);
    checkIntegrity(path, db);
    const statement = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum');
    try {
      while (statement.step()) rows.push(packageRow(path, statement.get()));
    } finally {
      statement.free();
    }
  } catch (err) {
    if (isSqliteError(err)) throw damagedDatabase(path, KIND, `sqlite: ${err.message}`, { cause: err });
    throw err;
  } finally {
    db?.close();
  }
  return rows.map((row) => packageFromRecord(path, KIND, `package ${row.hnum}`, row.blob));
}

/** The database file with committed -wal content applied, checked to be an SQLite file. */
async function readDatabaseImage(path: string): Promise<Uint8Array> {
  let image: Uint8Array;
  try {
    image = await readDatabaseFile(path);
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    throw unreadableDatabase(path, err);
  }
  const magic = new TextDecoder('latin1').decode(image.subarray(0, SQLITE_MAGIC.length));
  if (magic !== SQLITE_MAGIC) throw damagedDatabase(path, KIND, 'no SQLite header; not an SQLite database');
  const wal = await readOptionalFile(`${path}-wal`);
  return wal && wal.length > 0 ? applyWriteAheadLog(image, wal) : image;
}

/** The path is resolved inside its root: a symlink left there is refused, as anything but a regular file. */
function readDatabaseFile(path: string): Promise<Buffer> {
  return readInputChunked(path, 'rpmDatabase', 'none');
}

async function readOptionalFile(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readDatabaseFile(path);
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadableDatabase(path, err);
  }
}

/** SQLite's own structural check of the b-trees; catches truncated and scrambled files. */
function checkIntegrity(path: string, db: initSqlJs.Database): void {
  const result = db.exec('PRAGMA quick_check');
  const messages = result[0]?.values.map((row) => String(row[0])) ?? [];
  if (messages.length !== 1 || messages[0] !== 'ok') {
    throw damagedDatabase(path, KIND, `sqlite integrity check: ${messages.slice(0, 3).join('; ')}`);
  }
}

function packageRow(path: string, row: initSqlJs.SqlValue[]): { hnum: number; blob: Uint8Array } {
  const [hnum, blob] = row;
  if (typeof hnum !== 'number' || !(blob instanceof Uint8Array)) {
    throw damagedDatabase(path, KIND, `Packages row ${String(hnum)} does not hold a header blob`);
  }
  return { hnum, blob };
}

/** sql.js reports SQLite failures as plain Errors; ours are MediaComposeErrors. */
function isSqliteError(err: unknown): err is Error {
  return err instanceof Error && !(err instanceof MediaComposeError);
}
