import { v7 } from 'uuid';

/**
 * A new time-sortable id (UUIDv7, lowercase). Monotonic within a process, so ids created in order sort
 * in order even within one millisecond.
 */
export function newId(): string {
  return v7();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a lowercase canonical UUID string. */
export function isId(value: string): boolean {
  return UUID.test(value);
}
