import type { Database, NewEvidence } from '@fieldproof/db';
import { appendEvidence, isUniqueViolation, newId } from '@fieldproof/db';
import type { KeeperTask } from '@fieldproof/keeper';
import type { Logger } from 'pino';
import type { CollectorDatabase } from '../db/collector-database.js';
import { listWaitingCheckpoints, setFleetPosition } from '../db/fleet-checkpoints.js';
import { canonicalJson, deviceNoteHash, fleetLeafRecordOf } from '@fieldproof/receipt';
import { fleetEvidenceIdsByDigest, fleetLeafIndices } from './fleet-log-queries.js';

/** Checkpoints looked at per round. */
const INTAKE_BATCH = 256;

/**
 * Fleet intake: every device checkpoint the collector cosigned becomes one evidence record of the fleet
 * log (`fleetLeafRecordOf`), and the checkpoint row learns its fleet leaf index once sequenced.
 *
 * ```text
 *  device_checkpoints WHERE fleet_leaf_index IS NULL (oldest first)
 *     ├─ note hash not in fleet evidence ─▶ insert the fleet record (unique digest: a second insert is refused)
 *     └─ fleet evidence sequenced         ─▶ set fleet_evidence_id, fleet_leaf_index
 * ```
 *
 * It works only from what is committed in both databases, so it is its own catch-up: a replica killed
 * between cosigning and this insert, or between the insert and the update, leaves a row that the next
 * round of any replica finishes. Several replicas at once: the fleet digest is unique, so at most one
 * record per device checkpoint; a replica whose insert lost that race retries at once and finds it.
 */
export function createFleetIntake(deps: {
  readonly collector: CollectorDatabase;
  readonly fleet: Database;
  readonly logger: Logger;
}): KeeperTask {
  const { collector, fleet } = deps;
  const log = deps.logger.child({ task: 'fleet-intake' });
  return {
    name: 'fleet-intake',
    async runOnce() {
      const waiting = await listWaitingCheckpoints(collector.db, INTAKE_BATCH);
      if (waiting.length === 0) return false;
      const hashes = waiting.map((c) => deviceNoteHash(c.signedNote));
      const known = await fleetEvidenceIdsByDigest(fleet.db, hashes);
      const fresh: NewEvidence[] = [];
      waiting.forEach((c, i) => {
        const digest = hashes[i]!;
        if (known.has(digest) || fresh.some((r) => r.digest === digest)) return;
        fresh.push(
          evidenceRowOf(
            fleetLeafRecordOf({ id: newId(), signedNote: c.signedNote, receivedAt: c.receivedAt }),
          ),
        );
      });
      if (fresh.length > 0) {
        try {
          await fleet.db.transaction().execute((trx) => appendEvidence(trx, fresh));
        } catch (err) {
          // Another replica inserted one of them first: read again at once.
          if (isUniqueViolation(err)) return true;
          throw err;
        }
        for (const row of fresh) known.set(row.digest, row.id);
        log.debug({ records: fresh.length }, 'device checkpoints added to the fleet log');
      }
      const leaves = await fleetLeafIndices(fleet.db, [...known.values()]);
      let placed = 0;
      for (const [i, c] of waiting.entries()) {
        const evidenceId = known.get(hashes[i]!)!;
        const leafIndex = leaves.get(evidenceId);
        if (leafIndex === undefined) continue;
        await setFleetPosition(collector.db, c, { evidenceId, leafIndex });
        placed++;
      }
      return fresh.length > 0 || placed > 0;
    },
  };
}

/** The fleet database row of a fleet record: a digest-form evidence row of leaf format v1. */
export function evidenceRowOf(record: ReturnType<typeof fleetLeafRecordOf>): NewEvidence {
  return {
    id: record.id,
    digest: record.digest,
    kind: record.kind,
    source: 'digest',
    occurred_at: record.occurredAt,
    received_at: record.receivedAt,
    payload_mime: null,
    payload_size: null,
    payload_json: null,
    metadata: record.metadata == null ? null : canonicalJson(record.metadata),
    content_stored: 0,
  };
}
