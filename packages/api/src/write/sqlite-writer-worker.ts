// The SQLite writer thread (see sqlite-writer-thread.ts): its own connection, one batch at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabase } from '@fieldproof/db';
import type { DatabaseTarget, SqliteOptions } from '@fieldproof/db';
import { applyWrites } from './apply-writes.js';
import type { WriterBatch, WriterReply } from './sqlite-writer-thread.js';
import type { WriteRequest } from './write-request.js';

type Message = WriterBatch | { type: 'close' };

const { target, sqlite } = workerData as { target: DatabaseTarget; sqlite: SqliteOptions };
const database = createDatabase(target, { sqlite });
const port = parentPort!;

// Messages are handled strictly in order: a batch is committed before the next one (or close) starts.
let chain = Promise.resolve();
port.on('message', (message: Message) => {
  chain = chain.then(() => handle(message));
});

async function handle(message: Message): Promise<void> {
  if (message.type === 'close') {
    await database.close();
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    const results = await applyWrites(database.db, JSON.parse(message.requests) as WriteRequest[]);
    reply = results.every((r) => r.ok && r.row === undefined)
      ? { id: message.id, allOk: true }
      : { id: message.id, results: JSON.stringify(results) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    reply = {
      id: message.id,
      error: {
        message: err instanceof Error ? err.message : String(err),
        ...(typeof code === 'string' ? { code } : {}),
      },
    };
  }
  port.postMessage(reply);
}
