/**
 * The keeper's EVM signing key problem, in one line an operator can act on. Never carries key material.
 * Its own module so that the keeper can name it as a refusal without loading ethers.
 */
export class SignerKeyError extends Error {
  override readonly name = 'SignerKeyError';
}
