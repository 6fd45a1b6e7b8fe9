/**
 * Error classes of `@fieldproof/receipt`. Verification never throws these for a bad receipt: it reports
 * a failed link instead. They are thrown by the encoders and by `validateReceipt` / `buildReceipt`.
 */

/** Base class: `err instanceof ReceiptError` catches every error this package throws on purpose. */
export class ReceiptError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value is not plain JSON (I-JSON): cannot be canonicalised with RFC 8785. */
export class CanonicalJsonError extends ReceiptError {
  constructor(
    /** Where in the value, e.g. `metadata.readings[2]`. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** An evidence record cannot be encoded as `fieldproof-leaf/v1`. */
export class LeafEncodingError extends ReceiptError {
  constructor(
    readonly field: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot encode leaf: ${field} ${reason}`, options);
  }
}

/** Bytes that are not a `FPA1` anchor payload, or a checkpoint that cannot be encoded as one. */
export class AnchorPayloadError extends ReceiptError {
  constructor(readonly reason: string) {
    super(`anchor payload: ${reason}`);
  }
}

/** A receipt that does not follow `fieldproof-receipt/v1`, or a consistency proof that is not `{from, to, proof}`. */
export class ReceiptFormatError extends ReceiptError {
  constructor(
    /** JSON path of the offending value, e.g. `receipt.inclusion.proof[3]` or `proof.from`. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}
