/**
 * gzip through zlib, in-process, one thread per image. zlib's own header has MTIME 0, no file
 * name and OS 3 (Unix): no time of the build gets in. Members written one after the other read as
 * one stream. The installer reads it through GNU tar, which finds it by its magic bytes.
 */
import zlib from 'node:zlib';
import { type CompressionFormat, settled } from './format.js';

export const gzip: CompressionFormat = {
  name: 'gzip',
  extension: 'tar.gz',
  levels: { min: 1, max: 9, usual: 6 },
  concatenates: true,
  installerReaders: ['tar'],
  matches: (head) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b,
  createCompressor: (level) => ({ stream: zlib.createGzip({ level, chunkSize: 1 << 20 }), done: settled }),
  createDecompressor: () => ({ stream: zlib.createGunzip({ chunkSize: 1 << 20 }), done: settled }),
  encoder: () => ({ name: 'zlib', version: process.versions.zlib }),
  usefulThreads: () => 1,
  heldInput: () => 0,
};
