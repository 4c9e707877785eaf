/**
 * Data paths that clients name, confined to the server's data root, and error messages cleaned of the
 * server's own paths. The check compares real paths (symbolic links resolved), so that a link inside the root
 * cannot lead out of it; and it says only "not allowed" or "not found" relative to the root, so that a client
 * learns nothing about the server's directories.
 *
 * @example
 * const root = await DataRoot.open('/srv/data');
 * await root.resolve('mnist');         // '/srv/data/mnist' (real path)
 * await root.resolve('../etc');        // throws PathError: data: path not allowed
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A client's data path that is refused; the message is safe to show to the client. */
export class PathError extends Error {
  override name = 'PathError';
}

export class DataRoot {
  private constructor(readonly real: string) {}

  /** The root's real path; throws when it does not exist or is not a directory (a server misconfiguration). */
  static async open(root: string): Promise<DataRoot> {
    const real = await fsp.realpath(root);
    if (!(await fsp.stat(real)).isDirectory()) throw new Error(`DATA_ROOT ${root} is not a directory`);
    return new DataRoot(real);
  }

  private inside(p: string): boolean {
    return p === this.real || p.startsWith(this.real + path.sep);
  }

  /**
   * The real path of `rel` under the root. Throws a `PathError` saying "not allowed" for an absolute path or
   * one that leads outside the root (through `..` or a link), and "not found" for one inside that does not
   * exist; the messages quote only what the client sent.
   */
  async resolve(rel: string): Promise<string> {
    const notAllowed = () => new PathError(`data: path '${rel}' is not allowed (data paths are relative to the server's data root and stay inside it)`);
    if (rel.includes('\0') || path.isAbsolute(rel)) throw notAllowed();
    const lexical = path.resolve(this.real, rel);
    if (!this.inside(lexical)) throw notAllowed();
    try {
      const real = await fsp.realpath(lexical);
      if (!this.inside(real)) throw notAllowed();
      return real;
    } catch (e) {
      if (e instanceof PathError) throw e;
      // It does not exist: before saying so, make sure its deepest existing ancestor is inside the root, else
      // "not found" vs "not allowed" would tell the client which paths exist outside it.
      let dir = path.dirname(lexical);
      for (;;) {
        const real = await fsp.realpath(dir).catch(() => undefined);
        if (real !== undefined) {
          if (!this.inside(real)) throw notAllowed();
          break;
        }
        dir = path.dirname(dir);
      }
      throw new PathError(`data: path '${rel}' was not found under the server's data root`);
    }
  }

  /** `abs` as a path relative to the root (for showing a job's config to its owner). */
  relative(abs: string): string {
    return this.inside(abs) ? path.relative(this.real, abs) || '.' : '<outside the data root>';
  }
}

/** Absolute paths in free text: a `/` not preceded by a word character, then path segments. */
const ABSOLUTE = /(?<![\w.~:/-])\/(?:[\w.@+~-]+\/?)+/g;

/**
 * `text` with server paths removed: paths under `root` become `DATA_ROOT/<relative path>`, every other absolute path
 * becomes `<server path>`. For errors that come from training (a data loader's message names its file).
 */
export function scrubPaths(text: string, root?: DataRoot): string {
  return text.replace(ABSOLUTE, (p) => {
    if (root && (p === root.real || p.startsWith(root.real + '/'))) {
      const rel = root.relative(p.replace(/\/$/, ''));
      return rel === '.' ? 'DATA_ROOT' : `DATA_ROOT/${rel}`;
    }
    return '<server path>';
  });
}
