import { RpcResponseError, RpcTransportError } from './json-rpc-client.js';

/**
 * The one place chain errors are classified. Nodes report transaction-pool verdicts only as message text
 * (geth, erigon, nethermind, besu, hardhat/EDR and anvil each word them differently), so unlike database
 * errors these are matched on the message; the patterns below are the whole list.
 *
 * | kind                      | meaning                                          | what the anchorer does            |
 * |---------------------------|--------------------------------------------------|-----------------------------------|
 * | `transport`               | no answer (refused, reset, timeout, 5xx)         | unknown outcome: reconcile later; |
 * |                           |                                                  | chain-level backoff, no attempt   |
 * | `already-known`           | the pool already has these exact bytes           | success                           |
 * | `nonce-too-low`           | the nonce is used (by us: mined; or by another)  | look the hash up, else re-sync    |
 * | `nonce-too-high`          | a gap below our nonce                            | re-sync the nonce, re-sign        |
 * | `replacement-underpriced` | a same-nonce transaction with higher fees exists | keep the old one, retry later     |
 * | `fee-too-low`             | fee cap below the base fee / pool minimum        | temporary (attempt, backoff)      |
 * | `insufficient-funds`      | the signer cannot pay                            | temporary: an operator can top up |
 * | `reverted`                | execution reverts (anchor contract refuses)      | permanent: dead, not retried      |
 * | `invalid`                 | malformed for this chain (chain id, gas, size)   | permanent: dead, not retried      |
 * | `rpc`                     | any other error answer                           | temporary (attempt, backoff)      |
 */
export type ChainErrorKind =
  | 'transport'
  | 'already-known'
  | 'nonce-too-low'
  | 'nonce-too-high'
  | 'replacement-underpriced'
  | 'fee-too-low'
  | 'insufficient-funds'
  | 'reverted'
  | 'invalid'
  | 'rpc';

const PATTERNS: readonly (readonly [ChainErrorKind, RegExp])[] = [
  [
    'already-known',
    /already known|known transaction|already imported|alreadyknown|already in (the )?(tx)?pool/i,
  ],
  ['nonce-too-low', /nonce too low|nonce has already been used|oldnonce|nonce is too low|already used/i],
  ['nonce-too-high', /nonce too high|nonce gap|noncegap/i],
  [
    'replacement-underpriced',
    /replacement (transaction|fee)|replacement.*underpriced|fee too low to replace/i,
  ],
  [
    'insufficient-funds',
    /insufficient funds|not enough funds|doesn't have enough funds|insufficient balance/i,
  ],
  [
    'fee-too-low',
    /underpriced|max fee per gas less than block base fee|too low for the next block|fee cap less than|feetoolow|gas price too low|below minimum/i,
  ],
  ['reverted', /revert/i],
  [
    'invalid',
    /invalid chain ?id|chain id mismatch|invalid sender|intrinsic gas too low|requires at least \d+ gas|exceeds block gas limit|oversized data|tip above fee cap|invalid (raw )?transaction|rlp/i,
  ],
];

/** Classifies anything the chain client throws. */
export function classifyChainError(err: unknown): ChainErrorKind {
  if (err instanceof RpcTransportError) return 'transport';
  if (err instanceof RpcResponseError) {
    for (const [kind, pattern] of PATTERNS) if (pattern.test(err.rpcMessage)) return kind;
    // EIP-1474 / EIP-140 "execution reverted" code, for nodes whose message says less.
    if (err.code === 3) return 'reverted';
    if (err.code === -32602) return 'invalid';
    return 'rpc';
  }
  return 'rpc';
}

/** Kinds that are never retried: the job is dead-lettered at once. */
export function isPermanentChainError(kind: ChainErrorKind): boolean {
  return kind === 'reverted' || kind === 'invalid';
}

/** A short, log-safe description of a chain error (no URL, no key material). */
export function describeChainError(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 500);
  return String(err).slice(0, 500);
}
