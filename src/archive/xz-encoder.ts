/**
 * Who encodes xz and LZMA-alone: the `xz` program when it is installed (full speed, nothing to
 * compile), lzma-native otherwise. Both give the same bytes for the same level (proved by
 * test/archive/xz-encoder.test.ts):
 * - xz: liblzma's multithreaded block encoder with a CRC64 check, `xz -L -T<n> --check=crc64`;
 *   its output depends on the block size (fixed by the level), not on the thread count. One
 *   thread is `-T+1`, which keeps the multithreaded (block) format; that needs xz 5.4 or later,
 *   so an older xz is not used.
 * - lzma: `xz --format=lzma -L`, the same encoder as lzma-native's aloneEncoder with a preset.
 * MEDIACOMPOSE_XZ_ENCODER=lzma-native forces the library (for comparisons).
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { Duplex as DuplexStream } from 'node:stream';
import { onPath, programOutput, startFilter } from '../runtime/command.js';

const require = createRequire(import.meta.url);

interface LzmaNative {
  createStream(coder: string, options: Record<string, unknown>): Duplex;
  CHECK_CRC64: number;
  versionString(): string;
}

export interface XzEncoder {
  /** "xz" (the program) or "lzma-native". */
  readonly name: 'xz' | 'lzma-native';
  /** The program's version, or lzma-native's and its liblzma's. */
  readonly version: string;
}

export interface EncoderStream {
  readonly stream: Duplex;
  /** Settles when a helper process (if any) has exited; rejects on its failure. */
  readonly done: Promise<void>;
}

let lzmaNative: LzmaNative | undefined;
/** lzma-native, loaded once and only when an xz or lzma archive is written by it or read. */
export function lzma(): LzmaNative {
  lzmaNative ??= require('lzma-native') as LzmaNative;
  return lzmaNative;
}

let chosen: XzEncoder | undefined;

/** The encoder this process uses for xz and LZMA-alone (decided once). */
export function xzEncoder(): XzEncoder {
  chosen ??= choose();
  return chosen;
}

function choose(): XzEncoder {
  if (process.env.MEDIACOMPOSE_XZ_ENCODER !== 'lzma-native' && onPath('xz')) {
    // "xz (XZ Utils) 5.4.1"
    const version = /^xz \(XZ Utils\) (\d+)\.(\d+)\.(\d+)/.exec(programOutput(['xz', '--version']) ?? '');
    if (version && (Number(version[1]) > 5 || (Number(version[1]) === 5 && Number(version[2]) >= 4))) {
      return { name: 'xz', version: `${version[1]}.${version[2]}.${version[3]}` };
    }
  }
  const { version } = require('lzma-native/package.json') as { version: string };
  return { name: 'lzma-native', version: `${version} (liblzma ${lzma().versionString()})` };
}

/** An xz compressor: multithreaded block format, CRC64, the same bytes for any thread count. */
export function xzStream(level: number, threads: number): EncoderStream {
  const n = Math.max(1, threads);
  if (xzEncoder().name === 'xz') return program(['xz', `-${level}`, n === 1 ? '-T+1' : `-T${n}`, '--check=crc64', '-c']);
  return { stream: lzma().createStream('easyEncoder', { preset: level, threads: n, check: lzma().CHECK_CRC64 }), done: Promise.resolve() };
}

/** An LZMA-alone compressor (.lzma). */
export function lzmaAloneStream(level: number): EncoderStream {
  if (xzEncoder().name === 'xz') return program(['xz', '--format=lzma', `-${level}`, '-c']);
  // Always pass the preset: without it lzma-native's alone encoder uses a faster, larger mode.
  return { stream: lzma().createStream('aloneEncoder', { preset: level }), done: Promise.resolve() };
}

function program(argv: string[]): EncoderStream {
  const filter = startFilter(argv);
  return { stream: DuplexStream.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited };
}
