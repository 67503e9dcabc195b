/**
 * Writes an rpm sqlite database (rpmdb.sqlite, the layout of rpm 4.16+'s lib/backend/sqlite.c)
 * for packages whose files are on disk: one header per package with the file list and each
 * file's mode, size, mtime, owner and sha256, so that `rpm -qa`, `rpm -ql`, `rpm -qf` and
 * `rpm -Va` work on it. The same packages give the same bytes. For the demo roots.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RpmType } from './header.js';
import { type HeaderValue, encodeHeaderBlob } from './header-writer.js';
import { digestFile } from '../scan/digest.js';
import { loadSqlJs } from './sqlite.js';

export interface DemoPackage {
  readonly name: string;
  readonly version: string;
  readonly release: string;
  readonly arch: string;
  /** Paths of its files inside the root, without a leading '/'. */
  readonly files: readonly string[];
}

/** rpm's index tables (key, and whether rpm indexes their hnum too); only some are filled. */
const INDEXES: ReadonlyArray<readonly [name: string, key: 'TEXT' | 'BLOB', hnumIndex: boolean]> = [
  ['Name', 'TEXT', false], ['Basenames', 'TEXT', true], ['Group', 'TEXT', false], ['Requirename', 'TEXT', true],
  ['Providename', 'TEXT', true], ['Conflictname', 'TEXT', true], ['Obsoletename', 'TEXT', true], ['Triggername', 'TEXT', true],
  ['Dirnames', 'TEXT', true], ['Installtid', 'BLOB', false], ['Sigmd5', 'BLOB', false], ['Sha1header', 'TEXT', false],
  ['Filetriggername', 'TEXT', true], ['Transfiletriggername', 'TEXT', true], ['Recommendname', 'TEXT', true],
  ['Suggestname', 'TEXT', true], ['Supplementname', 'TEXT', true], ['Enhancename', 'TEXT', true],
];

/** rpm tags of the headers written (rpmtag.h). */
const TAG = {
  name: 1000, version: 1001, release: 1002, size: 1009, os: 1021, arch: 1022, fileSizes: 1028, fileStates: 1029, fileModes: 1030,
  fileRdevs: 1033, fileMtimes: 1034, fileDigests: 1035, fileLinkTos: 1036, fileFlags: 1037, fileUserName: 1039,
  fileGroupName: 1040, sourceRpm: 1044, fileVerifyFlags: 1045, providename: 1047, fileDevices: 1095, fileInodes: 1096, fileLangs: 1097,
  dirIndexes: 1116, baseNames: 1117, dirNames: 1118, fileDigestAlgo: 5011,
} as const;
const SHA256 = 8;

/** Writes `root`/`dbPath`/rpmdb.sqlite for `packages`, reading their files from `root`. */
export async function writeRpmDatabase(root: string, dbPath: string, packages: readonly DemoPackage[]): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  try {
    db.run("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)");
    for (const [name, key, hnumIndex] of INDEXES) {
      db.run(`CREATE TABLE '${name}' (key '${key}' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))`);
      if (key === 'TEXT') db.run(`CREATE INDEX '${name}_key_idx' ON '${name}'(key ASC)`);
      if (hnumIndex) db.run(`CREATE INDEX '${name}_hnum_idx' ON '${name}'(hnum ASC)`);
    }
    let inode = 0;
    packages.forEach((pkg, i) => {
      const hnum = i + 1;
      const header = packageHeader(root, pkg, () => ++inode);
      db.run("INSERT INTO 'Packages' (hnum, blob) VALUES (?, ?)", [hnum, header.blob]);
      db.run("INSERT INTO 'Name' VALUES (?, ?, 0)", [pkg.name, hnum]);
      db.run("INSERT INTO 'Providename' VALUES (?, ?, 0)", [pkg.name, hnum]);
      header.baseNames.forEach((b, k) => db.run("INSERT INTO 'Basenames' VALUES (?, ?, ?)", [b, hnum, k]));
      header.dirNames.forEach((d, k) => db.run("INSERT INTO 'Dirnames' VALUES (?, ?, ?)", [d, hnum, k]));
    });
    const file = path.join(root, dbPath, 'rpmdb.sqlite');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, db.export());
  } finally {
    db.close();
  }
}

function packageHeader(root: string, pkg: DemoPackage, nextInode: () => number): { blob: Uint8Array; baseNames: string[]; dirNames: string[] } {
  const files = [...pkg.files].sort();
  const dirNames = [...new Set(files.map((f) => `/${path.posix.dirname(f)}/`))].sort();
  const stats = files.map((f) => fs.lstatSync(path.join(root, f)));
  // The scan's own digest: in chunks, and an error if a file changes size meanwhile.
  const digests = files.map((f, i) => {
    const s = stats[i]!;
    return digestFile(root, { path: f, type: 'file', mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: Math.floor(s.mtimeMs / 1000), size: s.size, devmajor: 0, devminor: 0 });
  });
  const baseNames = files.map((f) => path.posix.basename(f));
  const all = <T>(value: T): T[] => files.map(() => value);
  const strings = (tag: number, value: readonly string[]): HeaderValue => ({ tag, type: RpmType.stringArray, value });
  const int32 = (tag: number, value: readonly number[]): HeaderValue => ({ tag, type: RpmType.int32, value });
  const entries: HeaderValue[] = [
    { tag: TAG.name, type: RpmType.string, value: pkg.name },
    { tag: TAG.version, type: RpmType.string, value: pkg.version },
    { tag: TAG.release, type: RpmType.string, value: pkg.release },
    int32(TAG.size, [stats.reduce((n, s) => n + s.size, 0)]),
    { tag: TAG.os, type: RpmType.string, value: 'linux' },
    { tag: TAG.arch, type: RpmType.string, value: pkg.arch },
    int32(TAG.fileSizes, stats.map((s) => s.size)),
    // Each file installed normally (RPMFILE_STATE_NORMAL), as rpm records it at install.
    { tag: TAG.fileStates, type: RpmType.char, value: all(0) },
    { tag: TAG.fileModes, type: RpmType.int16, value: stats.map((s) => s.mode & 0xffff) },
    { tag: TAG.fileRdevs, type: RpmType.int16, value: all(0) },
    int32(TAG.fileMtimes, stats.map((s) => Math.floor(s.mtimeMs / 1000))),
    strings(TAG.fileDigests, digests),
    strings(TAG.fileLinkTos, all('')),
    int32(TAG.fileFlags, all(0)),
    strings(TAG.fileUserName, all('root')),
    strings(TAG.fileGroupName, all('root')),
    // Without it rpm takes the package for a source package.
    { tag: TAG.sourceRpm, type: RpmType.string, value: `${pkg.name}-${pkg.version}-${pkg.release}.src.rpm` },
    int32(TAG.fileVerifyFlags, all(0xffffffff)),
    strings(TAG.providename, [pkg.name]),
    int32(TAG.fileDevices, all(1)),
    int32(TAG.fileInodes, files.map(() => nextInode())),
    strings(TAG.fileLangs, all('')),
    int32(TAG.dirIndexes, files.map((f) => dirNames.indexOf(`/${path.posix.dirname(f)}/`))),
    strings(TAG.baseNames, baseNames),
    strings(TAG.dirNames, dirNames),
    int32(TAG.fileDigestAlgo, [SHA256]),
  ];
  return { blob: encodeHeaderBlob(entries), baseNames, dirNames };
}
