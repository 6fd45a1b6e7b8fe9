/**
 * The one place database errors are classified, for both engines, by code — never by message text.
 *
 * SQLite: better-sqlite3 turns on extended result codes, so `err.code` is e.g. `SQLITE_CONSTRAINT_UNIQUE`
 * (2067) rather than plain `SQLITE_CONSTRAINT` (19). PostgreSQL: `err.code` is the SQLSTATE.
 */
export type DbErrorClass =
  | 'unique'
  | 'primary_key'
  | 'foreign_key'
  | 'not_null'
  | 'check'
  | 'append_only'
  | 'retryable'
  | 'storage_full'
  | 'other';

/** SQLite extended result codes we act on (sqlite3.h). */
export const SQLITE_EXTENDED_CODES = {
  SQLITE_BUSY: 5,
  SQLITE_LOCKED: 6,
  SQLITE_FULL: 13,
  SQLITE_CONSTRAINT_CHECK: 275,
  SQLITE_BUSY_RECOVERY: 261,
  SQLITE_LOCKED_SHAREDCACHE: 262,
  SQLITE_BUSY_SNAPSHOT: 517,
  SQLITE_BUSY_TIMEOUT: 773,
  SQLITE_CONSTRAINT_FOREIGNKEY: 787,
  SQLITE_CONSTRAINT_NOTNULL: 1299,
  SQLITE_CONSTRAINT_PRIMARYKEY: 1555,
  SQLITE_CONSTRAINT_TRIGGER: 1811,
  SQLITE_CONSTRAINT_UNIQUE: 2067,
} as const;

const SQLITE_CLASSES: Readonly<Record<string, DbErrorClass>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'primary_key',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_TRIGGER: 'append_only',
  SQLITE_BUSY: 'retryable',
  SQLITE_BUSY_RECOVERY: 'retryable',
  SQLITE_BUSY_SNAPSHOT: 'retryable',
  SQLITE_BUSY_TIMEOUT: 'retryable',
  SQLITE_LOCKED: 'retryable',
  SQLITE_LOCKED_SHAREDCACHE: 'retryable',
  SQLITE_FULL: 'storage_full', // "database or disk is full"; SQLite has rolled the transaction back
};

// PostgreSQL has no separate primary-key code: a PRIMARY KEY violation is 23505 like any unique one.
const POSTGRES_CLASSES: Readonly<Record<string, DbErrorClass>> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23502': 'not_null',
  '23514': 'check',
  '23001': 'append_only',
  '40001': 'retryable', // serialization_failure
  '40P01': 'retryable', // deadlock_detected
  '55P03': 'retryable', // lock_not_available
  '53100': 'storage_full', // disk_full (on the database server)
};

/** Classifies an error thrown by either driver. Anything unrecognised is `'other'`. */
export function classifyDbError(err: unknown): DbErrorClass {
  const code = errorCode(err);
  if (code === undefined) return 'other';
  if (code.startsWith('SQLITE_')) return SQLITE_CLASSES[code] ?? 'other';
  return POSTGRES_CLASSES[code] ?? 'other';
}

/**
 * True when a write failed for lack of space: the database's (SQLITE_FULL, PostgreSQL 53100 disk_full) or
 * the filesystem's (ENOSPC, or EDQUOT past a quota, from the content store). Filesystem errors are
 * classified here too so that both processes ask one function.
 */
export function isStorageFull(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT' || classifyDbError(err) === 'storage_full';
}

/** True for a violation of a uniqueness rule (UNIQUE or PRIMARY KEY). */
export function isUniqueViolation(err: unknown): boolean {
  return isUniqueClass(classifyDbError(err));
}

/**
 * The same rule for an error already classified — e.g. a write result's `violation`, which crosses the
 * writer thread as its class, not as the error.
 */
export function isUniqueClass(c: string | undefined): boolean {
  return c === 'unique' || c === 'primary_key';
}

/** The name of the violated constraint, where the engine reports it (PostgreSQL only). */
export function violatedConstraint(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'constraint' in err && typeof err.constraint === 'string') {
    return err.constraint;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}
