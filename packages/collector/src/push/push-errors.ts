/**
 * Why a push was refused, as data. The HTTP layer maps each onto its catalogued error
 * (http/collector-errors.ts); nothing of a refused push is stored, except the proof of an equivocation.
 */
export type PushRefusal =
  | { readonly kind: 'bad_checkpoint'; readonly message: string }
  | { readonly kind: 'leaf_mismatch'; readonly message: string }
  | { readonly kind: 'leaf_gap'; readonly message: string }
  | { readonly kind: 'root_mismatch'; readonly message: string }
  | { readonly kind: 'content_missing'; readonly message: string }
  | { readonly kind: 'equivocation'; readonly message: string }
  | { readonly kind: 'bad_anchor_proof'; readonly message: string }
  | { readonly kind: 'anchor_mismatch'; readonly message: string };

export class PushRefusedError extends Error {
  override readonly name = 'PushRefusedError';
  constructor(readonly refusal: PushRefusal) {
    super(refusal.message);
  }
}

export function refuse(kind: PushRefusal['kind'], message: string): never {
  throw new PushRefusedError({ kind, message });
}
