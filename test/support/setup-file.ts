import { afterAll } from 'vitest';
import { dropTestDatabases } from './pg-test-databases.js';

// Runs in every test file before its own code (vitest `setupFiles`): this file-level afterAll is the
// first registered, so it runs last, after the file's own clean-up has closed its connections.
afterAll(dropTestDatabases);
