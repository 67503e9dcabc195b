/** A plain, uncompressed tar: read (a hand-made medium may hold one), never written. */
import { PassThrough } from 'node:stream';
import { type ReadableFormat, settled } from './format.js';

export const tar: ReadableFormat = {
  name: 'tar',
  installerReaders: ['tar'],
  matches: (head) => head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar',
  createDecompressor: () => ({ stream: new PassThrough(), done: settled }),
};
