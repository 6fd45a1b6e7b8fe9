import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { GWEI } from './units.js';

/** One EVM chain the keeper anchors on (an element of KEEPER_CHAINS). */
export interface ChainConfig {
  /** Short unique name, used in the outbox and metrics. */
  readonly name: string;
  readonly rpcUrl: string;
  readonly chainId: number;
  /** Confirmations (blocks including the anchor's) before an anchor is `confirmed`. */
  readonly confirmations: number;
  /** Whether to also wait for the `finalized` block tag ('auto': use it when the node answers it). */
  readonly finality: 'auto' | 'tag' | 'confirmations';
  /** Where anchor transactions are sent (calldata carries the checkpoint). Default: the signer itself. */
  readonly anchorAddress: string | undefined;
  /** Fee cap: a stuck transaction's fees are bumped up to this many wei per gas, never beyond. */
  readonly maxFeePerGasWei: bigint;
  /** A broadcast transaction not included after this long is re-priced (same nonce). */
  readonly stuckAfterMs: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Parses KEEPER_CHAINS: a JSON array, or `@path` to a file holding one. */
export function parseChains(value: string | undefined, cwd: string): ChainConfig[] {
  if (value === undefined || value.trim() === '') return [];
  let text = value.trim();
  if (text.startsWith('@')) {
    const file = path.resolve(cwd, text.slice(1));
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('KEEPER_CHAINS', `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(
      'KEEPER_CHAINS',
      'is not valid JSON (expected an array of {name, rpcUrl, chainId, confirmations})',
    );
  }
  if (!Array.isArray(parsed)) throw new ConfigError('KEEPER_CHAINS', 'must be a JSON array');
  const chains = parsed.map((c, i) => parseChain(c, i));
  const names = new Set<string>();
  for (const c of chains) {
    if (names.has(c.name)) throw new ConfigError('KEEPER_CHAINS', `chain name "${c.name}" appears twice`);
    names.add(c.name);
  }
  return chains;
}

const KNOWN_FIELDS = new Set([
  'name',
  'rpcUrl',
  'chainId',
  'confirmations',
  'finality',
  'anchorAddress',
  'maxFeePerGasGwei',
  'stuckAfterMs',
]);

function parseChain(raw: unknown, i: number): ChainConfig {
  const where = `KEEPER_CHAINS[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(where, 'must be an object');
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!KNOWN_FIELDS.has(key)) throw new ConfigError(where, `unknown field "${key}"`);
  }
  if (typeof c.name !== 'string' || !NAME.test(c.name)) {
    throw new ConfigError(where, 'name must be 1-32 of a-z 0-9 _ - (starting with a letter or digit)');
  }
  // The keeper speaks JSON-RPC over HTTP(S) only (one request, one answer, a timeout each).
  if (typeof c.rpcUrl !== 'string' || !/^https?:\/\/./.test(c.rpcUrl)) {
    throw new ConfigError(where, 'rpcUrl must be an http:// or https:// URL');
  }
  if (typeof c.chainId !== 'number' || !Number.isSafeInteger(c.chainId) || c.chainId <= 0) {
    throw new ConfigError(where, 'chainId must be a positive integer');
  }
  const confirmations = c.confirmations ?? 12;
  if (typeof confirmations !== 'number' || !Number.isSafeInteger(confirmations) || confirmations < 1) {
    throw new ConfigError(where, 'confirmations must be an integer ≥ 1');
  }
  const finality = c.finality ?? 'auto';
  if (finality !== 'auto' && finality !== 'tag' && finality !== 'confirmations') {
    throw new ConfigError(where, 'finality must be "auto", "tag" or "confirmations"');
  }
  if (
    c.anchorAddress !== undefined &&
    (typeof c.anchorAddress !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(c.anchorAddress))
  ) {
    throw new ConfigError(where, 'anchorAddress must be a 0x-prefixed 20-byte hex address');
  }
  const capGwei = c.maxFeePerGasGwei ?? 500;
  if (typeof capGwei !== 'number' || !(capGwei > 0) || !Number.isFinite(capGwei)) {
    throw new ConfigError(where, 'maxFeePerGasGwei must be a positive number');
  }
  const stuckAfterMs = c.stuckAfterMs ?? 180_000;
  if (typeof stuckAfterMs !== 'number' || !Number.isSafeInteger(stuckAfterMs) || stuckAfterMs < 1000) {
    throw new ConfigError(where, 'stuckAfterMs must be an integer ≥ 1000');
  }
  return Object.freeze({
    name: c.name,
    rpcUrl: c.rpcUrl,
    chainId: c.chainId,
    confirmations,
    finality,
    anchorAddress: c.anchorAddress,
    maxFeePerGasWei: BigInt(Math.round(capGwei * 1e6)) * (GWEI / 1_000_000n),
    stuckAfterMs,
  });
}
