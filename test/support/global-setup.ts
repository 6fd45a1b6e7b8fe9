/** Says once, up front, which engines the storage suites run on. */
export default function setup(): void {
  if ((process.env.FIELDPROOF_TEST_PG_URL ?? '') === '') {
    console.log(
      '\n[fieldproof] FIELDPROOF_TEST_PG_URL is not set: the PostgreSQL suites are SKIPPED (SQLite suites run).\n',
    );
  } else {
    console.log('\n[fieldproof] PostgreSQL suites run against FIELDPROOF_TEST_PG_URL.\n');
  }
}
