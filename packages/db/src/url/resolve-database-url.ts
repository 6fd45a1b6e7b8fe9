import path from 'node:path';

/** Where the database lives, as resolved from the URL chain. */
export type DatabaseTarget =
  | { readonly engine: 'sqlite'; readonly url: string; readonly variable: string; readonly path: string }
  | { readonly engine: 'postgres'; readonly url: string; readonly variable: string };

export const DEFAULT_DATABASE_URL = 'sqlite://blockchain_outbox.sqlite3';

/** The variables consulted, in order. Both processes use this one chain so they never disagree. */
export const DATABASE_URL_VARIABLES = ['API_DB_URL', 'KEEPER_DB_URL'] as const;

/** A database URL that cannot be used. `message` is the one line an operator sees. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`${variable}=${JSON.stringify(redactUrl(value))} is not a usable database URL: ${reason}`);
  }
}

/**
 * Resolves `API_DB_URL` → `KEEPER_DB_URL` → `sqlite://blockchain_outbox.sqlite3`.
 * An empty variable counts as unset. Pure: creates no file and opens nothing.
 * `sqlite://rel/path` is relative to `cwd`; `sqlite:///abs/path` is absolute.
 */
export function resolveDatabaseUrl(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): DatabaseTarget {
  for (const variable of DATABASE_URL_VARIABLES) {
    const value = env[variable];
    if (value !== undefined && value.trim() !== '') return parseDatabaseUrl(value.trim(), variable, cwd);
  }
  return parseDatabaseUrl(DEFAULT_DATABASE_URL, 'default', cwd);
}

/** Parses one database URL; `variable` names where it came from, for the error line. */
export function parseDatabaseUrl(
  value: string,
  variable: string,
  cwd: string = process.cwd(),
): DatabaseTarget {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new DatabaseUrlError(variable, value, 'expected sqlite://path, sqlite:///abs/path or postgres://…');
  }
  if (scheme === 'sqlite') return parseSqliteUrl(value, variable, cwd);
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgresUrl(value, variable);
  throw new DatabaseUrlError(
    variable,
    value,
    `unsupported scheme "${scheme}:" (use sqlite:// or postgres://)`,
  );
}

function parseSqliteUrl(value: string, variable: string, cwd: string): DatabaseTarget {
  const rest = value.slice('sqlite://'.length);
  if (/[?#]/.test(rest)) {
    throw new DatabaseUrlError(variable, value, 'a sqlite URL takes no query string or fragment');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new DatabaseUrlError(variable, value, 'malformed percent-encoding in the path');
  }
  if (decoded === '' || decoded === '/')
    throw new DatabaseUrlError(variable, value, 'the file path is empty');
  if (decoded.includes('\0')) throw new DatabaseUrlError(variable, value, 'the path contains a NUL byte');
  if (decoded.endsWith('/'))
    throw new DatabaseUrlError(variable, value, 'the path names a folder, not a file');
  if (decoded.startsWith(':memory:')) {
    throw new DatabaseUrlError(variable, value, 'an in-memory database cannot be shared by api and keeper');
  }
  const filePath = decoded.startsWith('/') ? path.normalize(decoded) : path.resolve(cwd, decoded);
  return Object.freeze({ engine: 'sqlite', url: value, variable, path: filePath });
}

function parsePostgresUrl(value: string, variable: string): DatabaseTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DatabaseUrlError(variable, value, 'not a valid URL');
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' && !url.searchParams.has('database')) {
    throw new DatabaseUrlError(variable, value, 'no database name (postgres://user@host:5432/dbname)');
  }
  return Object.freeze({ engine: 'postgres', url: value, variable });
}

/** Hides a password in a URL before it reaches a log line or an error message. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
