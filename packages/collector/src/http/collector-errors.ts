import createError from '@fastify/error';
import { errors as apiErrors } from '@fieldproof/api';

function coded<C extends string, S extends number>(code: C, statusCode: S) {
  return createError<C, S, [message: string]>(code, '%s', statusCode);
}

/**
 * Every error the collector answers with: the api's catalogue (same shape, same codes for the same
 * faults — validation, auth, limits, shutdown) plus the collector's own. docs/COLLECTOR.md lists them.
 */
export const errors = {
  ...apiErrors,
  /** The push key is valid but enrolled for another origin than the URL's. */
  WrongDevice: coded('FP_WRONG_DEVICE', 403),
  /** The checkpoint is malformed, for another origin, or not signed by the enrolled key. */
  BadCheckpoint: coded('FP_BAD_CHECKPOINT', 422),
  /** A leaf hash is not the fieldproof-leaf/v1 encoding of its record, or differs from one mirrored. */
  LeafMismatch: coded('FP_LEAF_MISMATCH', 422),
  /** The leaves do not continue exactly from the collector's tree size to the checkpoint's. */
  LeafGap: coded('FP_LEAF_GAP', 422),
  /** The leaves on the mirrored tree do not rebuild the checkpoint's root. */
  RootMismatch: coded('FP_ROOT_MISMATCH', 422),
  /** A leaf says the unit holds content, but its file was not PUT before the push. */
  ContentMissing: coded('FP_CONTENT_MISSING', 422),
  /** The checkpoint does not extend what the collector cosigned: kept as proof, never cosigned. */
  Equivocation: coded('FP_EQUIVOCATION', 409),
  /** A pushed anchor proof does not verify against its own header (or is not of the stated transaction). */
  BadAnchorProof: coded('FP_BAD_ANCHOR_PROOF', 400),
  /** A proven anchor transaction does not anchor a checkpoint the collector holds for this device. */
  AnchorMismatch: coded('FP_ANCHOR_MISMATCH', 422),
  /** The collector keeps no fleet log (fleet anchoring is off: KEEPER_PROVIDER is not evm or multi). */
  FleetDisabled: coded('FP_FLEET_DISABLED', 404),
  /** `after` is not a cursor this collector gave out. */
  BadCursor: coded('FP_BAD_CURSOR', 400),
} as const;

type CataloguedError = Error & { code: string; statusCode: number };

const CODES = new Set<string>(
  Object.values(errors).map((ctor) => {
    const e = new ctor('x');
    return e.code;
  }),
);

/** Every catalogued code with its HTTP status (for docs). */
export function collectorErrorCatalogue(): { code: string; statusCode: number }[] {
  return Object.values(errors).map((ctor) => {
    const e = new ctor('x');
    return { code: e.code, statusCode: e.statusCode };
  });
}

export function isCollectorError(err: unknown): err is CataloguedError {
  return typeof err === 'object' && err !== null && CODES.has((err as { code?: unknown }).code as string);
}
