// A small JSON Schema checker for request bodies: the subset schemas.ts uses (type,
// properties, required, additionalProperties, enum, const, minLength, maxLength, pattern,
// format date-time, items). The first problem found is reported with its JSON path.
// Patterns are left to the service, whose messages say in words what a name may hold.
import { RegistryError } from '../core/errors.ts';
import type { JsonSchema } from './schemas.ts';

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function problem(schema: JsonSchema, value: unknown, path: string): string | null {
  const types = schema.type === undefined ? null : Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  const actual = typeOf(value);
  if (types && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    return `${path} must be ${types.map((type) => (type === 'null' ? 'null' : `a${/^[aeiou]/.test(type) ? 'n' : ''} ${type}`)).join(' or ')}`;
  }
  if (schema.const !== undefined && value !== schema.const) return `${path} must be ${JSON.stringify(schema.const)}`;
  if (Array.isArray(schema.enum) && !(schema.enum as unknown[]).includes(value)) {
    return `${path} must be one of ${(schema.enum as unknown[]).filter((item) => item !== null).join(', ')}`;
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) return `${path} needs at least ${schema.minLength} characters`;
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) return `${path} may have at most ${schema.maxLength} characters`;
    if (schema.format === 'date-time' && !(/^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value)))) return `${path} must be an RFC 3339 date and time`;
  }
  if (actual === 'object' && schema.properties !== undefined) {
    const object = value as Record<string, unknown>;
    const properties = schema.properties as Record<string, JsonSchema>;
    for (const name of (schema.required as string[] | undefined) ?? []) {
      if (object[name] === undefined) return `${path}.${name} is required`;
    }
    for (const [name, item] of Object.entries(object)) {
      const inner = properties[name];
      if (!inner) {
        if (schema.additionalProperties === false) return `${path}.${name} is not a known field`;
        continue;
      }
      const found = problem(inner, item, `${path}.${name}`);
      if (found) return found;
    }
  }
  if (actual === 'array' && schema.items !== undefined) {
    const items = value as unknown[];
    for (let index = 0; index < items.length; index++) {
      const found = problem(schema.items as JsonSchema, items[index], `${path}[${index}]`);
      if (found) return found;
    }
  }
  return null;
}

/** The path of the first string (or key) holding a NUL character: no name, description
 * or address may carry one, and the database could not store it. */
function nulCharacter(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? `${path} must not contain a NUL character` : null;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const where = Array.isArray(value) ? `${path}[${key}]` : `${path}.${JSON.stringify(key).slice(1, -1)}`;
    if (key.includes('\0')) return `${where} must not contain a NUL character`;
    const found = nulCharacter(item, where, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Throws INVALID_REQUEST naming the first place where `value` breaks `schema`. */
export function validateBody<T>(schema: JsonSchema, value: unknown): T {
  const found = nulCharacter(value, 'body') ?? problem(schema, value, 'body');
  if (found) throw new RegistryError('INVALID_REQUEST', found);
  return value as T;
}
