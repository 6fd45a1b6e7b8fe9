import { canonicalJson } from '../json/canonical-json.js';
import { validateReceipt } from '../receipt/validate-receipt.js';
import type { Receipt } from '../receipt/receipt.js';
import {
  firstOf,
  rpcBlocks,
  trustedBlocks as trustedBlockSource,
  type CanonicalBlocks,
} from '../v2/canonical-blocks.js';
import { RECEIPT_FORMAT_V2, type ReceiptV2 } from '../v2/receipt-v2.js';
import type { BlockRef } from '../v2/time-bracket.js';
import { validateReceiptV2 } from '../v2/validate-receipt-v2.js';
import {
  NO_CANONICAL_SOURCE,
  bracketOf,
  canonicalVerdict,
  verifyBranch,
  verifyTrunk,
  type BranchResult,
} from '../v2/verify-receipt-v2.js';
import { checkAnchors, type AnchorCheckOptions } from './anchor-links.js';
import { errorText, failed, ok, type LinkVerdict, type Verification } from './verdict.js';
import { verifyReceipt, verifyReceiptOffline } from './verify-receipt.js';

export interface ReceiptCheckerOptions extends AnchorCheckOptions {
  /** The device verifier key every checkpoint must be signed by (`--expect-key`). */
  readonly expectedPublicKey?: string;
  /** Witness keys, each of which must have cosigned the checkpoint (`--witness-key`, v2 receipts). */
  readonly witnessKeys?: readonly string[];
  /** Fleet verifier keys, one of which must sign each fleet checkpoint (`--fleet-key`, v2 receipts). */
  readonly fleetKeys?: readonly string[];
  /** `chainId:number` → block hash, from `parseTrustedBlocks` (`--trusted-blocks`). */
  readonly trustedBlocks?: ReadonlyMap<string, string>;
  /** Replaces the RPC canonicality source (tests); default `rpcBlocks(rpcUrls)`. */
  readonly canonicalBlocks?: CanonicalBlocks;
}

/**
 * Verifies receipts one after the other — a single one or a whole bundle — of either format, plus one
 * rule of the CLI: when a source of chain facts is given (`--rpc`, `--trusted-blocks`), anchoring was
 * asked for, so at least one anchor must verify to a canonical block (link `anchors`), or the receipt
 * fails.
 *
 * Receipts of one checkpoint share its anchors, and an anchor's verdict depends only on the anchor and
 * the checkpoint. The checker verifies each distinct (checkpoint, anchor) once, and asks an RPC once per
 * distinct block: a bundle of thousands of receipts costs a few calls per checkpoint, not per receipt.
 */
export interface ReceiptChecker {
  check(receipt: unknown, content?: Uint8Array): Promise<Verification>;
}

export function createReceiptChecker(options: ReceiptCheckerOptions = {}): ReceiptChecker {
  const rpcUrls = options.rpcUrls ?? [];
  const online = rpcUrls.length > 0;
  const sources: CanonicalBlocks[] = [];
  if (options.trustedBlocks !== undefined) sources.push(trustedBlockSource(options.trustedBlocks));
  if (options.canonicalBlocks !== undefined) sources.push(options.canonicalBlocks);
  else if (online)
    sources.push(
      rpcBlocks(rpcUrls, options.rpcTimeoutMs === undefined ? {} : { timeoutMs: options.rpcTimeoutMs }),
    );
  const canonical = sources.length === 0 ? NO_CANONICAL_SOURCE : firstOf(sources);
  const anchoringAsked = sources.length > 0;
  const fleetOptions = options.fleetKeys === undefined ? {} : { fleetKeys: options.fleetKeys };

  const v1AnchorVerdicts = new Map<string, Promise<LinkVerdict[]>>();
  const v1AnchorsOf = (receipt: Receipt): Promise<LinkVerdict[]> => {
    const { origin, treeSize, root } = receipt.checkpoint;
    const key = canonicalJson({ origin, treeSize, root, anchors: receipt.anchors as unknown as object[] });
    let verdicts = v1AnchorVerdicts.get(key);
    if (verdicts === undefined) {
      verdicts = verifyReceipt(receipt, options).then((v) => v.links.filter(isV1AnchorLink));
      v1AnchorVerdicts.set(key, verdicts);
    }
    return verdicts;
  };

  const branchCache = new Map<
    string,
    Promise<{ links: LinkVerdict[]; ok: boolean; block?: BlockRef; canonical: boolean }>
  >();
  const branchOf = (receipt: ReceiptV2, i: number, trunk: ReturnType<typeof verifyTrunk>) => {
    const branch = receipt.anchors[i]!;
    const signed = trunk.signed;
    const key = `${signed === undefined ? 'x' : `${signed.publicKey}\u0000${signed.note}`}\u0001${JSON.stringify(branch)}`;
    let result = branchCache.get(key);
    if (result === undefined) {
      result = checkBranch(verifyBranch(branch, signed, fleetOptions));
      if (branchCache.size > 4096) branchCache.clear();
      branchCache.set(key, result);
    }
    return result;
  };

  async function checkBranch(result: BranchResult) {
    if (result.block !== undefined) {
      const answer = await canonical.check(result.block.chainId, result.block.number, result.block.hash);
      const links = [...result.links, canonicalVerdict(result.block, answer)];
      return { links, ok: answer.status === 'ok', block: result.block, canonical: answer.status === 'ok' };
    }
    if (result.unproven?.checkpoint !== undefined && online) {
      // Not final when the receipt was made: the v1 online check of the transaction on its chain.
      const { chainId, txHash, from, block, checkpoint: cp } = result.unproven;
      const pseudo = {
        checkpoint: { origin: cp.origin, treeSize: cp.treeSize, root: toHexString(cp.root) },
        anchors: [
          {
            chain: String(chainId),
            chainId,
            txHash,
            blockNumber: block?.number ?? null,
            blockHash: block?.hash ?? null,
            blockTimestamp: block?.timestamp ?? null,
            state: 'broadcast',
            ...(from === undefined ? {} : { from }),
          },
        ],
      } as unknown as Receipt;
      let verdicts: LinkVerdict[];
      try {
        verdicts = await checkAnchors(pseudo, options);
      } catch (err) {
        verdicts = [failed('anchor', errorText(err))];
      }
      const link = `anchor-tx:${result.id}`;
      const links = [
        ...result.links.filter((l) => l.link !== link), // the steps before anchor-tx, all held
        ...verdicts.map((v) => ({ ...v, link })),
      ];
      return { links, ok: links.every((l) => l.status === 'ok'), canonical: false };
    }
    return { links: result.links, ok: false, canonical: false };
  }

  async function checkV2(value: unknown, content: Uint8Array | undefined): Promise<Verification> {
    let receipt: ReceiptV2;
    try {
      receipt = validateReceiptV2(value);
    } catch (err) {
      return { ok: false, links: [failed('format', errorText(err))] };
    }
    const trunk = verifyTrunk(receipt, {
      ...(content === undefined ? {} : { content }),
      ...(options.expectedPublicKey === undefined ? {} : { expectedPublicKey: options.expectedPublicKey }),
      ...(options.witnessKeys === undefined ? {} : { witnessKeys: options.witnessKeys }),
    });
    const branches = await Promise.all(receipt.anchors.map((_, i) => branchOf(receipt, i, trunk)));
    const links: LinkVerdict[] = [
      ok('format', receipt.format),
      ...trunk.links,
      ...branches.flatMap((b) => b.links),
    ];
    if (anchoringAsked) links.push(anchoredRule(branches.filter((b) => b.ok).length, branches.length));
    const proven = branches.flatMap((b) =>
      b.block === undefined ? [] : [{ block: b.block, canonical: b.canonical }],
    );
    const bracket = trunk.checkpoint === undefined ? undefined : bracketOf(receipt, trunk.leafFormat, proven);
    return {
      ok: links.every((l) => l.status !== 'failed'),
      links,
      ...(bracket === undefined ? {} : { bracket }),
    };
  }

  return {
    async check(value, content) {
      if (isV2(value)) return checkV2(value, content);
      const offlineOptions = {
        ...(content === undefined ? {} : { content }),
        ...(options.expectedPublicKey === undefined ? {} : { expectedPublicKey: options.expectedPublicKey }),
      };
      const witnessLinks = (options.witnessKeys ?? []).map((k) =>
        failed(
          `witness:${k.split('+').slice(0, 2).join('+')}`,
          'a fieldproof-receipt/v1 receipt carries no cosignature',
        ),
      );
      if (!online) {
        const v = await verifyReceipt(value, offlineOptions);
        return withLinks(v.links, witnessLinks);
      }
      const offline = verifyReceiptOffline(value, offlineOptions);
      if (offline.links[0]?.status !== 'ok') return offline;
      const anchors = await v1AnchorsOf(validateReceipt(value));
      const verified = anchors.filter((a) => a.status === 'ok').length;
      return withLinks(
        [
          ...offline.links.filter((l) => !isV1AnchorLink(l)),
          ...anchors,
          anchoredRule(verified, anchors.length),
        ],
        witnessLinks,
      );
    },
  };
}

function withLinks(links: readonly LinkVerdict[], more: readonly LinkVerdict[]): Verification {
  const all = [...links, ...more];
  return { ok: all.every((l) => l.status !== 'failed'), links: all };
}

function isV2(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { format?: unknown }).format === RECEIPT_FORMAT_V2
  );
}

function isV1AnchorLink(verdict: LinkVerdict): boolean {
  return verdict.link.startsWith('anchor:');
}

function toHexString(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function anchoredRule(verified: number, total: number): LinkVerdict {
  if (verified > 0) return ok('anchors', `${verified} of ${total} anchor(s) verified on a canonical chain`);
  return failed(
    'anchors',
    total === 0
      ? 'the receipt holds no anchor: its checkpoint was not on any chain when the receipt was made'
      : `none of the ${total} anchor(s) verified to a canonical block (--rpc / --trusted-blocks)`,
  );
}
