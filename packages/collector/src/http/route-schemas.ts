/** `:origin` in a device route's path: the log origin, percent-encoded. */
export const originParams = {
  type: 'object',
  additionalProperties: false,
  required: ['origin'],
  properties: { origin: { type: 'string', minLength: 1, maxLength: 255 } },
} as const;
