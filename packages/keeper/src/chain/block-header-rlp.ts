import { RLP } from '@ethereumjs/rlp';
import { getBytes } from 'ethers';

/**
 * Encodes a block header from its `eth_getBlockByNumber` JSON, for nodes without `debug_getRawHeader`
 * (hardhat has none). The field list grows by fork; a header has the 15 base fields and a contiguous
 * prefix of the optional ones, so the encoding is what the block has, never a guess:
 *
 * ```
 * parentHash sha3Uncles miner stateRoot transactionsRoot receiptsRoot logsBloom difficulty number
 * gasLimit gasUsed timestamp extraData mixHash nonce                                   (Frontier: 15)
 *   + baseFeePerGas (London) + withdrawalsRoot (Shanghai)
 *   + blobGasUsed excessBlobGas parentBeaconBlockRoot (Cancun) + requestsHash (Prague)  (up to 21)
 * ```
 *
 * Integers are minimal big-endian (zero is the empty string); byte fields — hashes, `miner`,
 * `logsBloom`, `extraData`, the 8-byte `nonce` — are taken as they are.
 */
export const HEADER_FIELDS = [
  ['parentHash', 'bytes'],
  ['sha3Uncles', 'bytes'],
  ['miner', 'bytes'],
  ['stateRoot', 'bytes'],
  ['transactionsRoot', 'bytes'],
  ['receiptsRoot', 'bytes'],
  ['logsBloom', 'bytes'],
  ['difficulty', 'uint'],
  ['number', 'uint'],
  ['gasLimit', 'uint'],
  ['gasUsed', 'uint'],
  ['timestamp', 'uint'],
  ['extraData', 'bytes'],
  ['mixHash', 'bytes'],
  ['nonce', 'bytes'],
  ['baseFeePerGas', 'uint'],
  ['withdrawalsRoot', 'bytes'],
  ['blobGasUsed', 'uint'],
  ['excessBlobGas', 'uint'],
  ['parentBeaconBlockRoot', 'bytes'],
  ['requestsHash', 'bytes'],
] as const;

export type HeaderFieldName = (typeof HEADER_FIELDS)[number][0];

/** Header fields as JSON-RPC writes them (`0x` hex); absent or null when the fork has not got one. */
export type RpcBlockHeader = Partial<Record<HeaderFieldName, string | null>>;

const REQUIRED_FIELDS = 15;

/** The block JSON lacks a field it must have, or has optional fields with a gap between them. */
export class HeaderEncodingError extends Error {
  override readonly name = 'HeaderEncodingError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`cannot encode the block header: ${field} ${reason}`);
  }
}

/** The RLP header of `block`. Throws `HeaderEncodingError` for a missing field or a gap. */
export function encodeBlockHeader(block: RpcBlockHeader): Uint8Array {
  const present = HEADER_FIELDS.map(([name]) => block[name] != null);
  const count = present.lastIndexOf(true) + 1;
  const items: Uint8Array[] = [];
  HEADER_FIELDS.forEach(([name, kind], i) => {
    if (i >= Math.max(count, REQUIRED_FIELDS)) return;
    const value = block[name];
    if (value == null) {
      const later = HEADER_FIELDS[count - 1]![0];
      throw new HeaderEncodingError(
        name,
        i < REQUIRED_FIELDS ? 'is missing' : `is missing but ${later} is present`,
      );
    }
    items.push(kind === 'uint' ? uintBytes(name, value) : hexBytes(name, value));
  });
  return RLP.encode(items);
}

function hexBytes(name: string, value: string): Uint8Array {
  try {
    return getBytes(value);
  } catch (err) {
    throw new HeaderEncodingError(name, `is not hex bytes (${(err as Error).message})`);
  }
}

function uintBytes(name: string, value: string): Uint8Array {
  let n: bigint;
  try {
    n = BigInt(value);
  } catch {
    throw new HeaderEncodingError(name, `is not an integer: ${value}`);
  }
  if (n < 0n) throw new HeaderEncodingError(name, 'is negative');
  if (n === 0n) return new Uint8Array(0);
  const hex = n.toString(16);
  return getBytes(`0x${hex.length % 2 === 0 ? hex : `0${hex}`}`);
}
