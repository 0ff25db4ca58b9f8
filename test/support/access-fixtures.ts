// Accounts, organizations, teams, robots, permissions and visibility for the access
// tests, written straight into a running server's SQLite database (WAL lets a second
// connection write while the server runs), plus small helpers around that database:
// reading the action log, and getting bearer tokens from the server's token endpoint.
import { join } from 'node:path';
import type { GranteeRef, Role, TeamRole, Visibility } from '../../src/core/identity.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { generateSecret, hashSecret } from '../../src/auth/secrets.ts';
import { SqlIdentityStore } from '../../src/metadata/sql-identity-store.ts';
import { SqliteClient } from '../../src/metadata/sqlite-client.ts';
import { http } from './tools.ts';

// Cheap scrypt parameters for fixtures: the stored hash carries them, the server accepts them.
const FIXTURE_SCRYPT = { N: 1 << 12, r: 8, p: 1 } as const;

export class AccessFixtures {
  readonly sql: SqliteClient;
  readonly identity: SqlIdentityStore;

  constructor(dataDir: string) {
    this.sql = new SqliteClient(join(dataDir, 'custody.db'));
    this.identity = new SqlIdentityStore(this.sql);
  }

  async close(): Promise<void> {
    await this.sql.close();
  }

  async user(name: string, password: string): Promise<number> {
    const account = await this.identity.createAccount({ name, kind: 'user', passwordHash: await hashPassword(password, FIXTURE_SCRYPT) });
    return account.id;
  }

  async organization(name: string): Promise<number> {
    return (await this.identity.createAccount({ name, kind: 'organization' })).id;
  }

  async team(organizationId: number, name: string, role: TeamRole, members: readonly number[]): Promise<number> {
    const team = await this.identity.createTeam(organizationId, name, role);
    for (const member of members) await this.identity.addTeamMember(team.id, member);
    return team.id;
  }

  /** A robot `owner+shortName` and its token (shown once, like the API does). */
  async robot(ownerId: number, ownerName: string, shortName: string): Promise<{ id: number; name: string; token: string }> {
    const name = `${ownerName}+${shortName}`;
    const account = await this.identity.createAccount({ name, kind: 'robot', ownerId });
    const token = generateSecret('robot');
    await this.identity.addCredential({ accountId: account.id, kind: 'robot', name: 'token', secretHash: hashSecret(token) });
    return { id: account.id, name, token };
  }

  async permission(repository: string, grantee: GranteeRef, role: Role): Promise<void> {
    const settings = await this.identity.findRepository(repository);
    if (!settings) throw new Error(`fixture: repository ${repository} does not exist`);
    await this.identity.setPermission(settings.id, grantee, role);
  }

  async visibility(repository: string, visibility: Visibility): Promise<void> {
    const settings = await this.identity.updateRepository(repository, { visibility });
    if (!settings) throw new Error(`fixture: repository ${repository} does not exist`);
  }

  /** Action log rows recorded at or after `since` (epoch ms), oldest first. */
  async actions(since: number): Promise<LoggedAction[]> {
    return this.sql.query<LoggedAction>(
      'SELECT id, occurred_at, kind, result, actor_kind, actor_name, actor_via, repository, tag, digest, detail FROM action_log WHERE occurred_at >= ? ORDER BY id',
      [since],
    );
  }
}

export interface LoggedAction {
  readonly id: number;
  readonly occurred_at: number;
  readonly kind: string;
  readonly result: string;
  readonly actor_kind: string;
  readonly actor_name: string | null;
  readonly actor_via: string | null;
  readonly repository: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly detail: string | null;
}

export function basic(username: string, secret: string): string {
  return `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
}

/** A bearer token from the server's token endpoint for `scopes`, as `username` (or anonymous). */
export async function fetchToken(baseUrl: string, scopes: readonly string[], credentials?: { username: string; secret: string }): Promise<string> {
  const query = new URLSearchParams({ service: 'custody' });
  for (const scope of scopes) query.append('scope', scope);
  const response = await http(`${baseUrl}/auth/token?${query}`, { headers: credentials ? { Authorization: basic(credentials.username, credentials.secret) } : {} });
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${response.body.toString('utf8')}`);
  return response.json<{ token: string }>()!.token;
}
