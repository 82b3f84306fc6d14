/**
 * A problem that stops the start and that the operator can fix (a folder that is not
 * writable, a saved file that does not parse): printed as its one-line message, without a
 * stack, and the process exits with code 1.
 *
 * @example
 * throw new StartError(`the data folder ${dir} is not writable (EACCES): …`);
 */
export class StartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartError';
  }
}
