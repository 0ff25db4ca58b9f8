// SQLite serves one process: the registry keeps upload locks and caches in memory when
// it runs on SQLite, so a second `custody serve` on the same database file must be
// refused, not let in to corrupt uploads. The lock is an exclusive transaction on a small
// SQLite file beside the database: the operating system releases it when the process
// ends, however it ends (even SIGKILL), so a crash never leaves a stale lock behind.
// `custody gc` and `fsck` do not take it: they are safe beside a running server.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export class DatabaseInUseError extends Error {}

export interface ServeLock {
  release(): void;
}

export function lockSqliteForServing(databasePath: string): ServeLock {
  if (databasePath === ':memory:') return { release() {} };
  const path = `${databasePath}-serve.lock`;
  // Taken before the stores open: on a fresh data directory, nothing has created it yet.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(path, { timeout: 0 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { errcode?: number }).errcode === 5) {
      throw new DatabaseInUseError(
        `another custody serve is using the SQLite database ${databasePath}; SQLite serves one process at a time: ` +
          'stop the other one, or run several replicas on PostgreSQL (database.driver postgres)',
      );
    }
    throw error;
  }
  return {
    release() {
      if (db.isOpen) db.close();
    },
  };
}
