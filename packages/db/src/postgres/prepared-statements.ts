import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * Statements PostgreSQL prepares once per connection. kysely sends every query unnamed, so the server
 * parses, analyses and plans it on every run; for a statement run hundreds of times a second that is a
 * large share of its cost (the collector's append of a push: 3.0–3.5 ms of server CPU per push of 100
 * leaves unnamed, 2.5–3.0 ms named, measured on one connection). A statement registered here by its exact
 * text is sent as a pg named statement instead: parsed and planned on its first run on a connection,
 * then only bound and executed.
 *
 * Register only hand-written statements with a fixed result shape (explicit columns, no `SELECT *`): a
 * prepared statement whose result columns change under it (a migration run by another replica) fails
 * with "cached plan must not change result type". A pooler between the process and PostgreSQL must keep
 * prepared statements per server connection (PgBouncer 1.21+ with `max_prepared_statements`).
 */
const namesByText = new Map<string, string>();

/**
 * Registers `text` to run as a named statement on PostgreSQL (registering it again is a no-op); returns
 * `text`. On SQLite a registered text is an ordinary statement (its own statement cache prepares it once).
 */
export function preparedOnPostgres(text: string): string {
  if (!namesByText.has(text)) namesByText.set(text, `fieldproof_${namesByText.size + 1}`);
  return text;
}

/** `pool` as kysely's dialect takes it, running registered statements by name. */
export function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      // kysely calls query(sql, parameters); query(cursor), for a stream, is passed on as it is.
      const wrapped = {
        query(sqlOrCursor: unknown, parameters?: readonly unknown[]) {
          if (typeof sqlOrCursor === 'string') {
            const name = namesByText.get(sqlOrCursor);
            if (name !== undefined) {
              return client.query({ name, text: sqlOrCursor, values: parameters as unknown[] });
            }
            return client.query(sqlOrCursor, parameters as unknown[]);
          }
          return client.query(sqlOrCursor as pg.Submittable);
        },
        release: () => client.release(),
      };
      return wrapped as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}
