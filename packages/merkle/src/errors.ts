/**
 * Errors thrown by `@fieldproof/merkle`. Each is a small class that carries the data a caller needs to
 * report or classify the failure, so nobody has to parse `message`. All extend {@link MerkleError}.
 */

/** Base class: `err instanceof MerkleError` catches every failure this package throws on purpose. */
export class MerkleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A computed root differs from the one the caller expected: the proof does not prove the claim. */
export class RootMismatchError extends MerkleError {
  constructor(
    /** Root supplied by the caller (e.g. from a signed checkpoint). */
    readonly expected: Uint8Array,
    /** Root recomputed from the proof. */
    readonly calculated: Uint8Array,
    /** Which root failed: `root` (inclusion), `root1` or `root2` (consistency). */
    readonly which: 'root' | 'root1' | 'root2' = 'root',
  ) {
    super(`calculated ${which} does not match the expected ${which}`);
  }
}

/** A proof has the wrong number of hashes for its tree size(s); its shape alone is enough to reject it. */
export class ProofLengthError extends MerkleError {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`wrong proof length ${actual}, want ${expected}`);
  }
}

/** `leafIndex` is not below `treeSize`: no such leaf exists in that tree. */
export class IndexOutOfRangeError extends MerkleError {
  constructor(
    readonly leafIndex: number,
    readonly treeSize: number,
  ) {
    super(`leafIndex ${leafIndex} is beyond treeSize ${treeSize}`);
  }
}

/** A value used as a hash is not a 32-byte `Uint8Array`. `what` names it, e.g. `leafHash` or `proof[2]`. */
export class InvalidHashError extends MerkleError {
  constructor(
    readonly what: string,
    /** Byte length found, or `undefined` when the value was not a `Uint8Array` at all. */
    readonly length: number | undefined,
  ) {
    super(length === undefined ? `${what} is not a Uint8Array` : `${what} has ${length} bytes, want 32`);
  }
}

/** A size or index is not a safe integer ≥ 0 (`NaN`, fractional, negative or beyond 2^53 − 1). */
export class InvalidIntegerError extends MerkleError {
  constructor(
    readonly what: string,
    readonly value: unknown,
  ) {
    super(`${what} must be a safe integer >= 0, got ${String(value)}`);
  }
}

/** A consistency proof was asked for from a larger tree to a smaller one. */
export class SizeOrderError extends MerkleError {
  constructor(
    readonly size1: number,
    readonly size2: number,
  ) {
    super(`size2 (${size2}) < size1 (${size1})`);
  }
}

/**
 * A consistency proof from the empty tree was asked for. Every tree extends the empty one, so such a
 * proof proves nothing; rejecting it keeps callers from mistaking it for a check that happened.
 */
export class EmptyTreeError extends MerkleError {
  constructor(readonly size2: number) {
    super(`consistency proof from an empty tree (size1 = 0) to size2 = ${size2} is meaningless`);
  }
}

/** A frontier does not have one hash per set bit of its tree size, so it belongs to another tree size. */
export class FrontierSizeError extends MerkleError {
  constructor(
    readonly treeSize: number,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`frontier of treeSize ${treeSize} must hold ${expected} hashes, got ${actual}`);
  }
}

/** A node store lookup found nothing for a node a proof needs. */
export class MissingNodeError extends MerkleError {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    super(`node (level ${level}, index ${index}) is missing from the store`);
  }
}

/** A hex string is not exactly 64 hex digits. */
export class InvalidHexError extends MerkleError {
  constructor(readonly length: number) {
    super(`a hash in hex is exactly 64 hex digits; got ${length} characters or a non-hex digit`);
  }
}

/** A tree size beyond the leaves a tree holds was asked for (e.g. the root of a size not reached yet). */
export class TreeSizeError extends MerkleError {
  constructor(
    readonly treeSize: number,
    readonly available: number,
  ) {
    super(`treeSize ${treeSize} is beyond the ${available} leaves held`);
  }
}
