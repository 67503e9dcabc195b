/**
 * Every format, by name: the ones mediacompose writes (compose.yaml's `compression`) and the
 * ones it reads. Everything outside src/formats/ asks here.
 */
import { installerCommandLine, installerDecompressor, installerNameFor } from '../model/installer.js';
import { bzip2 } from './bzip2.js';
import type { Coder, CompressionFormat, ReadableFormat } from './format.js';
import { gzip } from './gzip.js';
import { lzma } from './lzma.js';
import { tar } from './tar.js';
import { xz } from './xz.js';

export type { Coder, CompressionFormat, Encoder, EncoderReport } from './format.js';

/** The formats mediacompose writes, in the order messages list them. */
export const FORMATS = { xz, lzma, bzip2, gzip } as const satisfies Record<string, CompressionFormat>;

/** A compression compose.yaml may name. */
export type CompressionName = keyof typeof FORMATS;

/** The format of an archive's content: a compression, or plain tar. */
export type ArchiveFormat = CompressionName | 'tar';

export const COMPRESSION_NAMES = Object.keys(FORMATS) as readonly CompressionName[];

/** compose.yaml's compression when it names none. */
export const DEFAULT_COMPRESSION: CompressionName = 'xz';

/** Every format read, in the order magic bytes are tried (LZMA-alone, without magic, last). */
const READABLE: readonly ReadableFormat[] = [xz, bzip2, gzip, tar, lzma];

export function isCompressionName(name: string): name is CompressionName {
  return Object.hasOwn(FORMATS, name);
}

/** The format from the first bytes of a file. */
export function detectFormat(head: Buffer): ArchiveFormat | undefined {
  return READABLE.find((f) => f.matches(head))?.name as ArchiveFormat | undefined;
}

function readable(format: ArchiveFormat): ReadableFormat {
  return READABLE.find((f) => f.name === format)!;
}

export function createDecompressor(format: ArchiveFormat): Coder {
  return readable(format).createDecompressor();
}

/** An archive's file name: `<stem>.<the format's extension>`. */
export function archiveFileName(stem: string, compression: CompressionName): string {
  return `${stem}.${FORMATS[compression].extension}`;
}

/** The file name suffixes of archives in every written format (".tar.xz", ...). */
export function archiveSuffixes(): string[] {
  return Object.values(FORMATS).map((f) => `.${f.extension}`);
}

/** The encoder as one string, e.g. "xz 5.4.1": part of the image cache's key, since another encoder may give other bytes. */
export function encoderId(format: CompressionFormat): string {
  const { name, version } = format.encoder();
  return `${name} ${version ?? 'unknown version'}`;
}

/** Whether the installer's command for this archive name deploys content of this format. */
export function installerCanRead(name: string, format: ArchiveFormat): boolean {
  return readable(format).installerReaders.includes(installerDecompressor(name));
}

/** One sentence on why the installer cannot deploy an archive, or undefined when it can. */
export function decompressorProblem(name: string, format: ArchiveFormat): string | undefined {
  if (installerCanRead(name, format)) return undefined;
  return `holds ${format} data, which the installer's \`${installerCommandLine(name)}\` cannot read: the installation aborts`;
}

/** How to make an unreadable archive readable: the names that fit its content. */
export function decompressorHint(format: ArchiveFormat): string {
  return `rename it to ${installerNameFor(readable(format).installerReaders[0]!)}, or recompress it`;
}
