// The advisory database a scan outside the registry matches against: a database file
// written by `custody vulndb` (opened as it is), or feeds (files, directories of Red Hat
// CSAF/VEX, Debian, Alpine secdb, OSV) imported into an empty database for this one run.
// Which SQL engine holds it is the entry point's choice (AdvisoryDatabaseDriver): the
// domain names no driver.
import { open, stat } from 'node:fs/promises';
import type { AdvisoryStore } from '../metadata/advisory-store.ts';
import { readFeeds } from './advisories/feed-reader.ts';

export interface AdvisoryDatabase {
  readonly store: AdvisoryStore;
  close(): Promise<void>;
}

/** How the entry point opens advisory databases. */
export interface AdvisoryDatabaseDriver {
  /** The SQLite database file at `path`, as it is. */
  openFile(path: string): Promise<AdvisoryDatabase>;
  /** An empty database (schema in place) that lives for this run only. */
  openEmpty(): Promise<AdvisoryDatabase>;
}

async function isSqliteFile(path: string): Promise<boolean> {
  if ((await stat(path)).isDirectory()) return false;
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(16);
    await handle.read(head, 0, 16, 0);
    return head.toString('latin1') === 'SQLite format 3\0';
  } finally {
    await handle.close();
  }
}

/**
 * Opens the advisory database at `target` (which exists): a database file as it is, or
 * feeds imported into an empty database; what is not a feed is skipped with a warning.
 */
export async function openAdvisories(target: string, driver: AdvisoryDatabaseDriver, warn: (message: string) => void): Promise<AdvisoryDatabase> {
  if (await isSqliteFile(target)) return driver.openFile(target);
  const database = await driver.openEmpty();
  try {
    const feeds = readFeeds(target);
    for (;;) {
      const next = await feeds.next();
      if (next.done) {
        for (const skipped of next.value) warn(`${skipped}: not an advisory feed format; skipped`);
        break;
      }
      await database.store.importDocument(next.value);
    }
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}
