// For the layer's own tests: opens the SQLite file DB in WAL mode at SYNCHRONOUS, creates table t when
// SETUP=1 (then exits), otherwise commits one row, prints "committed" once COMMIT has returned, and
// keeps the connection open until it is killed, as a process is at a power cut.
import Database from 'better-sqlite3';

const db = new Database(process.env.DB);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${process.env.SYNCHRONOUS}`);
if (process.env.SETUP === '1') {
  db.exec('CREATE TABLE t (x TEXT NOT NULL)');
  db.close();
} else {
  db.prepare('INSERT INTO t (x) VALUES (?)').run('committed before the cut');
  process.stdout.write('committed\n');
  setInterval(() => undefined, 60_000);
}
