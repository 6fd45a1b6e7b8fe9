// The SQLite writer thread (see sqlite-writer-thread.ts): its own better-sqlite3 connection, no kysely
// (it would cost the thread ~22 MB more); each transaction commits every batch that arrived while the
// previous one was committing. Started by startWorker: erasable TypeScript, relative imports by `.ts`.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '@fieldproof/db/raw-sqlite';
import { applyWritesIn } from './apply-writes.ts';
import { CommitQueue } from './commit-queue.ts';
import { sqliteWriteSession } from './sqlite-write-session.ts';
import type { WriterBatch, WriterData, WriterReply } from './writer-messages.js';
import type { WriteRequest } from './write-request.js';

type Message = WriterBatch | { type: 'close' };

interface Queued {
  readonly id: number;
  readonly requests: WriteRequest[];
}

const { target, sqlite, maxTransactionWrites } = workerData as WriterData;
if (target.engine !== 'sqlite') throw new Error('the writer thread writes SQLite only');
const handle = openSqlite(target.path, sqlite);
// A multi-row insert inside a transaction keeps a statement journal (to undo just that statement on a
// constraint error). By default it is a temporary FILE, which costs system time on every batch and, on
// an SD card, wear; in memory it is bounded by one transaction's rows. It holds nothing that must
// survive a crash.
handle.pragma('temp_store = MEMORY');
const session = sqliteWriteSession(handle);
const port = parentPort!;

// Messages arrive in order; each is only queued here. The queue commits from setImmediate, after the
// event loop has delivered every message that arrived meanwhile, so one transaction takes them all.
const queue = new CommitQueue<Queued>({
  maxWeight: maxTransactionWrites,
  weightOf: (b) => b.requests.length,
  maxInFlight: 1,
  commit: async (batches) => {
    port.postMessage(await commitOne(batches));
  },
});

port.on('message', (message: Message) => {
  if (message.type === 'batch') {
    queue.push({ id: message.id, requests: JSON.parse(message.requests) as WriteRequest[] });
    return;
  }
  // After every batch already posted: the thread closes its database.
  void queue.whenIdle().then(() => {
    handle.close();
    port.close();
  });
});

async function commitOne(batches: Queued[]): Promise<WriterReply> {
  const ids = batches.map((b) => b.id);
  try {
    const results = await applyWritesIn(
      session,
      batches.flatMap((b) => b.requests),
    );
    if (results.every((r) => r.ok && r.row === undefined)) return { ids, allOk: true };
    // Each batch's own results, so the main thread hands them over as they are.
    let start = 0;
    return {
      ids,
      results: batches.map((b) => JSON.stringify(results.slice(start, (start += b.requests.length)))),
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      ids,
      error: {
        message: err instanceof Error ? err.message : String(err),
        ...(typeof code === 'string' ? { code } : {}),
      },
    };
  }
}
