// A JSON reader for configuration files that must be read "paranoidly", as containers/image
// reads policy.json: JSON.parse silently keeps the last of two equal keys, which would let a
// policy say two things at once, so duplicates are refused here, with the JSON path of the
// object that has them; syntax errors name the line and column rather than an offset.

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
}

/** `.a.b[0]["odd key"]`: how a path is written in messages. */
export function jsonPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** Parses JSON text; throws StrictJsonError for a syntax error (line:column) or a duplicate key (path). */
export function parseStrictJson(text: string): unknown {
  let at = 0;

  const fail = (problem: string): never => {
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    throw new StrictJsonError(`invalid JSON at line ${line}, column ${column}: ${problem}`);
  };
  const skipSpace = (): void => {
    while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at += 1;
  };
  const describe = (): string => (at >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[at])}`);

  const string = (): string => {
    const start = at;
    at += 1; // the opening quote
    while (at < text.length && text[at] !== '"') {
      if (text[at] === '\\') at += 1;
      else if (text.charCodeAt(at) < 0x20) fail('control character in a string');
      at += 1;
    }
    if (at >= text.length) fail('unterminated string');
    at += 1;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      at = start;
      return fail('invalid escape in a string');
    }
  };

  const value = (path: string): unknown => {
    skipSpace();
    const char = text[at];
    if (char === '{') {
      at += 1;
      const object: Record<string, unknown> = {};
      const seen = new Set<string>();
      skipSpace();
      if (text[at] === '}') {
        at += 1;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text[at] !== '"') fail(`${describe()}, expected a key in double quotes`);
        const key = string();
        if (seen.has(key)) throw new StrictJsonError(`${path || '(top level)'}: duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        skipSpace();
        if (text[at] !== ':') fail(`${describe()}, expected ":"`);
        at += 1;
        // defineProperty: a key "__proto__" must be data, not a prototype change.
        Object.defineProperty(object, key, { value: value(jsonPath(path, key)), enumerable: true, writable: true, configurable: true });
        skipSpace();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === '}') {
          at += 1;
          return object;
        }
        fail(`${describe()}, expected "," or "}"`);
      }
    }
    if (char === '[') {
      at += 1;
      const array: unknown[] = [];
      skipSpace();
      if (text[at] === ']') {
        at += 1;
        return array;
      }
      for (;;) {
        array.push(value(jsonPath(path, array.length)));
        skipSpace();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === ']') {
          at += 1;
          return array;
        }
        fail(`${describe()}, expected "," or "]"`);
      }
    }
    if (char === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(at, at + 400));
    if (literal === null) return fail(describe());
    at += literal[0].length;
    return JSON.parse(literal[0]) as unknown;
  };

  const result = value('');
  skipSpace();
  if (at < text.length) fail(`${describe()} after the JSON value`);
  return result;
}
