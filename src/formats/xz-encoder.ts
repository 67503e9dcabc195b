/**
 * Who encodes xz and LZMA-alone: the `xz` program when it is installed (full speed, nothing to
 * compile), lzma-native otherwise. Both give the same bytes for the same level (proved by
 * test/archive/xz-encoder.slow.test.ts):
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
import type { EncoderReport } from './format.js';

export type { EncoderReport };

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
  /** Input bytes a helper process has read so far (absent in-process, undefined when unknown). */
  readonly inputRead?: () => number | undefined;
  /**
   * The xz program's own count, asked for every second: the input it has compressed and the
   * compressed bytes it has made, blocks still being compressed included. Absent in-process.
   */
  readonly onReport?: (listener: (report: EncoderReport) => void) => void;
}


/** How often xz is asked for its progress. */
const REPORT_MS = 1000;
/** xz's progress line on SIGUSR1: `  --- %   2.9 MiB / 12.4 MiB = 0.231   4.9 MiB/s   0:02` (compressed / uncompressed). */
const REPORT_LINE = /([\d.]+) (B|KiB|MiB|GiB|TiB) \/ ([\d.]+) (B|KiB|MiB|GiB|TiB) = /;
const UNIT = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

/** The numbers of xz's progress line, or undefined for another line. */
export function parseXzReport(line: string): EncoderReport | undefined {
  const m = REPORT_LINE.exec(line);
  if (!m) return undefined;
  const bytes = (value: string, unit: string): number => Math.round(Number(value) * UNIT[unit as keyof typeof UNIT]);
  return { encoded: bytes(m[1]!, m[2]!), consumed: bytes(m[3]!, m[4]!) };
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

/** The xz program; its progress lines (in the C locale: no digit grouping) go to the listener. */
function program(argv: string[]): EncoderStream {
  let listener: ((report: EncoderReport) => void) | undefined;
  const filter = startFilter(argv, {
    env: { LC_ALL: 'C' },
    onStderrLine: (line) => {
      const report = parseXzReport(line);
      if (report) listener?.(report);
      return report !== undefined;
    },
  });
  const onReport = (l: (report: EncoderReport) => void): void => {
    listener = l;
    const timer = setInterval(() => filter.poke('SIGUSR1'), REPORT_MS);
    timer.unref();
    filter.exited.then(() => clearInterval(timer), () => clearInterval(timer));
  };
  return { stream: DuplexStream.from({ writable: filter.stdin, readable: filter.stdout }), done: filter.exited, inputRead: filter.bytesRead, onReport };
}
