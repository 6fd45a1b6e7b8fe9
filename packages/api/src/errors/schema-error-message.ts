import type { FastifySchemaValidationError } from 'fastify';

/**
 * fastify's `schemaErrorFormatter`: the message of an FP_VALIDATION, naming the field as docs/API.md
 * promises. Ajv's own wording is kept (`body/digest must match pattern …`) but for an unknown field, where
 * ajv says only `body must NOT have additional properties` and keeps the name in `params`.
 */
export function schemaErrorMessage(validationErrors: FastifySchemaValidationError[], dataVar: string): Error {
  const text = validationErrors.map((e) => {
    const path = `${dataVar}${e.instancePath}`;
    const unknown = (e.params as { additionalProperty?: unknown }).additionalProperty;
    if (e.keyword === 'additionalProperties' && typeof unknown === 'string') {
      return `${path}/${pointerSegment(unknown)} is an unknown field (${path} must NOT have additional properties)`;
    }
    return `${path} ${e.message ?? 'is invalid'}`;
  });
  return new Error(text.join(', '));
}

/** A name as a JSON Pointer segment (RFC 6901), as ajv writes `instancePath`. */
function pointerSegment(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
