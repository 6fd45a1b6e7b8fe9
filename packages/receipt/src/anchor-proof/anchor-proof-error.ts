import { ReceiptError } from '../errors.js';

/**
 * The checks of an anchor proof, in the order `verifyAnchorProof` runs them (docs/FORMATS.md, "Anchor
 * proof"). One list: the error's `check` and the docs name the same steps.
 */
export const ANCHOR_PROOF_CHECKS = [
  'format',
  'header-hash',
  'header',
  'block-number',
  'tx-proof',
  'tx',
  'chain-id',
] as const;
export type AnchorProofCheck = (typeof ANCHOR_PROOF_CHECKS)[number];

/** An anchor proof that does not prove what it claims; `check` names the step that failed. */
export class AnchorProofError extends ReceiptError {
  constructor(
    readonly check: AnchorProofCheck,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`anchor proof: ${check}: ${reason}`, options);
  }
}
