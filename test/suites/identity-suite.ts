// The IdentityStore contract and the access rules built on it, run against every SQL
// engine: who gets which role on which repository, what the catalog shows, credentials;
// then each facet (accounts, teams, repositories and permissions, credentials, keys) on
// its own. The stores come from the factories, so a decorator can run the suite.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { migrate } from '../../src/metadata/migrations.ts';
import { UNOWNED_REPOSITORIES } from '../../src/metadata/identity-store.ts';
import type { ActionEntry } from '../../src/audit/action.ts';
import type { Digest } from '../../src/core/digest.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { IdentityStore } from '../../src/metadata/identity-store.ts';
import type { MetadataStore } from '../../src/metadata/metadata-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import { AccessControl } from '../../src/auth/access-control.ts';
import { ANONYMOUS, type Account, type Principal } from '../../src/core/identity.ts';
import { generateSecret, hashSecret } from '../../src/auth/secrets.ts';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts';
import { generateSigningKey } from '../../src/auth/token-service.ts';

const as = (account: Account): Principal => ({ kind: 'account', account, via: 'password' });

export function identitySuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`IdentityStore contract: ${name}`, () => {
    let sql: SqlClient;
    let store: IdentityStore;
    let metadata: MetadataStore;

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      store = stores.identity(sql);
      metadata = stores.metadata(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    /** A repository that holds something, as after a push. */
    async function repository(name: string, visibility: 'public' | 'private' = 'private'): Promise<number> {
      await metadata.linkBlob(name, `sha256:${'a'.repeat(64)}` as never, 1, Date.now());
      return (await store.updateRepository(name, { visibility }))!.id;
    }

    it('accounts: names are unique across users, organizations and robots; the password hash stays out of Account', async () => {
      const alice = await store.createAccount({ name: 'alice', kind: 'user', email: 'a@example.com', passwordHash: await hashPassword('correct horse') });
      assert.equal(alice.kind, 'user');
      assert.equal('passwordHash' in alice, false);
      await assert.rejects(store.createAccount({ name: 'alice', kind: 'organization' }), { code: 'CONFLICT' });
      assert.ok(await verifyPassword('correct horse', (await store.passwordHash(alice.id))!));
      assert.equal(await verifyPassword('wrong horse', (await store.passwordHash(alice.id))!), false);
      const updated = await store.updateAccount(alice.id, { disabled: true, email: null });
      assert.equal(updated.disabled, true);
      assert.equal(updated.email, null);
      assert.equal(await store.countAccounts('user'), 1);
    });

    it('roles: own namespace, direct, team, organization default and admin team; strongest wins', async () => {
      const alice = await store.createAccount({ name: 'alice', kind: 'user' });
      const bob = await store.createAccount({ name: 'bob', kind: 'user' });
      const carol = await store.createAccount({ name: 'carol', kind: 'user' });
      const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
      const robot = await store.createAccount({ name: 'acme+ci', kind: 'robot', ownerId: acme.id });
      const owners = await store.createTeam(acme.id, 'owners', 'admin');
      const devs = await store.createTeam(acme.id, 'devs', 'member');
      await store.addTeamMember(owners.id, alice.id);
      await store.addTeamMember(devs.id, bob.id);
      const app = await repository('acme/app');
      await repository('acme/other');
      await repository('carol/own');
      await store.setPermission(app, { kind: 'team', id: devs.id }, 'write');
      await store.setPermission(app, { kind: 'account', id: robot.id }, 'read');
      await store.setDefaultPermission(acme.id, { kind: 'account', id: carol.id }, 'read');

      const access = new AccessControl(store, { anonymousPull: false });
      assert.equal((await access.access(as(alice), 'acme/app')).role, 'admin');
      assert.equal((await access.access(as(bob), 'acme/app')).role, 'write');
      assert.equal((await access.access(as(bob), 'acme/other')).role, null);
      assert.equal((await access.access(as(robot), 'acme/app')).role, 'read');
      assert.equal((await access.access(as(carol), 'acme/other')).role, 'read', 'organization default');
      assert.equal((await access.access(as(carol), 'carol/own')).role, 'admin', 'own namespace');
      assert.equal((await access.access(as(bob), 'carol/own')).role, null);
      assert.deepEqual(await access.grantedActions(as(bob), 'acme/app', ['pull', 'push', 'delete', '*']), ['pull', 'push', 'delete']);
      assert.deepEqual(await access.grantedActions(as(robot), 'acme/app', ['pull', 'push']), ['pull']);

      // Creating: only where the principal may create.
      assert.equal((await access.access(as(alice), 'acme/new')).role, 'admin');
      assert.equal((await access.access(as(bob), 'acme/new')).role, null);
      assert.equal((await access.access(as(bob), 'bob/new')).role, 'admin');
      assert.equal((await access.access(as(robot), 'acme+ci/new')).role, null, 'robots have no namespace');
      await store.updateTeam(devs.id, { role: 'creator' });
      assert.equal((await access.access(as(bob), 'acme/new')).role, 'admin');
      assert.equal((await access.access(as(bob), 'acme/other')).role, null, 'creators do not administer existing repositories');

      // Removing a team takes its permissions with it.
      await store.deleteTeam(devs.id);
      assert.equal((await access.access(as(bob), 'acme/app')).role, null);
      assert.deepEqual((await store.listPermissions(app)).map((p) => p.grantee.name), ['acme+ci']);
    });

    it('visibility: public repositories are readable by any account, by anonymous only with anonymousPull', async () => {
      const dave = await store.createAccount({ name: 'dave', kind: 'user' });
      await repository('acme/public', 'public');
      await repository('acme/private');
      const closed = new AccessControl(store, { anonymousPull: false });
      const open = new AccessControl(store, { anonymousPull: true });
      assert.equal((await closed.access(as(dave), 'acme/public')).role, 'read');
      assert.equal((await closed.access(ANONYMOUS, 'acme/public')).role, null);
      assert.equal((await open.access(ANONYMOUS, 'acme/public')).role, 'read');
      assert.equal((await open.access(ANONYMOUS, 'acme/private')).role, null);
      assert.deepEqual(await open.grantedActions(ANONYMOUS, 'acme/public', ['pull', 'push']), ['pull']);
      const disabled = await store.updateAccount(dave.id, { disabled: true });
      assert.equal((await closed.access(as(disabled), 'acme/public')).role, null);
    });

    it('catalog: only readable repositories, bytewise, paged; superusers see all', async () => {
      const erin = await store.createAccount({ name: 'erin', kind: 'user' });
      const root = await store.createAccount({ name: 'root', kind: 'user', superuser: true });
      const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
      const readers = await store.createTeam(acme.id, 'readers', 'member');
      await store.addTeamMember(readers.id, erin.id);
      const b = await repository('acme/b');
      await repository('acme/a', 'public');
      await repository('acme/c');
      await repository('erin/mine');
      await repository('erin_x/notmine');
      await store.setPermission(b, { kind: 'team', id: readers.id }, 'read');
      await store.ensureRepository('acme/empty', 'public');
      const access = new AccessControl(store, { anonymousPull: true });
      assert.deepEqual(await access.readableRepositories(as(erin), undefined, 10), ['acme/a', 'acme/b', 'erin/mine']);
      assert.deepEqual(await access.readableRepositories(as(erin), 'acme/a', 1), ['acme/b']);
      assert.deepEqual(await access.readableRepositories(ANONYMOUS, undefined, 10), ['acme/a']);
      assert.deepEqual(await access.readableRepositories(as(root), undefined, 10), ['acme/a', 'acme/b', 'acme/c', 'erin/mine', 'erin_x/notmine']);
    });

    it('credentials: found by secret hash until they expire; listed without secrets; revocable', async () => {
      const frank = await store.createAccount({ name: 'frank', kind: 'user' });
      const secret = generateSecret('personal');
      const credential = await store.addCredential({ accountId: frank.id, kind: 'personal', name: 'ci', secretHash: hashSecret(secret), scopes: ['repo:read'] });
      const found = await store.findCredential(hashSecret(secret), Date.now());
      assert.equal(found?.account.name, 'frank');
      assert.deepEqual(found?.credential.scopes, ['repo:read']);
      assert.equal(await store.findCredential(hashSecret(`${secret}x`), Date.now()), null);
      await store.addCredential({ accountId: frank.id, kind: 'refresh', name: 'old', secretHash: hashSecret('expired'), expiresAt: Date.now() - 1 });
      assert.equal(await store.findCredential(hashSecret('expired'), Date.now()), null);
      assert.deepEqual((await store.listCredentials(frank.id, 'personal')).map((c) => c.name), ['ci']);
      assert.equal(await store.deleteCredential(frank.id, credential.id), true);
      assert.equal(await store.findCredential(hashSecret(secret), Date.now()), null);
    });

    // ---- who owns a namespace ----

    const digestOf = (seed: string): Digest => `sha256:${seed.repeat(64).slice(0, 64)}` as Digest;
    const blobRow = async (digest: string): Promise<{ ref_count: number } | undefined> => (await sql.query<{ ref_count: number }>('SELECT ref_count FROM blobs WHERE digest = ?', [digest]))[0];
    /** An image in `repository`: a blob of its own and one shared, a manifest, a tag. */
    async function image(repository: string, own: Digest, shared: Digest, tag: string): Promise<Digest> {
      const now = Date.now();
      await metadata.linkBlob(repository, own, 10, now);
      await metadata.linkBlob(repository, shared, 20, now);
      const content = Buffer.from(JSON.stringify({ schemaVersion: 2, repository, layers: [own, shared] }));
      const digest = `sha256:${createHash('sha256').update(content).digest('hex')}` as Digest;
      await metadata.putManifest({ repository, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', content, blobs: [own, shared], manifests: [], tag, now });
      return digest;
    }

    it('names: an account whose name is a namespace holding repositories is refused, unless an organization adopts them on purpose', async () => {
      const root = await store.createAccount({ name: 'root', kind: 'user', superuser: true });
      // Neighbours bytewise: the rule is about the namespace "ghost/" exactly.
      const neighbours = ['ghost', 'ghost-1/app', 'ghost.x/app', 'ghost0/app', 'ghostly/app'];
      for (const name of neighbours) await repository(name);
      const early = await store.createAccount({ name: 'ghost', kind: 'user' });
      assert.deepEqual(await store.deleteAccount(early.id), { deleted: true, repositories: [] });
      for (const name of neighbours) assert.notEqual(await store.findRepository(name), null, `${name} is not in namespace ghost`);

      await repository('ghost/app');
      for (const kind of ['user', 'organization'] as const) {
        await assert.rejects(store.createAccount({ name: 'ghost', kind }), (error: { code: string; message: string; detail: { reason: string } }) => {
          assert.equal(error.code, 'CONFLICT');
          assert.match(error.message, /namespace "ghost" holds repositories that belong to no account/);
          assert.equal(error.detail.reason, UNOWNED_REPOSITORIES);
          return true;
        });
      }
      await assert.rejects(store.createOrganization({ name: 'ghost' }, root.id), { code: 'CONFLICT' });
      assert.equal(await store.findAccount('ghost'), null, 'nothing was created');

      const ghost = await store.createOrganization({ name: 'ghost', description: 'adopted' }, root.id, { adopt: true });
      assert.equal(ghost.kind, 'organization');
      const [owners] = await store.listTeams(ghost.id);
      assert.deepEqual([owners?.name, owners?.role], ['owners', 'admin']);
      assert.deepEqual((await store.listTeamMembers(owners!.id)).map((member) => member.account.name), ['root']);
      await assert.rejects(store.createOrganization({ name: 'ghost' }, root.id, { adopt: true }), { code: 'CONFLICT', message: 'the name "ghost" is taken' });
      await assert.rejects(store.createAccount({ name: 'root', kind: 'organization' }), { code: 'CONFLICT', message: 'the name "root" is taken' });
    });

    it("claims: a superuser creating in a namespace without an account gets it as an organization, logged; others and owned namespaces are left alone", async () => {
      const root = await store.createAccount({ name: 'root', kind: 'user', superuser: true });
      const bob = await store.createAccount({ name: 'bob', kind: 'user' });
      const recorded: ActionEntry[] = [];
      const access = new AccessControl(store, { anonymousPull: false, actions: { record: (entry) => recorded.push(entry) } });

      await access.prepareCreation(as(root), 'library/nginx', { ip: '192.0.2.7' });
      const library = await store.findAccount('library');
      assert.equal(library?.kind, 'organization');
      assert.deepEqual((await store.teamsOf(root.id)).map((team) => `${team.organization}/${team.name}:${team.role}`), ['library/owners:admin']);
      assert.equal(recorded.length, 1);
      assert.deepEqual([recorded[0]!.kind, recorded[0]!.actor.name, recorded[0]!.namespace, recorded[0]!.ip, recorded[0]!.detail?.account], ['account', 'root', 'library', '192.0.2.7', 'library']);
      // bob now has nothing there, and cannot take the name.
      assert.equal((await access.access(as(bob), 'library/nginx')).role, null);
      await assert.rejects(store.createOrganization({ name: 'library' }, bob.id), { code: 'CONFLICT' });

      // Again, or into namespaces that have an owner: nothing more.
      await access.prepareCreation(as(root), 'library/redis');
      await access.prepareCreation(as(root), 'bob/app');
      await access.prepareCreation(as(root), 'toplevel');
      assert.equal(recorded.length, 1);
      assert.equal(await store.claimNamespace('library', bob.id), null);
      // Only superusers claim: bob's push into a namespace without an account creates nothing.
      await access.prepareCreation(as(bob), 'nobody/app');
      assert.equal(await store.findAccount('nobody'), null);
      assert.equal((await access.access(as(bob), 'nobody/app')).role, null);
    });

    it("deletion: a user's or organization's repositories go with the account, their blobs become garbage, and a new account with the name finds nothing", async () => {
      const root = await store.createAccount({ name: 'root', kind: 'user', superuser: true });
      const erin = await store.createAccount({ name: 'erin', kind: 'user' });
      const acme = await store.createOrganization({ name: 'acme' }, erin.id);
      const robot = await store.createAccount({ name: 'erin+ci', kind: 'robot', ownerId: erin.id });
      const shared = digestOf('5');
      const erinManifest = await image('erin/app', digestOf('e'), shared, 'v1');
      await image('erin/tools/cli', digestOf('f'), shared, 'v1');
      await image('acme/app', digestOf('a'), shared, 'v1');
      await image('erinx/app', digestOf('b'), shared, 'v1');
      const app = (await store.findRepository('erin/app'))!;
      await store.setPermission(app.id, { kind: 'account', id: root.id }, 'read');
      const policies = stores.signingPolicies(sql);
      await policies.put('namespace', 'erin', 'pull', [], 'erin', Date.now());
      await policies.put('repository', 'erin/app', 'pull', [], 'erin', Date.now());
      await policies.put('repository', 'erinx/app', 'pull', [], 'erin', Date.now());
      const quality = stores.quality(sql);
      await quality.enqueue('erin/app', erinManifest, Date.now());
      assert.equal((await blobRow(shared))?.ref_count, 4);

      // A robot's deletion takes no repository (robots have no namespace).
      assert.deepEqual(await store.deleteAccount(robot.id), { deleted: true, repositories: [] });
      assert.deepEqual(await store.deleteAccount(erin.id), { deleted: true, repositories: ['erin/app', 'erin/tools/cli'] });
      assert.deepEqual(await store.deleteAccount(erin.id), { deleted: false, repositories: [] });
      assert.equal(await store.findRepository('erin/app'), null);
      assert.equal(await metadata.getManifestByTag('erin/app', 'v1'), null);
      assert.deepEqual(await metadata.tagHistory('erin/app'), []);
      assert.equal((await blobRow(digestOf('e')))?.ref_count, 0, 'its own blob is linked nowhere');
      assert.equal((await blobRow(shared))?.ref_count, 2, 'a shared blob keeps the links of other repositories');
      assert.deepEqual((await sql.query('SELECT repository_id FROM repository_permissions')).length, 0);
      assert.equal(await policies.get('namespace', 'erin'), null);
      assert.equal(await policies.get('repository', 'erin/app'), null);
      assert.notEqual(await policies.get('repository', 'erinx/app'), null, 'a neighbour keeps its policy');
      assert.equal(await quality.getImage(erinManifest), null, 'its quality rows went with it');
      // Garbage collection finds its manifests and blobs unreferenced.
      const maintenance = stores.maintenance(sql);
      const orphans = (await maintenance.orphanManifests(Date.now() + 1)).map((manifest) => manifest.digest);
      assert.ok(orphans.includes(erinManifest), 'the manifest is garbage');
      for (const manifest of orphans) await maintenance.deleteOrphanManifest(manifest, Date.now() + 1);
      const garbage = (await maintenance.unreferencedBlobs(Date.now() + 1)).map((blob) => blob.digest);
      assert.ok(garbage.includes(digestOf('e')) && garbage.includes(digestOf('f')), 'its own blobs are garbage');
      assert.ok(!garbage.includes(shared) && !garbage.includes(digestOf('a')), 'what others use is not');
      for await (const blob of maintenance.blobRows()) assert.equal(blob.refCount, blob.linkCount, `reference count of ${blob.digest}`);

      // The name is free, and holds nothing of the old account.
      const newErin = await store.createAccount({ name: 'erin', kind: 'user' });
      const access = new AccessControl(store, { anonymousPull: false });
      assert.deepEqual(await access.readableRepositories(as(newErin), undefined, 10), []);
      assert.equal((await access.access(as(newErin), 'erin/app')).exists, false);
      assert.deepEqual(await store.teamsOf(newErin.id), [], 'memberships are not inherited');
      assert.equal(await policies.get('namespace', 'erin'), null);

      // An organization's deletion takes its repositories too.
      assert.deepEqual((await store.deleteAccount(acme.id)).repositories, ['acme/app']);
      assert.equal(await store.findRepository('acme/app'), null);
      assert.equal((await blobRow(shared))?.ref_count, 1);
      assert.notEqual(await store.findRepository('erinx/app'), null, 'a namespace that merely starts alike is untouched');
    });

    it('upgrade (migration 8): namespaces holding repositories without an account become organizations of the first superuser', async () => {
      const old = await openClient();
      try {
        await migrate(old, { through: 7 });
        const before = stores.identity(old);
        await before.createAccount({ name: 'alice', kind: 'user' });
        const retired = await before.createAccount({ name: 'retired', kind: 'user', superuser: true });
        await before.updateAccount(retired.id, { disabled: true });
        const root = await before.createAccount({ name: 'root', kind: 'user', superuser: true });
        // Repositories as an old version made them (the metadata store of today also keeps quota books that schema lacks).
        for (const name of ['library/nginx', 'library/redis', 'ghost/a/b', 'alice/app', 'toplevel']) await before.ensureRepository(name);
        await before.ensureRepository('settings/only');

        assert.equal(await migrate(old, { through: 8 }), 1);
        assert.equal(await migrate(old, { through: 8 }), 0, 'once');
        await migrate(old);
        for (const name of ['library', 'ghost', 'settings']) {
          const org = await before.findAccount(name);
          assert.equal(org?.kind, 'organization', name);
          const [owners] = await before.listTeams(org!.id);
          assert.equal(owners?.role, 'admin');
          assert.deepEqual((await before.listTeamMembers(owners!.id)).map((member) => member.account.name), ['root'], `${name}: the first enabled superuser owns it`);
        }
        assert.equal((await before.findAccount('alice'))?.kind, 'user', 'an owned namespace is left alone');
        assert.equal(await before.findAccount('toplevel'), null, 'a top-level repository has no namespace');
        // Ownership is explicit: without superuser rights, the owners team still makes root admin.
        const demoted = await before.updateAccount(root.id, { superuser: false });
        assert.equal((await new AccessControl(before, { anonymousPull: false }).access(as(demoted), 'library/nginx')).role, 'admin');
        await assert.rejects(before.createOrganization({ name: 'ghost' }, null), { code: 'CONFLICT' });
      } finally {
        await old.close();
      }
    });

    it('refresh tokens end with what minted them: the token, the password, the account', async () => {
      const grace = await store.createAccount({ name: 'grace', kind: 'user', passwordHash: await hashPassword('grace password') });
      const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
      const robot = await store.createAccount({ name: 'acme+ci', kind: 'robot', ownerId: acme.id });
      const ldapUser = await store.createAccount({ name: 'heidi', kind: 'user', ldapDn: 'uid=heidi,ou=people,dc=example,dc=org' });
      const secret = (): string => hashSecret(generateSecret('refresh'));
      const refresh = (accountId: number, mintedVia: 'password' | 'ldap' | 'robot-token' | 'personal-token', parentId: number | null = null) =>
        store.addCredential({ accountId, kind: 'refresh', name: 'login', secretHash: secret(), expiresAt: Date.now() + 86_400_000, parentId, mintedVia, userAgent: 'skopeo/1.9.3', ip: '127.0.0.1' });
      const alive = async (accountId: number): Promise<number[]> => (await store.listCredentials(accountId, 'refresh')).map((credential) => credential.id).sort((a, b) => a - b);

      const pat = await store.addCredential({ accountId: grace.id, kind: 'personal', name: 'laptop', secretHash: secret() });
      const robotToken = await store.addCredential({ accountId: robot.id, kind: 'robot', name: 'token', secretHash: secret() });
      const fromPassword = await refresh(grace.id, 'password');
      const fromPat = await refresh(grace.id, 'personal-token', pat.id);
      const fromRobot = await refresh(robot.id, 'robot-token', robotToken.id);
      const fromLdap = await refresh(ldapUser.id, 'ldap');
      // What a session shows: where it came from and which client asked for it.
      assert.deepEqual(
        { parentId: fromPat.parentId, mintedVia: fromPat.mintedVia, userAgent: fromPat.userAgent, ip: fromPat.ip },
        { parentId: pat.id, mintedVia: 'personal-token', userAgent: 'skopeo/1.9.3', ip: '127.0.0.1' },
      );
      assert.equal((await store.listCredentials(grace.id, 'refresh')).find((credential) => credential.id === fromPat.id)?.parentId, pat.id);

      // Revoking the personal access token ends the refresh tokens minted from it, no other.
      const stamp = (await store.findAccount('grace'))!.securityStamp;
      assert.ok(await store.deleteCredential(grace.id, pat.id));
      assert.deepEqual(await alive(grace.id), [fromPassword.id]);
      assert.notEqual((await store.findAccount('grace'))!.securityStamp, stamp, 'a revocation moves the security stamp on');

      // A new password ends those minted with the old one; one minted from a token stays.
      const pat2 = await store.addCredential({ accountId: grace.id, kind: 'personal', name: 'ci', secretHash: secret() });
      const fromPat2 = await refresh(grace.id, 'personal-token', pat2.id);
      await store.updateAccount(grace.id, { passwordHash: await hashPassword('new grace password') });
      assert.deepEqual(await alive(grace.id), [fromPat2.id]);

      // Regenerating a robot's token (delete, then add) ends the robot's refresh tokens.
      assert.equal(await store.deleteCredentials(robot.id, 'robot'), 1);
      assert.deepEqual(await alive(robot.id), []);
      assert.equal((await store.listCredentials(robot.id)).some((credential) => credential.id === fromRobot.id), false);

      // Disabling ends every refresh token (LDAP-sourced ones too), and enabling again brings none back.
      await store.updateAccount(ldapUser.id, { disabled: true });
      await store.updateAccount(ldapUser.id, { disabled: false });
      assert.deepEqual(await alive(ldapUser.id), [], `the LDAP-minted session ${fromLdap.id} ended`);
      await store.updateAccount(grace.id, { disabled: true });
      assert.deepEqual(await alive(grace.id), []);

      // Deleting the account deletes its credentials; a new account of the same name has none.
      const ivan = await store.createAccount({ name: 'ivan', kind: 'user' });
      const ivanSecret = generateSecret('refresh');
      await store.addCredential({ accountId: ivan.id, kind: 'refresh', name: 'login', secretHash: hashSecret(ivanSecret), mintedVia: 'password' });
      await store.deleteAccount(ivan.id);
      const again = await store.createAccount({ name: 'ivan', kind: 'user' });
      assert.equal(await store.findCredential(hashSecret(ivanSecret), Date.now()), null);
      assert.notEqual(again.securityStamp, ivan.securityStamp, 'a new account of an old name has a stamp of its own');
    });

    it('a refresh token is minted only under the security stamp the login saw', async () => {
      const lea = await store.createAccount({ name: 'lea', kind: 'user', passwordHash: await hashPassword('lea password') });
      const token = { accountId: lea.id, kind: 'refresh' as const, name: 'login', secretHash: hashSecret(generateSecret('refresh')), mintedVia: 'password' as const, userAgent: 'podman/4.3.1', ip: '::1' };
      const minted = await store.addRefreshToken(token, lea.securityStamp);
      assert.equal(minted?.mintedVia, 'password');
      // The password changed between the login and the mint: nothing is minted.
      await store.updateAccount(lea.id, { passwordHash: await hashPassword('lea password 2') });
      assert.equal(await store.addRefreshToken({ ...token, secretHash: hashSecret(generateSecret('refresh')) }, lea.securityStamp), null);
      assert.deepEqual(await store.listCredentials(lea.id, 'refresh'), [], 'and the one minted before ended with the password');
    });

    it('security stamps: set at creation, moved on by revocations and password, superuser or disabled changes only', async () => {
      const judy = await store.createAccount({ name: 'judy', kind: 'user', passwordHash: await hashPassword('judy password') });
      const kim = await store.createAccount({ name: 'kim', kind: 'user' });
      assert.match(judy.securityStamp, /^[A-Za-z0-9_-]{16}$/);
      assert.notEqual(judy.securityStamp, kim.securityStamp);
      const stampOf = async (): Promise<string> => (await store.findAccountById(judy.id))!.securityStamp;
      let before = await stampOf();
      await store.updateAccount(judy.id, { email: 'judy@example.org', description: 'x' });
      const pat = await store.addCredential({ accountId: judy.id, kind: 'personal', name: 'x', secretHash: hashSecret(generateSecret('personal')) });
      assert.equal(await stampOf(), before, 'an email change or a new credential ends nothing');
      for (const change of [{ passwordHash: await hashPassword('another') }, { superuser: true }, { superuser: false }, { disabled: true }, { disabled: false }]) {
        await store.updateAccount(judy.id, change);
        assert.notEqual(await stampOf(), before, `after ${Object.keys(change)[0]}`);
        before = await stampOf();
      }
      assert.equal(await store.deleteCredential(judy.id, pat.id + 1000), false);
      assert.equal(await stampOf(), before, 'revoking nothing moves nothing');
      assert.equal(await store.deleteCredential(judy.id, pat.id), true);
      assert.notEqual(await stampOf(), before);
    });

    it('signing keys: the first inserted wins; later inserts return it', async () => {
      const first = generateSigningKey();
      const second = generateSigningKey();
      const [a] = await store.insertSigningKeyIfNone(first);
      const [b] = await store.insertSigningKeyIfNone(second);
      assert.equal(a?.kid, first.kid);
      assert.equal(b?.kid, first.kid);
      assert.equal((await store.activeSigningKeys()).length, 1);
    });
  });
}
