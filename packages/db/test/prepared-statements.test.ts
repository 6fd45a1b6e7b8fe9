import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { preparedOnPostgres } from '@fieldproof/db';
import { TEST_PG_URL, databaseForTest } from '../../../test/support/databases.js';

describe.skipIf(TEST_PG_URL === '')('statements prepared on PostgreSQL', () => {
  it('runs a registered text as a named statement, prepared once per connection; others unnamed', async () => {
    const database = await databaseForTest('postgres');
    const text = preparedOnPostgres(
      'SELECT $1::int + 1 AS n, (SELECT count(*) FROM pg_prepared_statements) AS held',
    );
    expect(preparedOnPostgres(text)).toBe(text); // registering again changes nothing
    await database.db.connection().execute(async (db) => {
      const prepared = async () =>
        (
          await sql<{
            statement: string;
            calls: number | string;
          }>`SELECT statement, generic_plans + custom_plans AS calls FROM pg_prepared_statements`.execute(db)
        ).rows;
      expect(await prepared()).toEqual([]);
      for (const n of [1, 2, 3]) {
        const { rows } = await db.executeQuery<{ n: number }>(CompiledQuery.raw(text, [n]));
        expect(rows[0]!.n).toBe(n + 1);
      }
      // One statement, this text, run three times; the unregistered queries above left nothing prepared.
      const held = await prepared();
      expect(held.map((p) => [p.statement, Number(p.calls)])).toEqual([[text, 3]]);
    });
  });
});
