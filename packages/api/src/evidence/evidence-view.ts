import { evidenceStatusFromChains, evidenceStatusOf } from '@fieldproof/db';
import type { LeafFormat, NotBeforeBlock } from '@fieldproof/receipt';
import type { TimeBracket } from './evidence-bracket.js';
import type {
  ChainAnchoring,
  EvidenceRow,
  EvidenceStatus,
  EvidenceWithLeaf,
  NewEvidence,
  StatusBounds,
} from '@fieldproof/db';

/** An evidence record as the API shows it (camelCase; metadata parsed). */
export interface EvidenceSummary {
  id: string;
  digest: string;
  kind: string;
  source: EvidenceRow['source'];
  occurredAt: number;
  receivedAt: number;
  payloadMime: string | null;
  payloadSize: number | null;
  metadata: Record<string, unknown> | null;
  contentStored: boolean;
  leafIndex: number | null;
  status: EvidenceStatus;
  /** The leaf encoding of the record (fieldproof-leaf/v2 for records written since migration 0008). */
  leafFormat: LeafFormat;
  /** v2: the newest finalized block the api knew when it accepted the record; null: none (or v1). */
  notBefore: NotBeforeBlock | null;
  /** v2: whether the api's clock was behind a time it had already seen; null for a v1 leaf. */
  clockSuspect: boolean | null;
}

export interface EvidenceView extends EvidenceSummary {
  anchors: ChainAnchoring[];
  /** Once an anchor covering the record is final: not before / not after (GET /v1/evidence/:id). */
  bracket: TimeBracket | null;
}

type AnyEvidenceRow = EvidenceRow | NewEvidence;

function summary(row: AnyEvidenceRow, leafIndex: number | null, status: EvidenceStatus): EvidenceSummary {
  const metadata = row.metadata ?? null;
  return {
    id: row.id,
    digest: row.digest,
    kind: row.kind,
    source: row.source,
    occurredAt: Number(row.occurred_at),
    receivedAt: Number(row.received_at),
    payloadMime: row.payload_mime ?? null,
    payloadSize: row.payload_size == null ? null : Number(row.payload_size),
    metadata: metadata === null ? null : (JSON.parse(metadata) as Record<string, unknown>),
    contentStored: row.content_stored === 1 || (row.payload_json ?? null) !== null,
    leafIndex,
    status,
    leafFormat: row.leaf_version === 2 ? 'fieldproof-leaf/v2' : 'fieldproof-leaf/v1',
    notBefore:
      row.not_before_chain_id == null
        ? null
        : {
            chainId: Number(row.not_before_chain_id),
            number: Number(row.not_before_number),
            hash: row.not_before_hash!,
            timestamp: Number(row.not_before_timestamp),
          },
    clockSuspect: row.clock_suspect == null ? null : row.clock_suspect === 1,
  };
}

/** A list item; the status comes from bounds computed once per page. */
export function evidenceSummaryView(row: EvidenceWithLeaf, bounds: StatusBounds): EvidenceSummary {
  const leafIndex = row.leaf_index === null ? null : Number(row.leaf_index);
  return summary(row, leafIndex, evidenceStatusOf(leafIndex, bounds));
}

/** One record with its per-chain anchoring. */
export function evidenceView(
  row: AnyEvidenceRow,
  leafIndex: number | null,
  anchors: ChainAnchoring[],
  bracket: TimeBracket | null = null,
): EvidenceView {
  return { ...summary(row, leafIndex, evidenceStatusFromChains(leafIndex, anchors)), anchors, bracket };
}
