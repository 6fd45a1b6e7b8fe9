import { isId } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';

/** A position in a list: the sort key and id of the last row of the previous page. */
export interface CursorPosition {
  readonly key: number;
  readonly id: string;
}

/**
 * Cursors are opaque to clients: base64url of `[scope, key, id]`, where `scope` names the list, sort key
 * and order it was issued for (e.g. `evidence:receivedAt:asc`). Pages follow by (key, id) — never by
 * OFFSET — so inserts between requests cause neither duplicates nor skips.
 */
export function encodeCursor(scope: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify([scope, position.key, position.id]), 'utf8').toString('base64url');
}

/** Decodes a cursor issued for `scope`; FP_INVALID_CURSOR for anything else. */
export function decodeCursor(scope: string, cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new errors.InvalidCursor('the cursor is not one this server issued');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    typeof parsed[1] !== 'number' ||
    !Number.isSafeInteger(parsed[1]) ||
    typeof parsed[2] !== 'string' ||
    !isId(parsed[2])
  ) {
    throw new errors.InvalidCursor('the cursor is not one this server issued');
  }
  if (parsed[0] !== scope) {
    throw new errors.InvalidCursor(`the cursor belongs to another list or order (${String(parsed[0])})`);
  }
  return { key: parsed[1], id: parsed[2] };
}
