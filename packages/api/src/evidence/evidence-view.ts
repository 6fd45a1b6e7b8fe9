import { evidenceStatusFromChains, evidenceStatusOf } from '@fieldproof/db';
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
}

export interface EvidenceView extends EvidenceSummary {
  anchors: ChainAnchoring[];
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
): EvidenceView {
  return { ...summary(row, leafIndex, evidenceStatusFromChains(leafIndex, anchors)), anchors };
}
