// The patterns of immutability rules and retention policies: `*` matches within one path
// component, `**` across components, `?` one character; everything else is literal. A
// pattern always matches the whole name. Patterns are compiled once and cached.

const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let compiled = cache.get(pattern);
  if (compiled) return compiled;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  compiled = new RegExp(`^${source}$`);
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

export function globMatches(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}

/** Patterns are short and printable: what a rule can sensibly name. */
export function isValidGlob(pattern: string): boolean {
  return pattern.length > 0 && pattern.length <= 255 && /^[A-Za-z0-9._\-/*?]+$/.test(pattern);
}
