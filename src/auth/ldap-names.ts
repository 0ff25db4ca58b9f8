// Pure helpers for LDAP strings: filter values (RFC 4515) and distinguished names
// (RFC 4514) as far as the directory login needs them. No I/O.

/**
 * Escapes a value for use inside an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`, `\`
 * and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`, so a value can only ever be a literal
 * assertion value, never filter syntax (no wildcard, no extra clause).
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Fills a filter template's `{name}` placeholders with escaped values. Unknown
 * placeholders are left as they are. The result is wrapped in parentheses when the
 * template was a bare item (`uid={username}`).
 */
export function fillFilter(template: string, values: Readonly<Record<string, string>>): string {
  const filled = template.trim().replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? escapeFilterValue(values[name]!) : whole));
  return filled.startsWith('(') ? filled : `(${filled})`;
}

/** One attribute-value pair of an RDN, the value unescaped. */
export interface AttributeValue {
  readonly type: string;
  readonly value: string;
}

/**
 * Splits a DN into RDNs (each a list of attribute-value pairs, for multi-valued RDNs
 * joined with `+`), unescaping values (`\,`, `\2C`...). Returns null for a string that is
 * not a DN. Hex-encoded (`#...`) values are kept as written.
 */
export function parseDn(dn: string): AttributeValue[][] | null {
  const rdns: AttributeValue[][] = [];
  let rdn: AttributeValue[] = [];
  let type = '';
  let value: number[] = [];
  let inValue = false;
  const bytes = Buffer.from(dn.trim(), 'utf8');
  if (bytes.length === 0) return [];
  const finishPair = (): boolean => {
    const name = type.trim();
    if (!inValue || name === '') return false;
    rdn.push({ type: name.toLowerCase(), value: trimUnescapedSpace(value) });
    type = '';
    value = [];
    inValue = false;
    return true;
  };
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (!inValue) {
      if (byte === 0x3d /* = */) inValue = true;
      else if (byte === 0x2c || byte === 0x2b || byte === 0x5c) return null;
      else type += String.fromCharCode(byte);
      continue;
    }
    if (byte === 0x5c /* \ */) {
      const next = bytes[i + 1];
      if (next === undefined) return null;
      const hex = bytes.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        const decoded = Number.parseInt(hex, 16);
        value.push(decoded === 0x20 ? ESCAPED_SPACE : decoded);
        i += 2;
      } else {
        // An escaped special character keeps its place even at the value's ends: mark it
        // so the trimming below does not remove an escaped space.
        value.push(next === 0x20 ? ESCAPED_SPACE : next);
        i += 1;
      }
      continue;
    }
    if (byte === 0x2c /* , */ || byte === 0x3b /* ; */) {
      if (!finishPair()) return null;
      rdns.push(rdn);
      rdn = [];
      continue;
    }
    if (byte === 0x2b /* + */) {
      if (!finishPair()) return null;
      continue;
    }
    value.push(byte);
  }
  if (!finishPair()) return null;
  rdns.push(rdn);
  return rdns;
}

// A placeholder byte for an escaped space while a value is collected (never valid UTF-8
// on its own, so it cannot come from the input unescaped).
const ESCAPED_SPACE = 0xff;

function trimUnescapedSpace(bytes: number[]): string {
  let start = 0;
  let end = bytes.length;
  while (start < end && bytes[start] === 0x20) start++;
  while (end > start && bytes[end - 1] === 0x20) end--;
  return Buffer.from(bytes.slice(start, end).map((b) => (b === ESCAPED_SPACE ? 0x20 : b))).toString('utf8');
}

/**
 * A DN's comparison key: attribute types and values lowercased, whitespace around
 * separators dropped, escapes decoded, multi-valued RDNs sorted. Two DNs naming the same
 * entry in the ways directories commonly write it get the same key. Null when `dn` does
 * not parse.
 */
export function normalizeDn(dn: string): string | null {
  const rdns = parseDn(dn);
  if (rdns === null) return null;
  return JSON.stringify(rdns.map((rdn) => rdn.map((pair) => [pair.type, pair.value.toLowerCase().replace(/\s+/g, ' ')]).sort()));
}

/** Whether two DNs name the same entry (compared case-insensitively, whitespace normalised). */
export function sameDn(a: string, b: string): boolean {
  const left = normalizeDn(a);
  return left !== null && left === normalizeDn(b);
}

/** The DN above `dn` (its first RDN removed), or null for a DN of one RDN or none. */
export function parentDn(dn: string): string | null {
  const text = dn.trim();
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ',' || text[i] === ';') {
      const rest = text.slice(i + 1).trim();
      return rest === '' ? null : rest;
    }
  }
  return null;
}
