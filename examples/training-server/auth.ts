/**
 * Bearer-token authentication for the example server. Tokens come from `API_TOKENS` (comma-separated
 * `token:name[:admin]`) or a file (`API_TOKENS_FILE`, the same entries one per line, `#` comments). The server
 * keeps only each token's SHA-256 and compares digests in constant time (`crypto.timingSafeEqual`), so that
 * neither a memory dump nor response timing gives a token away.
 *
 * @example
 * const tokens = TokenTable.parse('s3cret-token-for-ada-0001:ada:admin,another-long-token-0002:bob');
 * tokens.check('Bearer s3cret-token-for-ada-0001');   // { name: 'ada', admin: true }
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';

/** Who a request comes from. */
export interface Principal {
  name: string;
  admin: boolean;
}

interface Entry extends Principal {
  digest: Buffer;
}

/** Shorter tokens are refused: a guessable token is no authentication. */
export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A configuration mistake in the token list; the message never contains a token. */
export class TokenConfigError extends Error {
  override name = 'TokenConfigError';
}

export class TokenTable {
  private readonly entries: Entry[];

  private constructor(entries: Entry[]) {
    this.entries = entries;
  }

  /** No tokens: the server is open (allowed only on a loopback address). */
  static empty(): TokenTable {
    return new TokenTable([]);
  }

  /**
   * Parses `token:name[:admin]` entries separated by commas or newlines (`source` names where they came from
   * in errors: `API_TOKENS`, or the file). Throws a `TokenConfigError` naming the entry by its position and
   * name, never by its token.
   */
  static parse(text: string, source = 'API_TOKENS'): TokenTable {
    const entries: Entry[] = [];
    const names = new Set<string>();
    const digests = new Set<string>();
    const items = text
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter((s) => s !== '' && !s.startsWith('#'));
    items.forEach((item, i) => {
      const where = `${source} entry ${i + 1}`;
      const parts = item.split(':');
      if (parts.length < 2 || parts.length > 3) throw new TokenConfigError(`${where}: expected token:name or token:name:admin`);
      const [token, name, role] = parts;
      if (!NAME.test(name)) throw new TokenConfigError(`${where}: name must be 1-64 of A-Z a-z 0-9 _ . @ -`);
      if (token.length < MIN_TOKEN_LENGTH) throw new TokenConfigError(`${where} (${name}): the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
      if (role !== undefined && role !== 'admin') throw new TokenConfigError(`${where} (${name}): the role must be 'admin' or absent, got '${role}'`);
      if (names.has(name)) throw new TokenConfigError(`${where}: the name '${name}' appears twice`);
      const d = digest(token);
      if (digests.has(d.toString('hex'))) throw new TokenConfigError(`${where} (${name}): the same token is given to two names`);
      names.add(name);
      digests.add(d.toString('hex'));
      entries.push({ name, admin: role === 'admin', digest: d });
    });
    return new TokenTable(entries);
  }

  /** The tokens in `API_TOKENS` and the file named by `API_TOKENS_FILE` (both may be given). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): TokenTable {
    const parts: Entry[] = [];
    if (env.API_TOKENS) parts.push(...TokenTable.parse(env.API_TOKENS, 'API_TOKENS').entries);
    if (env.API_TOKENS_FILE) {
      let text: string;
      try {
        text = fs.readFileSync(env.API_TOKENS_FILE, 'utf8');
      } catch (e) {
        throw new TokenConfigError(`API_TOKENS_FILE ${env.API_TOKENS_FILE} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      parts.push(...TokenTable.parse(text, `API_TOKENS_FILE ${env.API_TOKENS_FILE}`).entries);
    }
    const names = new Set<string>();
    for (const p of parts) {
      if (names.has(p.name)) throw new TokenConfigError(`the name '${p.name}' is in both API_TOKENS and API_TOKENS_FILE`);
      names.add(p.name);
    }
    return new TokenTable(parts);
  }

  /** Number of tokens. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Who an `Authorization` header belongs to, or undefined for none, a malformed one or an unknown token.
   * Every stored digest is compared (no early exit), each in constant time.
   */
  check(header: string | undefined): Principal | undefined {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return undefined;
    const d = digest(m[1]);
    let found: Entry | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, d) && !found) found = e;
    }
    return found ? { name: found.name, admin: found.admin } : undefined;
  }
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}
