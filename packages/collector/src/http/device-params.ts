/**
 * The `:origin` route parameter every per-device route takes (the device's log origin, percent-encoded in
 * the path), alone or with one more parameter. Shared by the push, audit and public routes so that one
 * limit holds for all of them.
 */
export const originParams = {
  type: 'object',
  additionalProperties: false,
  required: ['origin'],
  properties: { origin: { type: 'string', minLength: 1, maxLength: 255 } },
} as const;

/** `:origin` and one more parameter `name`, validated by `schema`. */
export function originAnd<N extends string, S extends object>(name: N, schema: S) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['origin', name],
    properties: { origin: originParams.properties.origin, [name]: schema } as {
      readonly origin: typeof originParams.properties.origin;
    } & { readonly [K in N]: S },
  } as const;
}

/** `:origin/content/:digest`: a SHA-256 as 64 lowercase hex digits. */
export const originAndDigest = originAnd('digest', { type: 'string', pattern: '^[0-9a-f]{64}$' } as const);
