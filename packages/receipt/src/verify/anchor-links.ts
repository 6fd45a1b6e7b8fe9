// ethers is loaded only when an endpoint is checked: everything else that imports this package (the api
// server builds receipts; offline verification) would otherwise carry its ~10 MB for nothing.
import type { FetchRequest, JsonRpcProvider } from 'ethers';
import { decodeAnchorPayload } from '../anchor/anchor-payload.js';
import { toHex } from '../hex.js';
import { isStubAnchor, type Receipt, type ReceiptAnchor } from '../receipt/receipt.js';
import { errorText, failed, ok, unchecked, type LinkVerdict } from './verdict.js';

export interface AnchorCheckOptions {
  /** JSON-RPC endpoints (http/https); each is matched to anchors by its `eth_chainId`. */
  readonly rpcUrls?: readonly string[];
  /** Minimum confirmations (latest − block + 1); default 1. */
  readonly minConfirmations?: number;
  /** Fail anchors whose block is not yet at or below the chain's `finalized` block; default false. */
  readonly requireFinality?: boolean;
  /** Per-request timeout; default 15 s. */
  readonly rpcTimeoutMs?: number;
}

/** What an anchor's calldata must carry: the receipt's checkpoint. */
interface ExpectedCheckpoint {
  readonly origin: string;
  readonly treeSize: number;
  /** Lowercase hex. */
  readonly root: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function anchorLinkName(anchor: ReceiptAnchor): string {
  return `anchor:${anchor.chainId}:${anchor.txHash}`;
}

/**
 * One verdict per anchor. Without RPC URLs every anchor is `unchecked`; with them, each anchor is
 * checked on the endpoint serving its chain id (an anchor whose chain no endpoint serves is
 * `unchecked`, or `failed` when some endpoint could not be asked).
 */
export async function checkAnchors(receipt: Receipt, options: AnchorCheckOptions): Promise<LinkVerdict[]> {
  const { anchors } = receipt;
  const expected: ExpectedCheckpoint = receipt.checkpoint;
  const rpcUrls = options.rpcUrls ?? [];
  if (anchors.length === 0) return [];
  if (rpcUrls.length === 0) {
    return anchors.map((anchor) =>
      isStubAnchor(anchor)
        ? unchecked(anchorLinkName(anchor), 'stub anchor: not on any chain')
        : unchecked(
            anchorLinkName(anchor),
            `no RPC URL given for chain ${describeChain(anchor)}: not checked`,
          ),
    );
  }
  const timeoutMs = options.rpcTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const endpoints = await Promise.all(rpcUrls.map((url) => connect(url, timeoutMs)));
  try {
    return await Promise.all(
      anchors.map(async (anchor) => {
        const link = anchorLinkName(anchor);
        if (isStubAnchor(anchor)) return unchecked(link, 'stub anchor: not on any chain');
        const endpoint = endpoints.find((e) => e.chainId === anchor.chainId);
        if (endpoint?.provider === undefined) {
          const down = endpoints.filter((e) => e.error !== undefined);
          const served = endpoints
            .filter((e) => e.chainId !== undefined)
            .map((e) => `${e.chainId} at ${e.host}`);
          const servedText = served.length > 0 ? ` (the RPC URLs serve ${served.join(', ')})` : '';
          return down.length === 0
            ? unchecked(link, `no RPC URL serves chain ${describeChain(anchor)}${servedText}`)
            : failed(
                link,
                `no reachable RPC URL serves chain ${describeChain(anchor)}; ` +
                  down.map((e) => `${e.host}: ${e.error ?? ''}`).join('; '),
              );
        }
        try {
          return await checkAnchor(endpoint.provider, anchor, expected, options);
        } catch (err) {
          return failed(link, `RPC error at ${endpoint.host}: ${errorText(err)}`);
        }
      }),
    );
  } finally {
    for (const endpoint of endpoints) endpoint.provider?.destroy();
  }
}

interface Endpoint {
  /** Host only: URLs may carry API keys, which must not end up in verdicts. */
  readonly host: string;
  readonly chainId?: number;
  readonly provider?: JsonRpcProvider;
  readonly error?: string;
}

/**
 * Asks the endpoint its chain id with one plain request, then makes a provider pinned to that network.
 * (A provider left to detect its network retries forever on an unreachable URL.)
 */
async function connect(url: string, timeoutMs: number): Promise<Endpoint> {
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    return { host: '(invalid URL)', error: 'not a URL' };
  }
  try {
    const { FetchRequest, JsonRpcProvider, Network } = await import('ethers');
    const request = (target: string, ms: number): FetchRequest => {
      const req = new FetchRequest(target);
      req.timeout = ms;
      return req;
    };
    const probe = request(url, timeoutMs);
    probe.setHeader('content-type', 'application/json');
    probe.body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] });
    const response = await probe.send();
    response.assertOk();
    const body = response.bodyJson as { result?: unknown; error?: { message?: unknown } };
    if (typeof body.result !== 'string' || !/^0x[0-9a-fA-F]+$/.test(body.result)) {
      return {
        host,
        error: `eth_chainId answered ${JSON.stringify(body.error?.message ?? body.result ?? null)}`,
      };
    }
    const chainId = Number(BigInt(body.result));
    const provider = new JsonRpcProvider(request(url, timeoutMs), Network.from(chainId), {
      staticNetwork: true,
    });
    return { host, chainId, provider };
  } catch (err) {
    return { host, error: errorText(err) };
  }
}

/**
 * anchor → chain: the transaction exists, succeeded, carries the checkpoint in its calldata, sits in
 * the block the receipt names, that block is on the canonical chain, and has enough confirmations.
 * Finality is reported (and required only with `requireFinality`).
 */
async function checkAnchor(
  provider: JsonRpcProvider,
  anchor: ReceiptAnchor,
  expected: ExpectedCheckpoint,
  options: AnchorCheckOptions,
): Promise<LinkVerdict> {
  const link = anchorLinkName(anchor);
  const minConfirmations = options.minConfirmations ?? 1;
  const tx = await provider.getTransaction(anchor.txHash);
  if (tx === null) return failed(link, `transaction not found on chain ${describeChain(anchor)}`);

  let payload;
  try {
    payload = decodeAnchorPayload(tx.data);
  } catch (err) {
    return failed(link, `calldata is not a fieldproof anchor: ${errorText(err)}`);
  }
  const mismatches: string[] = [];
  if (payload.origin !== expected.origin) mismatches.push(`origin ${JSON.stringify(payload.origin)}`);
  if (payload.treeSize !== expected.treeSize) mismatches.push(`tree size ${payload.treeSize}`);
  if (toHex(payload.root) !== expected.root) mismatches.push(`root ${toHex(payload.root)}`);
  if (mismatches.length > 0) {
    return failed(link, `calldata anchors ${mismatches.join(', ')}, not the receipt's checkpoint`);
  }
  for (const key of ['from', 'to'] as const) {
    const claimed = anchor[key];
    const actual = tx[key];
    if (claimed !== undefined && claimed.toLowerCase() !== (actual ?? '').toLowerCase()) {
      return failed(link, `transaction ${key} is ${actual ?? 'nobody'}, the receipt says ${claimed}`);
    }
  }

  const txReceipt = await provider.getTransactionReceipt(anchor.txHash);
  if (txReceipt === null) return failed(link, 'transaction is not in a block (pending or dropped)');
  if (txReceipt.status !== 1) return failed(link, `transaction failed on chain (status ${txReceipt.status})`);
  const blockNumber = txReceipt.blockNumber;
  const blockHash = txReceipt.blockHash.toLowerCase();
  if (anchor.blockNumber !== null && (anchor.blockNumber !== blockNumber || anchor.blockHash !== blockHash)) {
    return failed(
      link,
      `the receipt says block ${anchor.blockNumber} (${anchor.blockHash ?? ''}), ` +
        `the transaction is in block ${blockNumber} (${blockHash}): the chain reorganised`,
    );
  }

  const block = await provider.getBlock(blockNumber);
  if (block === null) return failed(link, `block ${blockNumber} not found`);
  if ((block.hash ?? '').toLowerCase() !== blockHash) {
    return failed(
      link,
      `block ${blockNumber} of the canonical chain is ${block.hash ?? '?'}, not ${blockHash}`,
    );
  }
  if (anchor.blockTimestamp !== null && anchor.blockTimestamp !== block.timestamp * 1000) {
    return failed(
      link,
      `block timestamp is ${block.timestamp * 1000} ms, the receipt says ${anchor.blockTimestamp}`,
    );
  }

  const latest = await provider.getBlockNumber();
  const confirmations = latest - blockNumber + 1;
  if (confirmations < minConfirmations) {
    return failed(
      link,
      `block ${blockNumber} has ${confirmations} confirmation(s), ${minConfirmations} required`,
    );
  }

  const finality = await finalityOf(provider, blockNumber);
  if (options.requireFinality === true && finality.final !== true) {
    return failed(link, `block ${blockNumber} is not final: ${finality.text}`);
  }
  const claimed = anchor.blockNumber === null ? ' (the receipt predates inclusion)' : '';
  return ok(
    link,
    `checkpoint ${expected.origin}@${expected.treeSize} in tx ${anchor.txHash}, block ${blockNumber} ` +
      `(${blockHash})${claimed}, ${confirmations} confirmation(s), ${finality.text}`,
  );
}

async function finalityOf(
  provider: JsonRpcProvider,
  blockNumber: number,
): Promise<{ final?: boolean; text: string }> {
  let finalized;
  try {
    finalized = await provider.getBlock('finalized');
  } catch {
    return { text: 'finality unknown (the node does not support the finalized tag)' };
  }
  if (finalized === null) return { text: 'finality unknown (the node returned no finalized block)' };
  return finalized.number >= blockNumber
    ? { final: true, text: `final (finalized block ${finalized.number})` }
    : { final: false, text: `not final yet (finalized block ${finalized.number})` };
}

function describeChain(anchor: ReceiptAnchor): string {
  return `${anchor.chain} (chainId ${anchor.chainId})`;
}
