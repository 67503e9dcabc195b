/** What an estimate of compressed sizes says: the figures plan's budget check judges and archive/estimate.ts measures. */
export interface Estimate {
  /** Estimated compressed bytes. */
  readonly bytes: number;
  readonly low: number;
  readonly high: number;
}

export interface ImageEstimate extends Estimate {
  readonly file: string;
  /** Exact uncompressed tar bytes. */
  readonly tar_bytes: number;
  /** Tar bytes that went through the compressor. */
  readonly sampled: number;
  /** True when the whole image was compressed (bytes is then exact). */
  readonly exact: boolean;
}

export interface MediumEstimate extends Estimate {
  readonly images: readonly ImageEstimate[];
  readonly sampled: number;
  readonly seconds: number;
}
