// Python packages, from the metadata installers leave next to the code: wheels install
// `<name>-<version>.dist-info/METADATA`, setuptools `<name>.egg-info/PKG-INFO` (or a
// single `<name>.egg-info` file, as distutils and Debian's python3-* packages write it),
// eggs `EGG-INFO/PKG-INFO`. All are RFC 822 style headers (the core metadata spec),
// followed by the long description, which is never needed.
import { decodeText, type FoundPackage } from './found-package.ts';
import { pypiPurl } from './purl.ts';

/** Only the headers are read; a METADATA file is rarely above a few hundred KiB even with
 * its description, and one above this is not parsed. */
export const MAX_PYTHON_METADATA_BYTES = 4 * 1024 * 1024;

/** Whether `path` (no leading slash) is a Python package's metadata file. */
export function isPythonMetadataPath(path: string): boolean {
  const parts = path.split('/');
  const base = parts[parts.length - 1]!;
  const dir = parts.length >= 2 ? parts[parts.length - 2]! : '';
  if (base === 'METADATA') return dir.endsWith('.dist-info');
  if (base === 'PKG-INFO') return dir.endsWith('.egg-info') || dir === 'EGG-INFO';
  return base.endsWith('.egg-info');
}

/** The header fields of a core metadata file: name (lowercased) → values in order.
 * Continuation lines (leading whitespace) extend the previous value. */
export function parseMetadataHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; index: number } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the description follows the first blank line
    if (/^[ \t]/.test(line)) {
      if (last !== null) {
        const values = headers.get(last.key)!;
        values[last.index] = `${values[last.index]}\n${line.trim()}`;
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = headers.get(key) ?? [];
    values.push(value);
    headers.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return headers;
}

/** The license as declared: `License-Expression` (metadata 2.4, an SPDX expression),
 * else a short `License` field (many projects paste the whole license text there, which
 * names nothing), else the trove classifiers' last segment (`MIT License`). */
export function pythonLicenses(headers: Map<string, string[]>): string[] {
  const expression = headers.get('license-expression')?.[0];
  if (expression !== undefined && expression !== '') return [expression];
  const license = headers.get('license')?.[0];
  if (license !== undefined && license !== '' && license !== 'UNKNOWN' && !license.includes('\n') && license.length <= 100) {
    return [license];
  }
  const fromClassifiers = (headers.get('classifier') ?? [])
    .filter((c) => c.startsWith('License ::'))
    .map((c) => c.split('::').pop()!.trim())
    .filter((c) => c !== '' && c !== 'OSI Approved');
  return [...new Set(fromClassifiers)];
}

/** Parses a metadata file; null when it has no name or version. */
export function parsePythonMetadata(path: string, bytes: Uint8Array): FoundPackage | null {
  const headers = parseMetadataHeaders(decodeText(bytes));
  const name = headers.get('name')?.[0];
  const version = headers.get('version')?.[0];
  if (name === undefined || name === '' || version === undefined || version === '') return null;
  const licenses = pythonLicenses(headers);
  return {
    ecosystem: 'pypi',
    name,
    version,
    ...(licenses.length > 0 ? { licenses } : {}),
    path,
    purl: pypiPurl(name, version),
  };
}
