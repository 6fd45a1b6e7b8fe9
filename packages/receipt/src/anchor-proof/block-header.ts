import { AnchorProofError } from './anchor-proof-error.js';
import { decodeRlp, rlpBytes, rlpList, rlpSafeInteger } from './rlp-values.js';

/**
 * The header fields an anchor proof needs, read from the RLP-encoded header. Positions are the same in
 * every fork since Frontier (later forks only append fields: London `baseFeePerGas`, Shanghai
 * `withdrawalsRoot`, Cancun blob gas and `parentBeaconBlockRoot`, Prague `requestsHash`):
 *
 * ```
 * 0 parentHash  1 sha3Uncles  2 miner  3 stateRoot  4 transactionsRoot  5 receiptsRoot  6 logsBloom
 * 7 difficulty  8 number  9 gasLimit  10 gasUsed  11 timestamp  12 extraData  13 mixHash  14 nonce  15…
 * ```
 */
export interface BlockHeaderFields {
  readonly transactionsRoot: Uint8Array;
  readonly number: number;
  /** Seconds, as in the header. */
  readonly timestamp: number;
  /** 15 before London; 16, 17, 20, 21 after London, Shanghai, Cancun, Prague. */
  readonly fieldCount: number;
}

/** The fields every header has, Frontier on. */
export const BASE_HEADER_FIELD_COUNT = 15;

/**
 * Decodes an RLP block header. Precondition for trusting the result: the caller has checked that
 * keccak256 of these exact bytes is the block hash. Throws `AnchorProofError` (`header`).
 */
export function decodeBlockHeader(rawHeader: Uint8Array): BlockHeaderFields {
  const fields = rlpList(decodeRlp(rawHeader, 'header', 'the header'), 'header', 'the header');
  if (fields.length < BASE_HEADER_FIELD_COUNT) {
    throw new AnchorProofError(
      'header',
      `the header has ${fields.length} fields, at least ${BASE_HEADER_FIELD_COUNT} expected`,
    );
  }
  fields.forEach((field, i) => rlpBytes(field, 'header', `header field ${i}`));
  const transactionsRoot = rlpBytes(fields[4], 'header', 'header field 4 (transactionsRoot)');
  if (transactionsRoot.length !== 32) {
    throw new AnchorProofError('header', `transactionsRoot is ${transactionsRoot.length} bytes, expected 32`);
  }
  return {
    transactionsRoot,
    number: rlpSafeInteger(fields[8], 'header', 'header field 8 (number)'),
    timestamp: rlpSafeInteger(fields[11], 'header', 'header field 11 (timestamp)'),
    fieldCount: fields.length,
  };
}
