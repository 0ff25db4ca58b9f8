// SigningKeyStore over any SqlClient: one code path for SQLite and PostgreSQL.
import type { SigningKeyRecord } from '../../core/identity.ts';
import type { SqlClient, SqlExecutor } from '../sql-client.ts';
import type { SigningKeyStore } from './signing-key-store.ts';

export class SqlSigningKeyStore implements SigningKeyStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async activeSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.signingKeys(this.sql);
  }

  async insertSigningKeyIfNone(key: SigningKeyRecord): Promise<SigningKeyRecord[]> {
    return this.sql.transaction(async (tx) => {
      // Replicas starting together: one inserts, the others see its key.
      if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7243912)');
      const existing = await this.signingKeys(tx);
      if (existing.length > 0) return existing;
      await tx.run('INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)', [key.kid, key.algorithm, key.privateKeyPem, key.publicJwk, key.createdAt]);
      return this.signingKeys(tx);
    });
  }

  private async signingKeys(executor: SqlExecutor): Promise<SigningKeyRecord[]> {
    const rows = await executor.query<{ kid: string; algorithm: string; private_key: string; public_jwk: string; created_at: number; retired_at: number | null }>(
      'SELECT kid, algorithm, private_key, public_jwk, created_at, retired_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC',
    );
    return rows.map((row) => ({ kid: row.kid, algorithm: row.algorithm, privateKeyPem: row.private_key, publicJwk: row.public_jwk, createdAt: row.created_at, retiredAt: row.retired_at }));
  }
}
