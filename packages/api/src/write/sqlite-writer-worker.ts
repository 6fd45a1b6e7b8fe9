// The SQLite writer thread (see sqlite-writer-thread.ts): its own connection; each transaction commits
// every batch that arrived while the previous one was committing.
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabase } from '@fieldproof/db';
import { applyWrites } from './apply-writes.js';
import type { WriterBatch, WriterData, WriterReply } from './sqlite-writer-thread.js';
import type { WriteRequest } from './write-request.js';

type Message = WriterBatch | { type: 'close' };

const { target, sqlite, maxTransactionWrites } = workerData as WriterData;
const database = createDatabase(target, { sqlite });
// A multi-row insert inside a transaction keeps a statement journal (to undo just that statement on a
// constraint error). By default it is a temporary FILE, which costs system time on every batch and, on
// an SD card, wear; in memory it is bounded by one transaction's rows. It holds nothing that must
// survive a crash.
database.sqlite!.pragma('temp_store = MEMORY');
const port = parentPort!;

interface Queued {
  readonly id: number;
  readonly requests: WriteRequest[];
}

const queued: Queued[] = [];
let closeRequested = false;
let scheduled = false;
let running = false;

// Messages arrive in order. Each is only queued here; the commit runs from setImmediate, after the event
// loop has delivered every message that arrived meanwhile, so one transaction takes them all.
port.on('message', (message: Message) => {
  if (message.type === 'close') closeRequested = true;
  else queued.push({ id: message.id, requests: JSON.parse(message.requests) as WriteRequest[] });
  schedule();
});

function schedule(): void {
  if (scheduled || running) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void commitQueued();
  });
}

async function commitQueued(): Promise<void> {
  running = true;
  try {
    if (queued.length > 0) await commitOne(takeTransaction());
    if (queued.length === 0 && closeRequested) {
      await database.close();
      port.close();
      return;
    }
  } finally {
    running = false;
  }
  if (queued.length > 0 || closeRequested) schedule();
}

/** Whole batches from the front of the queue, up to maxTransactionWrites writes (at least one batch). */
function takeTransaction(): Queued[] {
  const taken: Queued[] = [];
  let writes = 0;
  while (queued.length > 0) {
    const next = queued[0]!;
    if (taken.length > 0 && writes + next.requests.length > maxTransactionWrites) break;
    taken.push(queued.shift()!);
    writes += next.requests.length;
  }
  return taken;
}

async function commitOne(batches: Queued[]): Promise<void> {
  const ids = batches.map((b) => b.id);
  let reply: WriterReply;
  try {
    const results = await applyWrites(
      database.db,
      batches.flatMap((b) => b.requests),
    );
    if (results.every((r) => r.ok && r.row === undefined)) {
      reply = { ids, allOk: true };
    } else {
      // Each batch's own results, so the main thread hands them over as they are.
      let start = 0;
      reply = {
        ids,
        results: batches.map((b) => JSON.stringify(results.slice(start, (start += b.requests.length)))),
      };
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    reply = {
      ids,
      error: {
        message: err instanceof Error ? err.message : String(err),
        ...(typeof code === 'string' ? { code } : {}),
      },
    };
  }
  port.postMessage(reply);
}
