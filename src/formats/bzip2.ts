/**
 * bzip2 through the system's lbzip2 (parallel, a block per thread) or bzip2: both write the same
 * stream format, blocks of 100 kB per level. Streams written one after the other read as one. The
 * installer reads it through GNU tar, which finds it by its magic bytes.
 */
import { Duplex } from 'node:stream';
import { onPath, programOutput, startFilter } from '../runtime/command.js';
import type { CompressionFormat, Coder } from './format.js';

/** bzip2's block is 100 kB per level. */
const BLOCK = 100_000;

function filterCoder(argv: readonly string[]): Coder {
  const filter = startFilter(argv);
  return { stream: Duplex.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited, inputRead: filter.bytesRead };
}

const program = (): string => (onPath('lbzip2') ? 'lbzip2' : 'bzip2');

export const bzip2: CompressionFormat = {
  name: 'bzip2',
  extension: 'tar.bzip2',
  levels: { min: 1, max: 9, usual: 9 },
  concatenates: true,
  installerReaders: ['tar'],
  matches: (head) => head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68,
  createCompressor: (level, threads) =>
    filterCoder(program() === 'lbzip2' ? ['lbzip2', `-${level}`, `-n${Math.max(1, threads)}`, '-c'] : ['bzip2', `-${level}`, '-c']),
  createDecompressor: () => filterCoder([program(), '-dc']),
  encoder: () => {
    const name = program();
    // "lbzip2 version 2.5"; "bzip2, a block-sorting file compressor.  Version 1.0.8, 13-Jul-2019."
    return { name, version: /[Vv]ersion ([0-9][^\s,]*)/.exec(programOutput([name, '--version']) ?? '')?.[1] };
  },
  usefulThreads: (level, tarBytes) => Math.max(1, Math.ceil(tarBytes / (BLOCK * level))),
  // lbzip2 holds a block per thread before its output shows it.
  heldInput: (level, threads) => BLOCK * level * Math.max(1, threads),
};
