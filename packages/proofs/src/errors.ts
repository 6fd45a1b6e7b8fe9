/**
 * Error classes of `@fieldproof/proofs`. Each carries the data a caller (the api, the CLI) needs to
 * answer with the right status or line, so nobody parses `message`.
 */

/** Base class: `err instanceof ProofsError` catches every error this package throws on purpose. */
export class ProofsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No evidence record has this id. */
export class EvidenceNotFoundError extends ProofsError {
  constructor(readonly evidenceId: string) {
    super(`no evidence with id ${evidenceId}`);
  }
}

/** The evidence is recorded but the keeper has not given it a leaf index yet: no receipt exists yet. */
export class NotSequencedError extends ProofsError {
  constructor(readonly evidenceId: string) {
    super(`evidence ${evidenceId} is not in the log yet: the keeper has not sequenced it`);
  }
}

/**
 * The stored log disagrees with itself: a node is missing, the device key is not recorded, or a receipt
 * built from the stored rows does not verify. A receipt is never handed out in that case, and the
 * keeper's sequencer throws it too rather than extend a corrupt tree (one class for both sides).
 */
export class LogInconsistencyError extends ProofsError {}
