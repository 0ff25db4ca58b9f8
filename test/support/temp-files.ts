// Throwaway directories and files for tests of configuration readers.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';

/** A factory of fresh directories under one root, removed when the test file ends. */
export function tempDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  return () => {
    const dir = join(root, String(counter++));
    mkdirSync(dir, { recursive: true });
    return dir;
  };
}

/** Writes `text` at `path`, creating its directory; returns the path. */
export function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}
