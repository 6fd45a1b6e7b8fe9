/**
 * The PostgreSQL databases a test file created, dropped after its last test by the setup file every test
 * file runs (test/support/setup-file.ts), so no test file has to remember to. Kept apart from
 * databases.ts so that the setup file loads neither the db package nor `pg` until something is dropped.
 */
const created: string[] = [];

/** Notes a database this test file created (freshDatabaseUrl). */
export function rememberPgDatabase(name: string): void {
  created.push(name);
}

/** Drops the PostgreSQL databases this test file created; runs after its last test. */
export async function dropTestDatabases(): Promise<void> {
  if (created.length === 0) return;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: process.env.FIELDPROOF_TEST_PG_URL });
  await admin.connect();
  try {
    for (const name of created.splice(0)) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
