// `@fieldproof/db/raw-sqlite`: what a thread that writes SQLite through better-sqlite3 directly takes —
// the api's writer thread — without loading kysely and the query modules (about 22 MB of resident
// memory per thread, measured). Nothing here imports kysely at run time.
export * from './sqlite/open-sqlite.js';
export * from './errors/classify-db-error.js';
export * from './queries/evidence-columns.js';
export * from './queries/bulk-chunk-rows.js';
export * from './workers/start-worker.js';
export type * from './queries/evidence.js';
export type * from './queries/countermeasures.js';
export type * from './queries/signal-disruptions.js';
export type * from './queries/jamming-operations.js';
export type * from './url/resolve-database-url.js';
