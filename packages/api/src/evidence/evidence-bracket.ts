import { findAnchorProofHeaders } from '@fieldproof/db';
import type { ChainAnchoring, EvidenceRow, Schema } from '@fieldproof/db';
import { decodeBlockHeader, evidenceRecordOf, recordTimeClaimsOf } from '@fieldproof/receipt';
import type { NotBeforeBlock } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';

/** The upper end of the bracket: the anchoring block. */
export interface NotAfterBlock extends NotBeforeBlock {
  /**
   * Where `timestamp` comes from: `header` — the anchor proof's stored block header (RLP, checked by the
   * keeper against the block hash); `anchor` — the block time the keeper recorded on the final anchor.
   */
  readonly source: 'header' | 'anchor';
}

/** A record's time bracket, once an anchor covering it is final (docs/API.md). */
export interface TimeBracket {
  /** Written after this block (the leaf's), or null: the api had reached no chain (or a v1 leaf). */
  readonly notBefore: NotBeforeBlock | null;
  /** Existed no later than this block: the earliest final anchoring block. */
  readonly notAfter: NotAfterBlock;
  /** notAfter.timestamp − notBefore.timestamp, or null without a lower end. */
  readonly widthMs: number | null;
  /**
   * Where the device's `occurredAt` falls: 0 inside the bracket, negative by how much it is before
   * `notBefore`, positive by how much it is after `notAfter`.
   */
  readonly occurredAtOffsetMs: number;
}

/**
 * The bracket of `row` given its per-chain anchoring, or null while no anchor covering it is final.
 * One query (the stored headers of the final anchors' blocks).
 */
export async function timeBracketOf(
  db: Kysely<Schema>,
  row: EvidenceRow,
  anchors: readonly ChainAnchoring[],
): Promise<TimeBracket | null> {
  const finals = anchors.filter(
    (a) =>
      a.state === 'final' &&
      a.txHash !== null &&
      a.blockNumber !== null &&
      a.blockHash !== null &&
      a.blockTimestamp !== null,
  );
  if (finals.length === 0) return null;
  const headers = new Map(
    (
      await findAnchorProofHeaders(
        db,
        finals.map((a) => a.txHash!),
      )
    ).map((h) => [h.txHash, h]),
  );
  let notAfter: NotAfterBlock | undefined;
  for (const a of finals) {
    const header = headers.get(a.txHash!);
    const fromHeader =
      header !== undefined && header.blockHash === a.blockHash
        ? headerTimestamp(header.rawHeader)
        : undefined;
    const candidate: NotAfterBlock = {
      chainId: a.chainId,
      number: a.blockNumber!,
      hash: a.blockHash!,
      timestamp: fromHeader ?? a.blockTimestamp!,
      source: fromHeader === undefined ? 'anchor' : 'header',
    };
    if (notAfter === undefined || candidate.timestamp < notAfter.timestamp) notAfter = candidate;
  }
  const { notBefore } = recordTimeClaimsOf(evidenceRecordOf(row));
  const occurredAt = row.occurred_at;
  const occurredAtOffsetMs =
    occurredAt > notAfter!.timestamp
      ? occurredAt - notAfter!.timestamp
      : notBefore !== null && occurredAt < notBefore.timestamp
        ? occurredAt - notBefore.timestamp
        : 0;
  return {
    notBefore,
    notAfter: notAfter!,
    widthMs: notBefore === null ? null : notAfter!.timestamp - notBefore.timestamp,
    occurredAtOffsetMs,
  };
}

/** The header's timestamp in ms, or undefined when the stored header does not decode. */
function headerTimestamp(rawHeader: string): number | undefined {
  try {
    const hex = rawHeader.startsWith('0x') ? rawHeader.slice(2) : rawHeader;
    return decodeBlockHeader(new Uint8Array(Buffer.from(hex, 'hex'))).timestamp * 1000;
  } catch {
    return undefined;
  }
}
