import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@fieldproof/config';
import { recordFleetProofFailure, saveFleetProof } from '@fieldproof/db';
import { createCosigner, generateDeviceKey } from '@fieldproof/note';
import { unitStatus } from '../src/status/unit-status.js';
import { consolePage } from '../src/console/console-page.js';
import { appendCheckpoint } from '../../../test/support/anchor-fixtures.js';
import { createTestDatabase, dropTestDatabases, tempDir } from '../../../test/support/databases.js';

/**
 * The operator's view of fleet anchoring (issue 16): per collector with a fleetKey, the largest
 * checkpoint final through it and the leaves it does not cover yet (GET /v1/collectors, `fieldproof
 * status`, the console's Collectors panel), and a stopped fetch as something that needs attention.
 */
afterAll(dropTestDatabases);

describe('fleet proofs in the unit status and the console', () => {
  it('shows the fleet-final tree size and lag, and a stopped fetch needs attention', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const db = database.db;
      await appendCheckpoint(database, 5); // real signed checkpoints of 5 and 12 leaves
      await appendCheckpoint(database, 7);
      const keyFile = path.join(tempDir(), 'push.key');
      fs.writeFileSync(keyFile, 'fp_x\n', { mode: 0o600 });
      const collector = (name: string, fleetKey?: string) => ({
        name,
        url: 'http://127.0.0.1:9',
        apiKeyFile: keyFile,
        witnessKey: createCosigner(generateDeviceKey(`${name}.test/witness`)).verifierKey,
        ...(fleetKey === undefined ? {} : { fleetKey }),
      });
      const { config } = loadConfig(
        {
          API_DB_URL: `sqlite://${path.join(tempDir(), 'unused.sqlite3')}`,
          KEEPER_PROVIDER: 'collector',
          KEEPER_COLLECTORS: JSON.stringify([
            collector('fleet', generateDeviceKey('fleet.test/fleet').verifierKey),
            collector('mirror'),
          ]),
        },
        '/',
      );
      await saveFleetProof(db, {
        collector: 'fleet',
        treeSize: 5,
        noteHash: 'cd'.repeat(32),
        fleetTreeSize: 1,
        receipt: '{"anchors":[]}',
        state: 'final',
        now: 10,
      });
      const status = async () => unitStatus({ config, database, now: 1_000, probeKeeper: false });
      const first = await status();
      expect(first.collectors.map((c) => [c.name, c.fleet])).toEqual([
        [
          'fleet',
          {
            finalTreeSize: 5,
            lagLeaves: 7,
            fetchedAt: null,
            lastError: null,
            lastErrorAt: null,
            stopped: false,
          },
        ],
        ['mirror', null],
      ]);
      const html = consolePage(first, { keyId: 'k', admin: false, csrf: 'c' }, undefined);
      expect(html).toMatch(/data-k="collectors\.fleet\.fleetFinalTreeSize"[^>]*>5</);
      expect(html).toContain('no fleetKey');

      await recordFleetProofFailure(
        db,
        'fleet',
        { error: 'refused: bad proof', nextAttemptAt: 0, stopped: true },
        20,
      );
      const stopped = await status();
      expect(stopped.attention).toContain(
        'collector fleet: fetching fleet proofs stopped (refused: bad proof)',
      );
      expect(consolePage(stopped, { keyId: 'k', admin: false, csrf: 'c' }, undefined)).toContain(
        'fleet proofs stopped: refused: bad proof',
      );
    } finally {
      await database.close();
    }
  });
});
