// The small builders every JSON Schema of the management API is written with.
export type JsonSchema = { readonly [key: string]: unknown };

export const string = (extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...extra });
export const nullableString = (extra: JsonSchema = {}): JsonSchema => ({ type: ['string', 'null'], ...extra });
export const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableDateTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
/** A closed object: only the listed properties, `required` among them. */
export const object = (properties: Record<string, JsonSchema>, required: readonly string[] = [], extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  required: [...required],
  additionalProperties: false,
  ...extra,
});
