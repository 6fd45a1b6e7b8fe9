// A process that migrates the database named by API_DB_URL, starting at START_AT (ms since epoch) so
// several children race for the same fresh database. Prints {"applied":[versions]} on success.
import { createDatabase, migrate, resolveDatabaseUrl } from '../../packages/db/dist/index.js';

const startAt = Number(process.env.START_AT ?? 0);
while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 1));
const database = createDatabase(resolveDatabaseUrl(process.env));
try {
  const applied = await migrate(database);
  process.stdout.write(JSON.stringify({ applied: applied.map((m) => m.version) }) + '\n');
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
