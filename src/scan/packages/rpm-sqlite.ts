// rpm's sqlite database `rpmdb.sqlite` (rpm ≥ 4.16: RHEL 9, Fedora ≥ 33, Amazon Linux
// 2023): table Packages(hnum INTEGER PRIMARY KEY, blob BLOB), one rpm header blob per row.
//
// The file comes out of a layer as bytes, so it is loaded into an in-memory database
// with sqlite3_deserialize instead of being written to a temporary file: nothing touches
// the disk and the original bytes are never modified (deserialize works on a copy).
import { DatabaseSync } from 'node:sqlite';
import { RpmDatabaseError } from './rpm-header.ts';
import type { RpmHeaderBlob } from './rpm-bdb.ts';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export function isSqliteDatabase(content: Uint8Array): boolean {
  return content.length >= 100 && Buffer.from(content.buffer, content.byteOffset, 16).equals(SQLITE_MAGIC);
}

/** Extracts every package header blob from an rpmdb.sqlite file, in hnum order. */
export function readSqlitePackages(content: Buffer): RpmHeaderBlob[] {
  if (!isSqliteDatabase(content)) throw new RpmDatabaseError('rpmdb.sqlite: not an SQLite 3 database (bad magic or truncated header)');
  const copy = Buffer.from(content);
  // rpm runs its database in WAL mode (file format bytes 18 and 19 are 2). SQLite's
  // in-memory VFS cannot open a WAL-mode image ("unable to open database file"), so the
  // copy is marked as a rollback-journal database (1), which describes the same pages.
  // A -wal file left beside it (rpm checkpoints on close, so images rarely have one)
  // would hold transactions this reader does not see.
  if (copy[18] === 2) copy[18] = 1;
  if (copy[19] === 2) copy[19] = 1;
  const db = new DatabaseSync(':memory:');
  try {
    try {
      db.deserialize(copy);
      // Reading only: no statement here writes, and this makes sure none can.
      db.exec('PRAGMA query_only = ON');
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Packages'").get();
      if (table === undefined) throw new RpmDatabaseError('rpmdb.sqlite: no Packages table');
      const out: RpmHeaderBlob[] = [];
      for (const row of db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').iterate()) {
        const hnum = row['hnum'];
        const blob = row['blob'];
        if (typeof hnum !== 'number' || !Number.isSafeInteger(hnum)) throw new RpmDatabaseError(`rpmdb.sqlite: a Packages row has hnum ${String(hnum)}`);
        if (!(blob instanceof Uint8Array)) throw new RpmDatabaseError(`rpmdb.sqlite: package ${hnum} has no header blob`);
        out.push({ index: hnum, blob: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength) });
      }
      return out;
    } catch (error) {
      if (error instanceof RpmDatabaseError) throw error;
      // SQLite's own errors ("database disk image is malformed", "file is not a
      // database") become this module's error, keeping SQLite's words.
      throw new RpmDatabaseError(`rpmdb.sqlite: ${(error as Error).message}`);
    }
  } finally {
    db.close();
  }
}
