/**
 * Typed errors. Every error genphys throws for bad input has a one-line message
 * that names the file or flag and what is wrong, so the CLI can print it as is.
 */

/** Base class of all genphys errors. */
export class GenphysError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line usage: unknown flag, wrong type, value out of range (exit 2). */
export class UsageError extends GenphysError {
  override readonly exitCode: number = 2;
}

/** A data file is malformed: wrong magic, truncated, inconsistent, unparsable. */
export class DataFormatError extends GenphysError {
  /**
   * @param file - path (or name) of the offending file
   * @param problem - what is wrong, as a short phrase
   */
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A checkpoint cannot be loaded: wrong kind, missing tensor, bad shape, bad length. */
export class CheckpointError extends GenphysError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A download failed or its checksum did not match. */
export class DownloadError extends GenphysError {
  constructor(
    readonly url: string,
    readonly problem: string,
  ) {
    super(`${url}: ${problem}`);
  }
}

/** Shapes or sizes that do not fit together (programming or configuration error). */
export class ShapeError extends GenphysError {}

/** Throws a {@link ShapeError} with `message` unless `cond` holds. */
export function assertShape(cond: boolean, message: string): asserts cond {
  if (!cond) throw new ShapeError(message);
}

/**
 * Training diverged: a loss or a parameter became NaN or infinite. The message names the
 * epoch/step or the tensor and suggests a lower learning rate; the last good checkpoint
 * is kept (exit 1).
 */
export class DivergenceError extends GenphysError {}

/** A run directory cannot be used as asked: exists without --resume/--force, conflicts, bad path. */
export class RunError extends GenphysError {
  override readonly exitCode: number = 2;
}

/**
 * A run stopped on SIGINT/SIGTERM after saving a resumable checkpoint. The CLI exits
 * 130 (128 + SIGINT), so a script can tell "interrupted" from "done".
 */
export class InterruptedError extends GenphysError {
  override readonly exitCode: number = 130;
}
