/**
 * The error every data loader throws for a missing or malformed file. Its message names the path, what was
 * expected and how to get the data; `path` repeats the path for code that wants to act on it.
 *
 * @example
 * try { loadMnist({ dir: '/nowhere' }); } catch (e) { if (e instanceof DataError) console.error(e.message); }
 */
export class DataError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = 'DataError';
    this.path = path;
  }
}
