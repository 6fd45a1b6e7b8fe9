// A separate writer process for backup tests: commits one log_meta row at a time into the SQLite file
// named by DB and prints "<n>\n" after each COMMIT returned (so every printed n is durable and visible to
// any snapshot taken afterwards). Runs until killed.
import Database from 'better-sqlite3';

const db = new Database(process.env.DB, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 10000');
const insert = db.prepare('INSERT INTO log_meta (name, value, updated_at) VALUES (?, ?, ?)');
for (let n = 1; ; n++) {
  insert.run(`row-${n}`, 'x'.repeat(200), Date.now());
  process.stdout.write(`${n}\n`);
  if (n % 20 === 0) await new Promise((r) => setImmediate(r)); // let stdout drain
}
