/**
 * The compose summary at the top of `plan`: what the compose file amounts to once defaults are
 * applied (medium folder, compression and level, archs, metadata paths, layering, budget). Pure.
 */
import { FORMATS } from '../formats/registry.js';
import { type ComposeSpec, ISO9660_FILE_LIMIT } from '../config/spec.js';

export interface ComposeSummary {
  readonly compose: string;
  readonly medium: string;
  readonly compression: string;
  readonly level: number;
  readonly extension: string;
  readonly archs: readonly string[];
  readonly imagesets: number;
  readonly declared_images: readonly string[];
  readonly metadata: readonly string[];
  readonly layering: { readonly auto: boolean; readonly min_size: number };
  readonly budget: { readonly medium: number | null; readonly file: number | null; readonly file_warning: number | null };
}

export function composeSummary(spec: ComposeSpec): ComposeSummary {
  return {
    compose: spec.file,
    medium: `${spec.medium}/images`,
    compression: spec.compression,
    level: spec.level,
    extension: FORMATS[spec.compression].extension,
    archs: [...new Set(spec.imagesets.map((s) => s.arch))],
    imagesets: spec.imagesets.length,
    declared_images: spec.images.map((i) => i.name),
    metadata: spec.metadata,
    layering: { auto: spec.layering.auto, min_size: spec.layering.minSize },
    budget: {
      medium: spec.budget.medium ?? null,
      file: spec.budget.file ?? null,
      file_warning: spec.budget.file === undefined ? ISO9660_FILE_LIMIT : null,
    },
  };
}

/** Bytes in the unit a person wrote: decimal when it is a round decimal number, else binary. */
export function size(bytes: number): string {
  const binary: Array<[number, string]> = [[1024 ** 4, 'TiB'], [1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']];
  const decimal: Array<[number, string]> = [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']];
  for (const [unit, name] of binary) if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name}`;
  for (const [unit, name] of decimal) if (bytes >= unit && bytes % (unit / 1000) === 0) return `${+(bytes / unit).toFixed(3)} ${name}`;
  return `${bytes} B`;
}
