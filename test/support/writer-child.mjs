// Commits evidence rows into the database named by API_DB_URL, one per transaction, as fast as it can,
// and prints each committed id on its own line AFTER its commit returned. Stops on SIGTERM or stdin end.
import { randomBytes } from 'node:crypto';
import {
  createDatabase,
  enqueueEvidence,
  migrate,
  newId,
  resolveDatabaseUrl,
} from '../../packages/db/dist/index.js';

const database = createDatabase(resolveDatabaseUrl(process.env));
await migrate(database);
let running = true;
process.on('SIGTERM', () => (running = false));
process.stdin.on('end', () => (running = false));
process.stdin.resume();
while (running) {
  const id = newId();
  await database.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('evidence')
      .values({
        id,
        digest: randomBytes(32).toString('hex'),
        kind: 'writer-test',
        source: 'digest',
        occurred_at: Date.now(),
        received_at: Date.now(),
        payload_mime: null,
        payload_size: null,
        payload_json: null,
        metadata: null,
        content_stored: 0,
      })
      .execute();
    await enqueueEvidence(trx, [{ id, received_at: Date.now() }]);
  });
  process.stdout.write(`${id}\n`);
  await new Promise((r) => setImmediate(r));
}
await database.close();
process.stdin.destroy(); // let the process exit
