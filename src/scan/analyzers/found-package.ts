// What the pure parsers return: an installed package without the layer, which only the
// layer walker knows. The adapters in index.ts add it.
import type { InstalledPackage } from '../../core/quality.ts';

export type FoundPackage = Omit<InstalledPackage, 'layer'>;

/** Decodes file bytes as UTF-8, dropping a byte order mark (Windows-made manifests and
 * lock files carry one, and JSON.parse refuses it). */
export function decodeText(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Sorts packages by path, name and version so repeated runs produce the same order. */
export function sortPackages<T extends FoundPackage>(packages: T[]): T[] {
  return packages.sort((a, b) => cmp(a.path, b.path) || cmp(a.name, b.name) || cmp(a.version, b.version));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
