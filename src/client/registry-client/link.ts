// RFC 8288 Link headers, as registries use them for pagination: `</v2/x/tags/list?n=3&last=b>; rel="next"`.

/** The `rel="next"` target resolved against `base`, or undefined. */
export function nextLink(header: string | undefined, base: URL): URL | undefined {
  if (header === undefined) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? '';
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) return new URL(match[1]!, base);
  }
  return undefined;
}
