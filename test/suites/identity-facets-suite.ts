// Each facet of the identity seam on its own (accounts, teams, repositories and
// permissions, credentials, signing keys), over any SqlClient after migrate(): what a
// caller depending on that one facet may rely on. The composite and the access rules
// built on it are in identity-suite.ts. Stores come from the factories.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ociError } from '../../src/core/errors.ts';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { AccountStore } from '../../src/metadata/identity/account-store.ts';
import type { TeamStore } from '../../src/metadata/identity/team-store.ts';
import type { RepositoryAccessStore } from '../../src/metadata/identity/repository-access-store.ts';
import type { CredentialStore } from '../../src/metadata/identity/credential-store.ts';
import type { SigningKeyStore } from '../../src/metadata/identity/signing-key-store.ts';
import { hashSecret } from '../../src/auth/secrets.ts';
import { generateSigningKey } from '../../src/auth/token-service.ts';
import type { StoreFactories } from '../support/sql-stores.ts';

/** The code the client is answered with: the typed error through the one table. */
function answered(code: string, message?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    const typed = ociError(error);
    assert.equal(typed?.code, code, String(error));
    if (message) assert.match(typed!.message, message);
    return true;
  };
}

export function identityFacetsSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`identity facets contract: ${name}`, () => {
    let sql: SqlClient;
    let accounts: AccountStore;
    let teams: TeamStore;
    let repositories: RepositoryAccessStore;
    let credentials: CredentialStore;
    let keys: SigningKeyStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      accounts = stores.accounts(sql);
      teams = stores.teams(sql);
      repositories = stores.repositoryAccess(sql);
      credentials = stores.credentials(sql);
      keys = stores.signingKeys(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('accounts: found by name and id, listed by kind and owner in name order, counted; unknown ones are NOT_FOUND to change', async () => {
      const zed = await accounts.createAccount({ name: 'zed', kind: 'user', email: 'z@example.com', description: 'last', ldapDn: 'uid=zed,dc=example' });
      const amy = await accounts.createAccount({ name: 'amy', kind: 'user', superuser: true });
      const acme = await accounts.createOrganization({ name: 'acme', description: 'an organization' }, amy.id);
      const robot = await accounts.createAccount({ name: 'acme+ci', kind: 'robot', ownerId: acme.id });
      assert.deepEqual(await accounts.findAccount('zed'), zed);
      assert.deepEqual(await accounts.findAccountById(acme.id), acme);
      assert.equal(await accounts.findAccount('nobody'), null);
      assert.equal(await accounts.findAccountById(999_999), null);
      assert.deepEqual([zed.email, zed.description, zed.ldapDn, zed.superuser, zed.disabled], ['z@example.com', 'last', 'uid=zed,dc=example', false, false]);
      assert.deepEqual([acme.kind, acme.description, robot.ownerId], ['organization', 'an organization', acme.id]);
      assert.deepEqual((await accounts.listAccounts()).map((account) => account.name), ['acme', 'acme+ci', 'amy', 'zed']);
      assert.deepEqual((await accounts.listAccounts('user')).map((account) => account.name), ['amy', 'zed']);
      assert.deepEqual((await accounts.listAccounts('robot', acme.id)).map((account) => account.name), ['acme+ci']);
      assert.deepEqual(await accounts.listAccounts('robot', zed.id), []);
      assert.deepEqual([await accounts.countAccounts('user'), await accounts.countAccounts('organization'), await accounts.countAccounts('robot')], [2, 1, 1]);
      assert.equal(await accounts.passwordHash(acme.id), null);
      await assert.rejects(accounts.updateAccount(999_999, { email: null }), answered('NOT_FOUND', /account not found/));
      assert.equal(await accounts.claimNamespace('acme', amy.id), null, 'an account owns the namespace already');
      assert.deepEqual(await accounts.deleteAccount(999_999), { deleted: false, repositories: [] });
      // Deleting the organization takes its robots with it.
      assert.equal((await accounts.deleteAccount(acme.id)).deleted, true);
      assert.equal(await accounts.findAccount('acme+ci'), null);
    });

    it('teams: unique per organization, changed in place, members with their origin, LDAP mirrors listed across organizations', async () => {
      const amy = await accounts.createAccount({ name: 'amy', kind: 'user' });
      const bob = await accounts.createAccount({ name: 'bob', kind: 'user' });
      const acme = await accounts.createAccount({ name: 'acme', kind: 'organization' });
      const beta = await accounts.createAccount({ name: 'beta', kind: 'organization' });
      const devs = await teams.createTeam(acme.id, 'devs', 'member', 'developers');
      assert.deepEqual([devs.organization, devs.organizationId, devs.name, devs.role, devs.description, devs.ldapGroup], ['acme', acme.id, 'devs', 'member', 'developers', null]);
      await assert.rejects(teams.createTeam(acme.id, 'devs', 'admin'), answered('CONFLICT', /already has a team "devs"/));
      const ops = await teams.createTeam(beta.id, 'devs', 'admin');
      assert.deepEqual(await teams.findTeam('acme', 'devs'), devs);
      assert.deepEqual(await teams.findTeamById(ops.id), ops);
      assert.equal(await teams.findTeam('acme', 'nope'), null);
      await teams.createTeam(acme.id, 'admins', 'admin');
      assert.deepEqual((await teams.listTeams(acme.id)).map((team) => team.name), ['admins', 'devs']);

      const changed = await teams.updateTeam(devs.id, { role: 'creator', description: null, ldapGroup: 'cn=devs,dc=example' });
      assert.deepEqual([changed.role, changed.description, changed.ldapGroup], ['creator', null, 'cn=devs,dc=example']);
      assert.deepEqual(await teams.updateTeam(devs.id, {}), changed, 'no change is no change');
      await assert.rejects(teams.updateTeam(999_999, { role: 'admin' }), answered('NOT_FOUND', /team not found/));
      assert.deepEqual((await teams.listLdapSyncedTeams()).map((team) => `${team.organization}/${team.name}`), ['acme/devs']);

      assert.equal(await teams.addTeamMember(devs.id, bob.id, true), true);
      assert.equal(await teams.addTeamMember(devs.id, amy.id), true);
      assert.equal(await teams.addTeamMember(devs.id, amy.id), false, 'already a member');
      await teams.addTeamMember(ops.id, amy.id);
      assert.deepEqual((await teams.listTeamMembers(devs.id)).map((member) => [member.account.name, member.synced]), [['amy', false], ['bob', true]]);
      assert.deepEqual((await teams.teamsOf(amy.id)).map((team) => `${team.organization}/${team.name}`), ['acme/devs', 'beta/devs']);
      assert.equal(await teams.removeTeamMember(devs.id, amy.id), true);
      assert.equal(await teams.removeTeamMember(devs.id, amy.id), false);
      assert.deepEqual((await teams.teamsOf(amy.id)).map((team) => team.organization), ['beta']);
      assert.equal(await teams.deleteTeam(devs.id), true);
      assert.equal(await teams.deleteTeam(devs.id), false);
      assert.equal(await teams.findTeamById(devs.id), null);
    });

    it('repositories and permissions: settings created once, permissions set, replaced and removed, for accounts and teams', async () => {
      const amy = await accounts.createAccount({ name: 'amy', kind: 'user' });
      const acme = await accounts.createAccount({ name: 'acme', kind: 'organization' });
      const robot = await accounts.createAccount({ name: 'acme+ci', kind: 'robot', ownerId: acme.id });
      const devs = await teams.createTeam(acme.id, 'devs', 'member');
      assert.equal(await repositories.findRepository('acme/app'), null);
      const created = await repositories.ensureRepository('acme/app', 'public');
      assert.deepEqual([created.name, created.visibility, created.description], ['acme/app', 'public', null]);
      assert.deepEqual(await repositories.ensureRepository('acme/app', 'private'), created, 'an existing repository is returned as it is');
      assert.equal((await repositories.ensureRepository('acme/new')).visibility, 'private', 'new repositories are private');
      const updated = await repositories.updateRepository('acme/app', { visibility: 'private', description: 'the app' });
      assert.deepEqual([updated?.visibility, updated?.description], ['private', 'the app']);
      assert.equal(await repositories.updateRepository('acme/none', { description: 'x' }), null);

      await repositories.setPermission(created.id, { kind: 'account', id: amy.id }, 'read');
      await repositories.setPermission(created.id, { kind: 'account', id: amy.id }, 'admin');
      await repositories.setPermission(created.id, { kind: 'account', id: robot.id }, 'write');
      await repositories.setPermission(created.id, { kind: 'team', id: devs.id }, 'write');
      assert.deepEqual(await repositories.listPermissions(created.id), [
        { grantee: { kind: 'account', id: robot.id, name: 'acme+ci', accountKind: 'robot' }, role: 'write' },
        { grantee: { kind: 'account', id: amy.id, name: 'amy', accountKind: 'user' }, role: 'admin' },
        { grantee: { kind: 'team', id: devs.id, name: 'devs' }, role: 'write' },
      ]);
      await repositories.setPermission(created.id, { kind: 'account', id: robot.id }, null);
      assert.deepEqual((await repositories.listPermissions(created.id)).map((permission) => permission.grantee.name), ['amy', 'devs']);
      // Deleting a team takes its grants with it.
      await teams.deleteTeam(devs.id);
      assert.deepEqual((await repositories.listPermissions(created.id)).map((permission) => permission.grantee.name), ['amy']);

      await repositories.setDefaultPermission(acme.id, { kind: 'account', id: amy.id }, 'read');
      assert.deepEqual(await repositories.listDefaultPermissions(acme.id), [{ grantee: { kind: 'account', id: amy.id, name: 'amy', accountKind: 'user' }, role: 'read' }]);
      await repositories.setDefaultPermission(acme.id, { kind: 'account', id: amy.id }, null);
      assert.deepEqual(await repositories.listDefaultPermissions(acme.id), []);

      const facts = await repositories.accessFacts(amy.id, 'acme/app', 'acme');
      assert.deepEqual([facts.repository?.name, facts.role, facts.mayCreate], ['acme/app', 'admin', false]);
      const unknown = await repositories.accessFacts(amy.id, 'acme/absent', 'acme');
      assert.deepEqual([unknown.repository, unknown.role, unknown.mayCreate], [null, null, false]);
      const own = await repositories.accessFacts(amy.id, 'amy/absent', 'amy');
      assert.deepEqual([own.repository, own.role, own.mayCreate], [null, 'admin', true], 'a user administers its own namespace');
      assert.deepEqual(await repositories.readableRepositories(amy.id, { includePublic: true, all: false, limit: 10 }), [], 'settings alone are not a repository that holds something');
    });

    it('credentials: every field kept, listed by kind in creation order, used times recorded, revoked per account only', async () => {
      const amy = await accounts.createAccount({ name: 'amy', kind: 'user' });
      const bob = await accounts.createAccount({ name: 'bob', kind: 'user' });
      const pat = await credentials.addCredential({ accountId: amy.id, kind: 'personal', name: 'laptop', secretHash: hashSecret('one'), scopes: ['repository:acme/app:pull'], expiresAt: 2_000_000_000_000 });
      assert.deepEqual({ ...pat, id: 0, createdAt: 0 }, {
        id: 0, accountId: amy.id, kind: 'personal', name: 'laptop', scopes: ['repository:acme/app:pull'], createdAt: 0, expiresAt: 2_000_000_000_000, lastUsedAt: null, parentId: null, mintedVia: null, userAgent: null, ip: null,
      });
      const refresh = await credentials.addRefreshToken({ accountId: amy.id, kind: 'personal', name: 'session', secretHash: hashSecret('two'), parentId: pat.id, mintedVia: 'personal-token', userAgent: 'podman/5', ip: '192.0.2.1' }, amy.securityStamp);
      assert.deepEqual([refresh?.kind, refresh?.parentId, refresh?.mintedVia, refresh?.userAgent, refresh?.ip], ['refresh', pat.id, 'personal-token', 'podman/5', '192.0.2.1'], 'always a refresh token');
      assert.equal(await credentials.addRefreshToken({ accountId: amy.id, kind: 'refresh', name: 'late', secretHash: hashSecret('three') }, 'an old stamp'), null);
      await credentials.addCredential({ accountId: amy.id, kind: 'personal', name: 'desktop', secretHash: hashSecret('four') });
      assert.deepEqual((await credentials.listCredentials(amy.id, 'personal')).map((credential) => credential.name), ['laptop', 'desktop']);
      assert.deepEqual((await credentials.listCredentials(amy.id)).map((credential) => credential.kind).sort(), ['personal', 'personal', 'refresh']);
      await credentials.touchCredential(pat.id, 1_234);
      assert.equal((await credentials.findCredential(hashSecret('one'), 1_000))?.credential.lastUsedAt, 1_234);
      assert.equal(await credentials.findCredential(hashSecret('one'), 2_000_000_000_000), null, 'expired');
      assert.equal(await credentials.deleteCredential(bob.id, pat.id), false, "another account's credential");
      assert.equal(await credentials.deleteCredentials(bob.id, 'personal'), 0);
      assert.equal(await credentials.deleteCredentials(amy.id, 'personal'), 2);
      assert.deepEqual(await credentials.listCredentials(amy.id), [], 'the refresh token minted from a revoked token ends with it');
    });

    it('signing keys: none at first; the first insert wins', async () => {
      assert.deepEqual(await keys.activeSigningKeys(), []);
      const key = generateSigningKey();
      assert.deepEqual(await keys.insertSigningKeyIfNone(key), [{ ...key, retiredAt: null }]);
      assert.deepEqual(await keys.insertSigningKeyIfNone(generateSigningKey()), [{ ...key, retiredAt: null }]);
      assert.deepEqual(await keys.activeSigningKeys(), [{ ...key, retiredAt: null }]);
    });
  });
}
