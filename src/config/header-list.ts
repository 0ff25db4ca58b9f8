// Header lists in settings (audit.forwardHeaders): tokens and tenant ids for collectors.
/**
 * "Name: value" entries separated by newlines or ";" (audit.forwardHeaders). Values are
 * secrets more often than not, so an error names the entry's position, never its text.
 */
export function parseHeaderList(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const entries = text.split(/[\n;]/).map((entry) => entry.trim()).filter((entry) => entry !== '');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Error(`entry ${index + 1} is not "Name: value"`);
    const value = entry.slice(colon + 1).trim();
    if (/[\r\n\0]/.test(value)) throw new Error(`entry ${index + 1} has a control character in its value`);
    headers[name.toLowerCase()] = value;
  });
  return headers;
}
