import { createRequire } from 'node:module';
import type pg from 'pg';

/**
 * `pg` is loaded on first use, not when this package is imported: a SQLite installation never needs it,
 * and loading it costs every process (and the api's writer thread) ~15 MB of resident memory.
 */
let loaded: typeof pg | undefined;
function loadPg(): typeof pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof pg;
  return loaded;
}

const INT8_OID = 20;

/**
 * A pg pool whose BIGINT columns come back as numbers. Every BIGINT in the schema is a millisecond time,
 * an index or a size: all far below 2^53. A value beyond that is refused rather than rounded.
 */
export function createPostgresPool(
  connectionString: string,
  max = 10,
  onIdleError: (err: Error) => void = () => undefined,
): pg.Pool {
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString,
    max,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID && format !== 'binary') return parseSafeInteger;
        return pg.types.getTypeParser(oid, 'text') as (value: string) => unknown;
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client can die (server restart, admin termination). Without a listener the pool's 'error'
  // event would crash the process; the pool already drops the client and opens a new one when needed.
  pool.on('error', onIdleError);
  return pool;
}

function parseSafeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${value} does not fit a JavaScript number`);
  return n;
}
