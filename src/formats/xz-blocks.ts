/**
 * Follows an xz stream as the encoder writes it out, block by block, and counts the
 * uncompressed bytes of the blocks it has finished: what the encoder has really consumed.
 * liblzma's multithreaded encoder (the xz program with -T, lzma-native with threads) writes a
 * block only once it is compressed, its header first, with the block's compressed and
 * uncompressed sizes; until then the input it holds (a block per thread, 24 MiB each at level
 * 6) shows nowhere in its output. A block counts from its header on: the xz program keeps the
 * last few KiB of a block in its output buffer until the next one fills it. The stream format is that of the .xz file format specification 1.1.0:
 * a 12-byte stream header, then blocks (header, compressed data padded to four bytes, check),
 * then the index, whose first byte is 0.
 */

/** Check field sizes by check ID (the low four bits of the stream flags' second byte). */
const CHECK_BYTES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const STREAM_HEADER = 12;

export class XzBlockScanner {
  /**
   * Uncompressed bytes of the blocks whose header was written; undefined when a block header
   * does not carry both sizes (a single-threaded encoder's), so nothing is known.
   */
  completed: number | undefined = 0;
  /** Bytes of the current header read so far (stream header, then each block header). */
  private header = Buffer.alloc(1024);
  private have = 0;
  private state: 'stream' | 'block' | 'body' | 'end' = 'stream';
  private checkBytes = 0;
  /** In 'body': bytes left of the current block. */
  private left = 0;

  /** Takes the next bytes of the compressed stream, in order. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state !== 'end') {
      if (this.state === 'body') {
        const n = Math.min(this.left, chunk.length - at);
        this.left -= n;
        at += n;
        if (this.left === 0) this.state = 'block';
        continue;
      }
      // A header: the stream's, or a block's whose size its first byte gives.
      const size = this.state === 'stream' ? STREAM_HEADER : this.have === 0 ? 1 : (this.header[0]! + 1) * 4;
      const n = Math.min(size - this.have, chunk.length - at);
      chunk.copy(this.header, this.have, at, at + n);
      this.have += n;
      at += n;
      if (this.have < size) continue;
      if (this.state === 'stream') this.streamHeader();
      else if (size === 1 && this.header[0] === 0) this.state = 'end'; // the index: every block is out
      else if (size > 1) this.blockHeader();
    }
  }

  private streamHeader(): void {
    this.checkBytes = CHECK_BYTES[this.header[7]! & 0x0f]!;
    this.have = 0;
    this.state = 'block';
  }

  /** Flags byte: bit 6 compressed size present, bit 7 uncompressed size present; then the sizes. */
  private blockHeader(): void {
    const flags = this.header[1]!;
    this.have = 0;
    if ((flags & 0xc0) !== 0xc0) {
      this.completed = undefined;
      this.state = 'end';
      return;
    }
    const compressed = varint(this.header, 2);
    const uncompressed = varint(this.header, compressed.next);
    const headerBytes = (this.header[0]! + 1) * 4;
    // The block's bytes after its header: data, padding to a multiple of four, check.
    this.left = compressed.value + ((4 - ((headerBytes + compressed.value) % 4)) % 4) + this.checkBytes;
    this.completed! += uncompressed.value;
    this.state = this.left > 0 ? 'body' : 'block';
  }
}

/** An xz variable-length integer: seven bits a byte, least significant first. */
function varint(buffer: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = buffer[at + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return { value, next: at + 9 };
}
