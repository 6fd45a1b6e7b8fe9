import fs from 'node:fs';
import { inspect } from 'node:util';
import { Transaction, Wallet } from 'ethers';
import type { Secrets } from '@fieldproof/config';
import type { TxFees } from './fees.js';
import { SignerKeyError } from './signer-key-error.js';

export { SignerKeyError };

/** A transaction signed locally, ready to persist and broadcast. */
export interface SignedTx {
  /** 0x-prefixed lowercase hex of the signed envelope: exactly what is broadcast (and re-broadcast). */
  readonly raw: string;
  /** 0x-prefixed lowercase keccak256 of `raw`. */
  readonly hash: string;
}

export interface AnchorTxRequest {
  readonly chainId: number;
  readonly nonce: number;
  readonly to: string;
  readonly data: string;
  readonly gasLimit: bigint;
  readonly fees: TxFees;
}

/**
 * Signs anchor transactions. Holds the wallet privately: `toString`, `toJSON` and `util.inspect` show
 * only the address, so the key cannot reach a log line by accident.
 */
export class AnchorSigner {
  readonly address: string;
  readonly #wallet: Wallet;

  constructor(wallet: Wallet) {
    this.#wallet = wallet;
    this.address = wallet.address;
  }

  /** Signs offline (no provider): EIP-1559 (type 2) or legacy EIP-155 (type 0). */
  async sign(req: AnchorTxRequest): Promise<SignedTx> {
    const common = {
      chainId: BigInt(req.chainId),
      nonce: req.nonce,
      to: req.to,
      data: req.data,
      value: 0n,
      gasLimit: req.gasLimit,
    };
    const raw =
      req.fees.type === 2
        ? await this.#wallet.signTransaction({
            ...common,
            type: 2,
            maxFeePerGas: req.fees.maxFeePerGas,
            maxPriorityFeePerGas: req.fees.maxPriorityFeePerGas,
          })
        : await this.#wallet.signTransaction({ ...common, type: 0, gasPrice: req.fees.maxFeePerGas });
    const hash = Transaction.from(raw).hash;
    if (hash === null) throw new Error('signed transaction has no hash');
    return { raw: raw.toLowerCase(), hash: hash.toLowerCase() };
  }

  toString(): string {
    return `AnchorSigner(${this.address})`;
  }

  toJSON(): { address: string } {
    return { address: this.address };
  }

  [inspect.custom](): string {
    return `AnchorSigner { address: ${this.address} }`;
  }
}

const HEX_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

/**
 * The signer from KEEPER_SIGNER_KEY (the key itself, e.g. from a secret store) or KEEPER_SIGNER_KEY_FILE
 * (a file holding the hex key, which group and others must not be able to access at all). Throws
 * SignerKeyError with one line that names the variable and never the key.
 */
export function loadAnchorSigner(secrets: Secrets): AnchorSigner {
  if (secrets.signerKey !== undefined) return signerFrom(secrets.signerKey, 'KEEPER_SIGNER_KEY');
  const file = secrets.signerKeyFile;
  if (file === undefined) {
    throw new SignerKeyError(
      'KEEPER_SIGNER_KEY_FILE: not set — an EVM provider needs a signing key (KEEPER_SIGNER_KEY_FILE or KEEPER_SIGNER_KEY)',
    );
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new SignerKeyError(
      `KEEPER_SIGNER_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  if (!stat.isFile()) throw new SignerKeyError(`KEEPER_SIGNER_KEY_FILE: ${file} is not a regular file`);
  if ((stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new SignerKeyError(
      `KEEPER_SIGNER_KEY_FILE: ${file} is accessible by group or others (mode ${mode}); refusing it — run chmod 600 ${file}`,
    );
  }
  return signerFrom(fs.readFileSync(file, 'utf8'), 'KEEPER_SIGNER_KEY_FILE');
}

function signerFrom(text: string, variable: string): AnchorSigner {
  const key = text.trim();
  if (!HEX_KEY.test(key)) {
    throw new SignerKeyError(`${variable}: not a 32-byte hex private key (64 hex digits, optional 0x)`);
  }
  try {
    return new AnchorSigner(new Wallet(key.startsWith('0x') ? key : `0x${key}`));
  } catch {
    throw new SignerKeyError(`${variable}: not a valid secp256k1 private key`);
  }
}
