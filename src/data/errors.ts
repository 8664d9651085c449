/**
 * Errors specific to data files and data sources. Both carry one-line messages
 * that name the file (or directory) and the problem, so the CLI prints them as is.
 */
import { DataFormatError, GenphysError } from '../core/errors.js';

/**
 * An IDX file (MNIST format) is malformed: bad gzip stream, wrong magic number,
 * unknown element type, inconsistent dimensions or byte length, or image and
 * label files that do not belong together.
 */
export class IdxFormatError extends DataFormatError {}

/**
 * A data file or dataset directory does not exist or cannot be read. The
 * message says where genphys looked and how to obtain the data.
 */
export class DataNotFoundError extends GenphysError {
  /**
   * @param path - the file or directory that was looked for
   * @param problem - what is missing, followed by how to get it
   */
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}
