import { canonicalJson, verifyReceipt, verifyReceiptOffline } from '@fieldproof/receipt';
import type { AnchorCheckOptions, LinkVerdict, Receipt, Verification } from '@fieldproof/receipt';

export interface ReceiptCheckerOptions extends AnchorCheckOptions {
  /** The device verifier key every checkpoint must be signed by (`--expect-key`). */
  readonly expectedPublicKey?: string;
}

/**
 * Verifies receipts one after the other — a single one or a whole bundle — with the receipt package's
 * verifier, plus one rule of the CLI: with RPC URLs, anchoring on a chain was asked for, so at least one
 * anchor must verify (link `anchors`), or the receipt fails.
 *
 * Receipts of one checkpoint share its anchors, and an anchor's verdict depends only on the anchor and
 * the checkpoint's origin, size and root. The checker asks the chain once per distinct (checkpoint,
 * anchors) and reuses the verdicts: a bundle of thousands of receipts costs a few RPC calls per
 * checkpoint, not per receipt.
 */
export interface ReceiptChecker {
  check(receipt: unknown, content?: Uint8Array): Promise<Verification>;
}

export function createReceiptChecker(options: ReceiptCheckerOptions): ReceiptChecker {
  const online = (options.rpcUrls ?? []).length > 0;
  const anchorVerdicts = new Map<string, Promise<LinkVerdict[]>>();
  const anchorsOf = (receipt: Receipt): Promise<LinkVerdict[]> => {
    const { origin, treeSize, root } = receipt.checkpoint;
    const key = canonicalJson({ origin, treeSize, root, anchors: receipt.anchors as unknown as object[] });
    let verdicts = anchorVerdicts.get(key);
    if (verdicts === undefined) {
      verdicts = verifyReceipt(receipt, options).then((v) => v.links.filter(isAnchorLink));
      anchorVerdicts.set(key, verdicts);
    }
    return verdicts;
  };

  return {
    async check(value, content) {
      const offlineOptions = {
        ...(content === undefined ? {} : { content }),
        ...(options.expectedPublicKey === undefined ? {} : { expectedPublicKey: options.expectedPublicKey }),
      };
      if (!online) return verifyReceipt(value, offlineOptions);
      const offline = verifyReceiptOffline(value, offlineOptions);
      if (offline.links[0]?.status !== 'ok') return offline;
      const receipt = value as Receipt;
      const anchors = await anchorsOf(receipt);
      const links = [...offline.links.filter((l) => !isAnchorLink(l)), ...anchors, anchoredRule(anchors)];
      return { ok: links.every((l) => l.status !== 'failed'), links };
    },
  };
}

function isAnchorLink(verdict: LinkVerdict): boolean {
  return verdict.link.startsWith('anchor:');
}

function anchoredRule(anchors: readonly LinkVerdict[]): LinkVerdict {
  const verified = anchors.filter((a) => a.status === 'ok').length;
  if (verified > 0) {
    return {
      link: 'anchors',
      status: 'ok',
      detail: `${verified} of ${anchors.length} anchor(s) verified on a chain`,
    };
  }
  return {
    link: 'anchors',
    status: 'failed',
    detail:
      anchors.length === 0
        ? 'the receipt holds no anchor: its checkpoint was not on any chain when the receipt was made'
        : `none of the ${anchors.length} anchor(s) verified on a chain given by --rpc`,
  };
}
