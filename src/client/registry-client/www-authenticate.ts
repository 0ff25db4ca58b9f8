// Parses WWW-Authenticate challenges (RFC 7235): `Bearer realm="...",service="...",
// scope="repository:a:pull,push"` where quoted values may contain commas and escapes,
// and several challenges may share one header.

export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`... */
  readonly scheme: string;
  /** Parameters with lower-cased names. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseWwwAuthenticate(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  const challenges: Challenge[] = [];
  for (const value of values) challenges.push(...parseOne(value));
  return challenges;
}

function parseOne(input: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let rest = input;
  const skip = (pattern: RegExp): void => {
    rest = rest.replace(pattern, '');
  };
  while (rest.length > 0) {
    skip(/^[\s,]+/);
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length);
    const current = { scheme: scheme.toLowerCase(), params: {} as Record<string, string> };
    challenges.push(current);
    // Parameters: name=value pairs separated by commas, until the next scheme token.
    for (;;) {
      skip(/^[\s,]+/);
      const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(rest);
      // No parameter: the next challenge's scheme (or a token68, which Bearer and Basic do not use).
      if (match === null) break;
      rest = rest.slice(match[0].length);
      const name = match[1]!.toLowerCase();
      let value: string;
      if (rest.startsWith('"')) {
        let index = 1;
        value = '';
        while (index < rest.length && rest[index] !== '"') {
          if (rest[index] === '\\' && index + 1 < rest.length) index++;
          value += rest[index];
          index++;
        }
        rest = rest.slice(index + 1);
      } else {
        const token = /^[^\s,]*/.exec(rest)![0];
        value = token;
        rest = rest.slice(token.length);
      }
      current.params[name] = value;
    }
  }
  return challenges;
}
