/**
 * The progress interface the core reports through: what a command tells about itself while it
 * runs. The renderers (bars, lines) live in cli/render/; core code imports only this.
 */

/**
 * What a build tells about itself. info and warn are all a renderer must handle; the image
 * events are optional, for renderers that draw the compression as it goes.
 */
export interface Progress {
  /** A step started or finished. */
  info(message: string): void;
  /** Something the user should know about the input (a skipped socket, ...). */
  warn(message: string): void;
  /** Compression of these images begins; each one then starts, grows and finishes. */
  compressionStarted?(images: readonly ImageToWrite[]): void;
  imageStarted?(file: string): void;
  /** Uncompressed bytes of the image produced so far (called often: renderers throttle). */
  imageBytes?(file: string, bytes: number): void;
  imageFinished?(file: string): void;
  /** The command is done (or failed): stop drawing and leave the terminal as it was. */
  close?(): void;
}

export interface ImageToWrite {
  /** Its file name on the medium, e.g. kde-x86_64.tar.xz. */
  readonly file: string;
  /** Where it is being written; its size so far is the compressed bytes so far. */
  readonly path: string;
  /** Uncompressed tar bytes it will hold. */
  readonly bytes: number;
}

export const silentProgress: Progress = { info: () => {}, warn: () => {} };
