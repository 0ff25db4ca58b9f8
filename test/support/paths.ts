// Where things are, for tests: the repository root and ../shared beside it.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const custodyBin = join(repoRoot, 'bin', 'custody.js');

/** ../shared beside the repository root; throws a clear error when it is missing. */
export function sharedDir(...parts: string[]): string {
  const base = resolve(repoRoot, '..', 'shared');
  if (!existsSync(base)) throw new Error(`test material missing: ${base} (the shared/ folder beside the repository) is not there`);
  const path = join(base, ...parts);
  if (!existsSync(path)) throw new Error(`test material missing: ${path}`);
  return path;
}
