import type { FastifyRequest, RouteOptions } from 'fastify';

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]{0,15})$/;
const DECIMAL_NUMBER = /^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,17})?$/;

/**
 * Body validation coerces nothing (`"occurredAt": "5"` is a 400). A query string, though, is text by
 * nature, so for the query properties a route's schema declares numeric, a plain decimal number is
 * turned into a number before validation — and only that: no "1e3", no "0x10", no leading zeros, no
 * booleans or arrays conjured from strings. Anything else reaches the validator as text and fails it.
 *
 * Installed as an onRoute hook: it adds a preValidation hook to each route with numeric query fields.
 */
export function addQueryCoercion(route: RouteOptions): void {
  const schema = route.schema?.querystring as { properties?: Record<string, { type?: unknown }> } | undefined;
  const properties = schema?.properties;
  if (properties === undefined) return;
  const numeric = Object.entries(properties).flatMap(([name, s]) =>
    s.type === 'integer'
      ? [{ name, pattern: DECIMAL_INTEGER }]
      : s.type === 'number'
        ? [{ name, pattern: DECIMAL_NUMBER }]
        : [],
  );
  if (numeric.length === 0) return;
  const coerce = async (request: FastifyRequest) => {
    const query = request.query as Record<string, unknown>;
    for (const { name, pattern } of numeric) {
      const value = query[name];
      if (typeof value === 'string' && pattern.test(value)) query[name] = Number(value);
    }
  };
  const existing = route.preValidation;
  route.preValidation =
    existing === undefined ? [coerce] : [...(Array.isArray(existing) ? existing : [existing]), coerce];
}
