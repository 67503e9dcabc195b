/**
 * Folding an SQLite write-ahead log into the main database image, so that a copy read in memory
 * sees every committed transaction. rpm keeps rpmdb.sqlite in WAL mode and normally checkpoints
 * on exit, leaving an empty `-wal` file; a non-empty one means rpm was interrupted (or is still
 * running) and the newest committed changes live only in the log.
 *
 * WAL layout (sqlite.org/fileformat2.html, "The Write-Ahead Log"), integers big-endian:
 *   header, 32 bytes: magic 0x377f0682|0x377f0683, format version, page size, checkpoint
 *     sequence, salt-1, salt-2, checksum-1, checksum-2 (over the first 24 bytes)
 *   frames: 24-byte frame header (page number; database size in pages for the frame that
 *     commits a transaction, else 0; salt-1; salt-2; checksum-1; checksum-2) + one page.
 * A frame is valid when its salts match the header's and its checksum, which runs on from the
 * previous frame's (the header's for the first) over the first 8 bytes of the frame header and
 * the page, matches. Valid frames up to the last valid commit frame are applied; the rest are an
 * unfinished transaction or leftovers of an earlier log and are ignored, as SQLite does.
 * The checksum adds 32-bit words in big-endian order when the magic's low bit is set, else in
 * little-endian order.
 */

const WAL_MAGIC = 0x377f0682;
const WAL_HEADER_SIZE = 32;
const FRAME_HEADER_SIZE = 24;

/** The database image with the log's committed frames applied, or `db` itself when none apply. */
export function applyWriteAheadLog(db: Uint8Array, wal: Uint8Array): Uint8Array {
  const header = readWalHeader(wal);
  if (!header) return db;
  const dbPageSize = databasePageSize(db);
  if (dbPageSize !== undefined && dbPageSize !== header.pageSize) return db;
  const committed = committedFrames(wal, header);
  if (!committed) return db;

  const { pageSize } = header;
  const image = new Uint8Array(committed.databasePages * pageSize);
  image.set(db.subarray(0, Math.min(db.length, image.length)));
  for (const [pageNumber, frameOffset] of committed.latestFrameOfPage) {
    if (pageNumber > committed.databasePages) continue; // the transaction truncated the database
    const page = wal.subarray(frameOffset + FRAME_HEADER_SIZE, frameOffset + FRAME_HEADER_SIZE + pageSize);
    image.set(page, (pageNumber - 1) * pageSize);
  }
  return image;
}

interface WalHeader {
  pageSize: number;
  bigEndianChecksum: boolean;
  salt1: number;
  salt2: number;
  checksum: Checksum;
}

type Checksum = [number, number];

function readWalHeader(wal: Uint8Array): WalHeader | undefined {
  if (wal.length < WAL_HEADER_SIZE) return undefined;
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const magic = view.getUint32(0, false);
  if ((magic & ~1) !== WAL_MAGIC) return undefined;
  const pageSize = view.getUint32(8, false);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const bigEndianChecksum = (magic & 1) === 1;
  const checksum = walChecksum(wal.subarray(0, 24), bigEndianChecksum, [0, 0]);
  if (checksum[0] !== view.getUint32(24, false) || checksum[1] !== view.getUint32(28, false)) return undefined;
  return { pageSize, bigEndianChecksum, salt1: view.getUint32(16, false), salt2: view.getUint32(20, false), checksum };
}

/** Page size from the database header (offset 16, big-endian u16; 1 stands for 65536). */
function databasePageSize(db: Uint8Array): number | undefined {
  if (db.length < 100) return undefined;
  const raw = (db[16]! << 8) | db[17]!;
  return raw === 1 ? 65536 : raw;
}

interface CommittedFrames {
  databasePages: number;
  /** For each page, the offset in the log of its newest committed frame. */
  latestFrameOfPage: Map<number, number>;
}

function committedFrames(wal: Uint8Array, header: WalHeader): CommittedFrames | undefined {
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const frameSize = FRAME_HEADER_SIZE + header.pageSize;
  const validFrames: { pageNumber: number; offset: number }[] = [];
  let committedCount = 0;
  let databasePagesAtCommit = 0;
  let checksum = header.checksum;
  for (let offset = WAL_HEADER_SIZE; offset + frameSize <= wal.length; offset += frameSize) {
    const pageNumber = view.getUint32(offset, false);
    const databasePages = view.getUint32(offset + 4, false);
    if (view.getUint32(offset + 8, false) !== header.salt1 || view.getUint32(offset + 12, false) !== header.salt2) break;
    checksum = walChecksum(wal.subarray(offset, offset + 8), header.bigEndianChecksum, checksum);
    checksum = walChecksum(wal.subarray(offset + FRAME_HEADER_SIZE, offset + frameSize), header.bigEndianChecksum, checksum);
    if (checksum[0] !== view.getUint32(offset + 16, false) || checksum[1] !== view.getUint32(offset + 20, false)) break;
    if (pageNumber === 0) break;
    validFrames.push({ pageNumber, offset });
    if (databasePages !== 0) {
      committedCount = validFrames.length;
      databasePagesAtCommit = databasePages;
    }
  }
  if (committedCount === 0) return undefined;
  const latestFrameOfPage = new Map<number, number>();
  for (const frame of validFrames.slice(0, committedCount)) latestFrameOfPage.set(frame.pageNumber, frame.offset);
  return { databasePages: databasePagesAtCommit, latestFrameOfPage };
}

/** SQLite's WAL checksum: two running 32-bit sums over pairs of words. */
function walChecksum(bytes: Uint8Array, bigEndian: boolean, [start0, start1]: Checksum): Checksum {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s0 = start0;
  let s1 = start1;
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    s0 = (s0 + view.getUint32(i, !bigEndian) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, !bigEndian) + s0) >>> 0;
  }
  return [s0, s1];
}
