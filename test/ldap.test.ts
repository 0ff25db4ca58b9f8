// LDAP login against a real OpenLDAP (Debian's slapd, started here) with the identity
// store on SQLite and on PostgreSQL: provisioning on first login, wrong and empty
// passwords, filter injection, group synchronisation to teams, no takeover of local
// accounts, TLS (ldaps:// and StartTLS), and a directory that cannot be reached.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { LdapDirectory } from '../src/auth/ldap-directory.ts';
import { escapeFilterValue, fillFilter, normalizeDn, parentDn, sameDn } from '../src/auth/ldap-names.ts';
import type { LdapConfig } from '../src/config/config.ts';
import type { Account } from '../src/core/identity.ts';
import { migrate } from '../src/metadata/migrations.ts';
import type { SqlClient } from '../src/metadata/sql-client.ts';
import { SqlIdentityStore } from '../src/metadata/sql-identity-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { createLogger, type Logger } from '../src/observability/logger.ts';
import { createTestDatabase, openSchemaClient, type TestDatabase } from './support/postgres.ts';
import { LDAP_GROUPS, LDAP_PEOPLE, LDAP_SUFFIX, startSlapd, type Slapd } from './support/slapd.ts';
import { createTestCa, type TestCa } from './support/tls-ca.ts';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { isolatedPodman, type IsolatedPodman } from './support/podman.ts';
import { explain, freePort, http, requireTool, run, type HttpResult, type RunResult } from './support/tools.ts';

const USERS = [
  { uid: 'alice', password: 'alice-secret', mail: 'alice@custody.test', cn: 'Alice Liddell' },
  { uid: 'bob', password: 'bob-secret', mail: 'bob@custody.test' },
  { uid: 'Carol', password: 'carol-secret', mail: 'carol@custody.test' },
  { uid: 'dave', password: 'dave-secret' },
  { uid: 'localuser', password: 'directory-secret', mail: 'impostor@custody.test' },
  { uid: 'acme', password: 'acme-secret' },
  // A uid holding filter metacharacters, for the escaping tests.
  { uid: 'st*r', password: 'star-secret' },
  // Two entries with one uid: ambiguous, never logged in.
  { uid: 'twin', password: 'twin-secret', rdn: 'cn=twin one' },
];

const GROUPS = [
  { cn: 'developers', members: ['alice', 'Carol'] },
  { cn: 'readers', members: ['alice', 'bob'] },
  { cn: 'qa', members: ['bob'] },
];

// A second "twin" entry, and an RFC 2307 posixGroup whose members are uids (memberUid:
// the {username} half of the default group filter).
const EXTRA_LDIF = [
  `dn: cn=twin two,${LDAP_PEOPLE}`,
  'objectClass: inetOrgPerson',
  'uid: twin',
  'cn: twin two',
  'sn: two',
  'userPassword: twin-secret',
  '',
  `dn: cn=operators,${LDAP_GROUPS}`,
  'objectClass: posixGroup',
  'cn: operators',
  'gidNumber: 5000',
  'memberUid: dave',
  'memberUid: Carol',
  '',
].join('\n');

interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

function capturingLogger(): { logger: Logger; lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => raw.push(line) });
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line) as LogLine);
    },
    text: () => raw.join(''),
  };
}

let slapd: Slapd;
let ca: TestCa;

function ldapConfig(overrides: Partial<LdapConfig> = {}): LdapConfig {
  return {
    url: slapd.url,
    bindDn: slapd.serviceDn,
    bindPassword: slapd.servicePassword,
    userBase: LDAP_PEOPLE,
    userFilter: '(uid={username})',
    groupFilter: '(|(member={dn})(uniqueMember={dn})(memberUid={username}))',
    emailAttribute: 'mail',
    startTls: false,
    ...overrides,
  };
}

before(async () => {
  ca = await createTestCa();
  const leaf = await ca.issue('slapd', { server: true });
  slapd = await startSlapd({ users: USERS, groups: GROUPS, ldif: EXTRA_LDIF, tls: { certPath: leaf.certPath, keyPath: leaf.keyPath, caPath: ca.certPath } });
});

after(async () => {
  await slapd?.dispose();
  await ca?.dispose();
});

describe('LDAP names', () => {
  it('escapes filter metacharacters (RFC 4515)', () => {
    assert.equal(escapeFilterValue('a*b(c)d\\e\0f'), 'a\\2ab\\28c\\29d\\5ce\\00f');
    assert.equal(escapeFilterValue('plain.name_1'), 'plain.name_1');
    assert.equal(fillFilter('(uid={username})', { username: '*)(uid=*' }), '(uid=\\2a\\29\\28uid=\\2a)');
    assert.equal(fillFilter('uid={username}', { username: 'x' }), '(uid=x)');
    assert.equal(fillFilter('(&(member={dn})(cn={other}))', { dn: 'cn=a\\,b,dc=x' }), '(&(member=cn=a\\5c,b,dc=x)(cn={other}))');
  });

  it('compares DNs case-insensitively with whitespace and escapes normalised', () => {
    assert.ok(sameDn('cn=Developers,ou=groups,dc=custody,dc=test', 'CN=developers, OU=Groups , DC=custody,dc=TEST'));
    assert.ok(sameDn('cn=a\\,b,dc=x', 'cn=a\\2Cb,dc=x'));
    assert.ok(sameDn('cn=x+uid=y,dc=z', 'uid=Y + cn=X,dc=z'));
    assert.ok(!sameDn('cn=a\\,b,dc=x', 'cn=a,cn=b,dc=x'));
    assert.ok(!sameDn('cn=developers,ou=groups,dc=custody,dc=test', 'cn=developers,ou=people,dc=custody,dc=test'));
    assert.equal(normalizeDn('not a dn'), null);
    assert.ok(!sameDn('not a dn', 'not a dn'));
    assert.equal(parentDn('uid=a\\,b,ou=people,dc=x'), 'ou=people,dc=x');
    assert.equal(parentDn('dc=x'), null);
  });

  it('an escaped filter matches only the literal value on a real slapd', async () => {
    const client = new Client({ url: slapd.url, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await client.bind(slapd.serviceDn, slapd.servicePassword);
      const search = async (username: string): Promise<string[]> =>
        (await client.search(LDAP_PEOPLE, { scope: 'sub', filter: fillFilter('(uid={username})', { username }), attributes: ['uid'] })).searchEntries.map((entry) => String(entry.uid));
      // Unescaped, "st*" would match st*r (and "*" every user).
      assert.deepEqual(await search('st*'), []);
      assert.deepEqual(await search('*'), []);
      assert.deepEqual(await search('*)(uid=*'), []);
      assert.deepEqual(await search('st*r'), ['st*r']);
      assert.deepEqual(await search('alice'), ['alice']);
    } finally {
      await client.unbind();
    }
  });
});

interface Engine {
  readonly name: string;
  open(): Promise<SqlClient>;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

let sqliteDir: string;
let postgres: TestDatabase | undefined;
const ENGINES: Engine[] = [
  {
    name: 'sqlite',
    async setup() {
      sqliteDir = await mkdtemp(join(tmpdir(), 'custody-ldap-'));
    },
    async teardown() {
      await rm(sqliteDir, { recursive: true, force: true });
    },
    async open() {
      return new SqliteClient(join(sqliteDir, randomBytes(6).toString('hex'), 'custody.db'));
    },
  },
  {
    name: 'postgres',
    async setup() {
      postgres = await createTestDatabase();
    },
    async teardown() {
      await postgres?.drop();
    },
    async open() {
      return (await openSchemaClient(postgres!.url)).client;
    },
  },
];

for (const engine of ENGINES) {
  describe(`LDAP login (${engine.name})`, () => {
    before(async () => engine.setup?.());
    after(async () => engine.teardown?.());

    // A fresh store, and a directory logging to memory, for each test.
    async function fixture(config: Partial<LdapConfig> = {}): Promise<{ store: SqlIdentityStore; directory: LdapDirectory; log: ReturnType<typeof capturingLogger>; close(): Promise<void> }> {
      const sql = await engine.open();
      await migrate(sql);
      const store = new SqlIdentityStore(sql);
      const log = capturingLogger();
      const directory = new LdapDirectory(ldapConfig(config), store, log.logger);
      return {
        store,
        directory,
        log,
        async close() {
          await directory.close();
          await sql.close();
        },
      };
    }

    it('provisions the user on first login with the directory email, and finds it again after', async () => {
      const { store, directory, log, close } = await fixture();
      try {
        const first = await directory.login('alice', 'alice-secret');
        assert.ok(first);
        assert.equal(first.name, 'alice');
        assert.equal(first.kind, 'user');
        assert.equal(first.email, 'alice@custody.test');
        assert.equal(first.ldapDn, slapd.userDn('alice'));
        assert.equal(first.superuser, false);
        assert.equal(await store.passwordHash(first.id), null, 'an LDAP user has no local password');
        const again = await directory.login('alice', 'alice-secret');
        assert.equal(again?.id, first.id);
        assert.equal((await store.listAccounts('user')).length, 1);
        // A user without the email attribute gets none.
        assert.equal((await directory.login('dave', 'dave-secret'))?.email, null);
        assert.ok(!log.text().includes('alice-secret'), 'the password is never logged');
      } finally {
        await close();
      }
    });

    it('refuses a wrong password, an empty password and an unknown user, provisioning nothing', async () => {
      const { store, directory, log, close } = await fixture();
      try {
        assert.equal(await directory.login('bob', 'wrong'), null);
        assert.equal(await directory.login('bob', 'bob-secret '), null);
        // An empty password would be an unauthenticated bind, which LDAP servers accept.
        assert.equal(await directory.login('bob', ''), null);
        assert.equal(await directory.login('nobody', 'bob-secret'), null);
        assert.equal(await directory.login('', 'bob-secret'), null);
        assert.equal(await store.findAccount('bob'), null);
        assert.equal(await store.findAccount('nobody'), null);
        // After a provisioned login, still refused.
        assert.ok(await directory.login('bob', 'bob-secret'));
        assert.equal(await directory.login('bob', ''), null);
        assert.equal(await directory.login('bob', 'wrong'), null);
        assert.ok(!log.text().includes('wrong') && !log.text().includes('bob-secret'), 'no password in the log');
      } finally {
        await close();
      }
    });

    it('maps a uid with capitals to the lowercase account name, whichever case is typed', async () => {
      const { directory, close } = await fixture();
      try {
        const upper = await directory.login('CAROL', 'carol-secret');
        assert.equal(upper?.name, 'carol');
        assert.equal((await directory.login('Carol', 'carol-secret'))?.id, upper.id);
        assert.equal((await directory.login('carol', 'carol-secret'))?.id, upper.id);
      } finally {
        await close();
      }
    });

    it('usernames with filter metacharacters cannot match other entries', async () => {
      const { store, directory, close } = await fixture();
      try {
        for (const username of ['*', 'a*', '*)(uid=*', 'alice)(uid=*', 'alice)(|(uid=*', '*)(objectClass=*', 'st*r', 'alice\\2a', 'alice\0']) {
          assert.equal(await directory.login(username, 'alice-secret'), null, username);
          assert.equal(await directory.login(username, 'star-secret'), null, username);
        }
        assert.deepEqual(await store.listAccounts(), []);
      } finally {
        await close();
      }
    });

    it('refuses a username with several directory entries', async () => {
      const { store, directory, log, close } = await fixture();
      try {
        assert.equal(await directory.login('twin', 'twin-secret'), null);
        assert.equal(await store.findAccount('twin'), null);
        assert.ok(log.lines.some((line) => line.level === 'warn' && /several/.test(line.msg)));
      } finally {
        await close();
      }
    });

    it('never takes over a local account of the same name', async () => {
      const { store, directory, log, close } = await fixture();
      try {
        const local = await store.createAccount({ name: 'localuser', kind: 'user', email: 'local@custody.test', passwordHash: 'scrypt$not-a-real-hash' });
        assert.equal(await directory.login('localuser', 'directory-secret'), null);
        assert.equal(await directory.login('LocalUser', 'directory-secret'), null);
        const after = await store.findAccountById(local.id);
        assert.equal(after?.ldapDn, null);
        assert.equal(after?.email, 'local@custody.test');
        assert.equal(await store.passwordHash(local.id), 'scrypt$not-a-real-hash');
        assert.ok(log.lines.some((line) => line.level === 'warn' && line.user === 'localuser'));
        // Nor an organization's name.
        await store.createAccount({ name: 'acme', kind: 'organization' });
        assert.equal(await directory.login('acme', 'acme-secret'), null);
        assert.equal((await store.findAccount('acme'))?.kind, 'organization');
      } finally {
        await close();
      }
    });

    it('a disabled LDAP account is returned disabled and not synchronised', async () => {
      const { store, directory, close } = await fixture();
      try {
        const org = await store.createAccount({ name: 'acme', kind: 'organization' });
        const team = await store.createTeam(org.id, 'devs', 'member');
        await store.updateTeam(team.id, { ldapGroup: slapd.groupDn('developers') });
        const alice = (await directory.login('alice', 'alice-secret'))!;
        await store.removeTeamMember(team.id, alice.id);
        await store.updateAccount(alice.id, { disabled: true });
        assert.equal((await directory.login('alice', 'alice-secret'))?.disabled, true);
        assert.deepEqual(await store.teamsOf(alice.id), []);
      } finally {
        await close();
      }
    });

    it('follows email changes in the directory', async () => {
      const { directory, close } = await fixture();
      try {
        assert.equal((await directory.login('bob', 'bob-secret'))?.email, 'bob@custody.test');
        await slapd.modify(`dn: ${slapd.userDn('bob')}\nchangetype: modify\nreplace: mail\nmail: robert@custody.test\n`);
        try {
          assert.equal((await directory.login('bob', 'bob-secret'))?.email, 'robert@custody.test');
        } finally {
          await slapd.modify(`dn: ${slapd.userDn('bob')}\nchangetype: modify\nreplace: mail\nmail: bob@custody.test\n`);
        }
      } finally {
        await close();
      }
    });

    it('synchronises LDAP groups to teams: adds, removes when the group drops the user, keeps hand-added members', async () => {
      const { store, directory, close } = await fixture();
      try {
        const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
        const other = await store.createAccount({ name: 'other', kind: 'organization' });
        const devs = await store.createTeam(acme.id, 'devs', 'creator');
        // The DN written differently from the directory's: compared case- and space-insensitively.
        await store.updateTeam(devs.id, { ldapGroup: 'CN=Developers, OU=groups, DC=custody, DC=test' });
        const readers = await store.createTeam(other.id, 'readers', 'member');
        await store.updateTeam(readers.id, { ldapGroup: slapd.groupDn('readers') });
        const qa = await store.createTeam(acme.id, 'qa', 'member');
        await store.updateTeam(qa.id, { ldapGroup: slapd.groupDn('qa') });
        const ops = await store.createTeam(acme.id, 'ops', 'member');
        await store.updateTeam(ops.id, { ldapGroup: `cn=operators,${LDAP_GROUPS}` });
        const manual = await store.createTeam(acme.id, 'manual', 'member');

        // Hand-added before the first sync: alice into qa (a synced team whose group she is
        // not in), and into manual.
        const alice0 = await directory.login('alice', 'alice-secret');
        assert.ok(alice0);
        const teamNames = async (account: Account): Promise<string[]> => (await store.teamsOf(account.id)).map((team) => `${team.organization}/${team.name}`).sort();
        assert.deepEqual(await teamNames(alice0), ['acme/devs', 'other/readers']);
        for (const team of [devs, readers]) {
          assert.equal((await store.listTeamMembers(team.id)).find((member) => member.account.id === alice0.id)?.synced, true);
        }
        await store.addTeamMember(qa.id, alice0.id);
        await store.addTeamMember(manual.id, alice0.id);

        // memberUid groups: {username}, spelt as in the directory (memberUid matches case-exactly).
        const dave = (await directory.login('dave', 'dave-secret'))!;
        assert.deepEqual(await teamNames(dave), ['acme/ops']);
        const carol = (await directory.login('CAROL', 'carol-secret'))!;
        assert.deepEqual(await teamNames(carol), ['acme/devs', 'acme/ops']);
        const bob = (await directory.login('bob', 'bob-secret'))!;
        assert.deepEqual(await teamNames(bob), ['acme/qa', 'other/readers']);

        // The directory drops alice from developers and readers.
        await slapd.modify(
          [
            `dn: ${slapd.groupDn('developers')}`,
            'changetype: modify',
            'delete: member',
            `member: ${slapd.userDn('alice')}`,
            '',
            `dn: ${slapd.groupDn('readers')}`,
            'changetype: modify',
            'delete: member',
            `member: ${slapd.userDn('alice')}`,
            '',
          ].join('\n'),
        );
        try {
          // Nothing changes until she logs in again.
          assert.deepEqual(await teamNames(alice0), ['acme/devs', 'acme/manual', 'acme/qa', 'other/readers']);
          const alice1 = (await directory.login('alice', 'alice-secret'))!;
          assert.deepEqual(await teamNames(alice1), ['acme/manual', 'acme/qa'], 'synced memberships removed, hand-added ones kept');
          assert.equal((await store.listTeamMembers(qa.id)).find((member) => member.account.id === alice1.id)?.synced, false);
          // Others are untouched.
          assert.deepEqual(await teamNames(bob), ['acme/qa', 'other/readers']);
        } finally {
          await slapd.modify(
            [
              `dn: ${slapd.groupDn('developers')}`,
              'changetype: modify',
              'add: member',
              `member: ${slapd.userDn('alice')}`,
              '',
              `dn: ${slapd.groupDn('readers')}`,
              'changetype: modify',
              'add: member',
              `member: ${slapd.userDn('alice')}`,
              '',
            ].join('\n'),
          );
        }
        // Back in the groups: back in the teams.
        const alice2 = (await directory.login('alice', 'alice-secret'))!;
        assert.deepEqual(await teamNames(alice2), ['acme/devs', 'acme/manual', 'acme/qa', 'other/readers']);

        // A team that stops mirroring a group keeps its members (managed by hand from then on).
        await store.updateTeam(devs.id, { ldapGroup: null });
        await directory.login('alice', 'alice-secret');
        assert.deepEqual(await teamNames(alice2), ['acme/devs', 'acme/manual', 'acme/qa', 'other/readers']);
      } finally {
        await close();
      }
    });

    it('a hand-added member of a synced team stays hand-added when the group lists them too', async () => {
      const { store, directory, close } = await fixture();
      try {
        const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
        const readers = await store.createTeam(acme.id, 'readers', 'member');
        await store.updateTeam(readers.id, { ldapGroup: slapd.groupDn('readers') });
        const bob = (await directory.login('bob', 'bob-secret'))!;
        await store.removeTeamMember(readers.id, bob.id);
        await store.addTeamMember(readers.id, bob.id, false);
        await directory.login('bob', 'bob-secret');
        assert.deepEqual(
          (await store.listTeamMembers(readers.id)).map((member) => [member.account.name, member.synced]),
          [['bob', false]],
        );
      } finally {
        await close();
      }
    });

    it('uses ldap.groupBase when set: groups outside it are not seen', async () => {
      const { store, directory, close } = await fixture({ groupBase: LDAP_PEOPLE });
      try {
        const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
        const devs = await store.createTeam(acme.id, 'devs', 'member');
        await store.updateTeam(devs.id, { ldapGroup: slapd.groupDn('developers') });
        const alice = (await directory.login('alice', 'alice-secret'))!;
        assert.deepEqual(await store.teamsOf(alice.id), []);
      } finally {
        await close();
      }
    });
  });
}

describe('LDAP connections', () => {
  let dir: string;
  let sql: SqlClient;
  let store: SqlIdentityStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custody-ldap-conn-'));
    sql = new SqliteClient(join(dir, 'custody.db'));
    await migrate(sql);
    store = new SqlIdentityStore(sql);
  });
  after(async () => {
    await sql.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function attempt(config: Partial<LdapConfig>, username = 'alice', password = 'alice-secret'): Promise<Account | null> {
    const directory = new LdapDirectory(ldapConfig(config), store, createLogger('error', { write: () => true }), { connectTimeoutMs: 2_000, operationTimeoutMs: 3_000 });
    try {
      return await directory.login(username, password);
    } finally {
      await directory.close();
    }
  }

  it('logs in over ldaps:// trusting ldap.caFile', async () => {
    assert.equal((await attempt({ url: slapd.ldapsUrl!, caFile: ca.certPath }))?.name, 'alice');
  });

  it('logs in over StartTLS trusting ldap.caFile', async () => {
    assert.equal((await attempt({ startTls: true, caFile: ca.certPath }))?.name, 'alice');
  });

  it('refuses a server certificate it does not trust (throws: no login in clear or unverified)', async () => {
    await assert.rejects(attempt({ url: slapd.ldapsUrl! }), /certificate|self.signed|issuer/i);
    await assert.rejects(attempt({ startTls: true }), /certificate|self.signed|issuer/i);
  });

  it('checks the name in the server certificate, on ldaps:// and StartTLS', async () => {
    // localhost is in the certificate too.
    assert.equal((await attempt({ url: slapd.ldapsUrl!.replace('127.0.0.1', 'localhost'), caFile: ca.certPath }))?.name, 'alice');
    assert.equal((await attempt({ url: slapd.url.replace('127.0.0.1', 'localhost'), startTls: true, caFile: ca.certPath }))?.name, 'alice');
    // A server whose certificate (from the trusted CA) names another host.
    const leaf = await ca.issue('elsewhere');
    const other = await startSlapd({ users: USERS, tls: { certPath: leaf.certPath, keyPath: leaf.keyPath, caPath: ca.certPath } });
    try {
      await assert.rejects(attempt({ url: other.ldapsUrl!, caFile: ca.certPath, bindDn: other.serviceDn, bindPassword: other.servicePassword }), /altnames|does not match/i);
      await assert.rejects(attempt({ url: other.url, startTls: true, caFile: ca.certPath, bindDn: other.serviceDn, bindPassword: other.servicePassword }), /altnames|does not match/i);
    } finally {
      await other.dispose();
    }
  });

  it('throws when the directory cannot be reached, and for a wrong service password', async () => {
    const port = await freePort();
    await assert.rejects(attempt({ url: `ldap://127.0.0.1:${port}` }), /ECONNREFUSED|connect/i);
    await assert.rejects(attempt({ bindPassword: 'wrong' }), /service bind/);
    // A wrong user password is not an outage.
    assert.equal(await attempt({}, 'alice', 'wrong'), null);
  });

  it('throws while slapd is stopped, and works again once it is back', async () => {
    await slapd.stop();
    try {
      await assert.rejects(attempt({}), /ECONNREFUSED|connect/i);
    } finally {
      await slapd.start();
    }
    assert.equal((await attempt({}))?.name, 'alice');
  });

  it('a search the directory refuses throws (an anonymous service bind cannot see ou=people here)', async () => {
    await assert.rejects(attempt({ bindDn: undefined, bindPassword: undefined }), /user search/);
  });

  it('refuses ldap.startTls with an ldaps:// URL', () => {
    assert.throws(() => new LdapDirectory(ldapConfig({ url: slapd.ldapsUrl!, startTls: true }), store, createLogger('error', { write: () => true })), /startTls/);
  });

  it(`uses the parent of ldap.userBase (${LDAP_SUFFIX}) as the group base by default`, async () => {
    const acme = await store.createAccount({ name: `org${randomBytes(3).toString('hex')}`, kind: 'organization' });
    const team = await store.createTeam(acme.id, 'devs', 'member');
    await store.updateTeam(team.id, { ldapGroup: slapd.groupDn('developers') });
    const alice = (await attempt({ groupBase: undefined }))!;
    assert.ok((await store.teamsOf(alice.id)).some((t) => t.id === team.id));
  });
});

describe('LDAP users on a running Custody (podman login, skopeo push)', () => {
  let work: string;
  let server: CustodyServer;
  let podman: IsolatedPodman;
  let skopeoBin: string;
  let sql: SqlClient;
  let store: SqlIdentityStore;

  const podmanRun = (args: readonly string[]): Promise<RunResult> => run(podman.bin, [...podman.globals, ...args], { env: podman.env, timeoutMs: 120_000 });
  const skopeo = (args: readonly string[]): Promise<RunResult> => run(skopeoBin, ['--policy', podman.config.policy, ...args], { env: podman.env, timeoutMs: 180_000 });
  const push = (target: string, creds?: string): Promise<RunResult> =>
    skopeo(['copy', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/${target}`]);

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-ldap-e2e-'));
    podman = await isolatedPodman(join(work, 'podman'));
    server = await startCustody({
      auth: true,
      env: {
        CUSTODY_LDAP_URL: slapd.url,
        CUSTODY_LDAP_BIND_DN: slapd.serviceDn,
        CUSTODY_LDAP_BIND_PASSWORD: slapd.servicePassword,
        CUSTODY_LDAP_USER_BASE: LDAP_PEOPLE,
      },
    });
    // The administrator's side, straight in the server's database: an organization, a
    // team mirroring the LDAP group "developers" with write on acme/app.
    sql = new SqliteClient(join(server.dataDir, 'custody.db'));
    await migrate(sql);
    store = new SqlIdentityStore(sql);
    const acme = await store.createAccount({ name: 'acme', kind: 'organization' });
    const devs = await store.createTeam(acme.id, 'devs', 'member');
    await store.updateTeam(devs.id, { ldapGroup: slapd.groupDn('developers') });
    const repository = await store.ensureRepository('acme/app');
    await store.setPermission(repository.id, { kind: 'team', id: devs.id }, 'write');
  });

  after(async () => {
    await sql?.close();
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('an LDAP user in the synchronised group logs in with podman and pushes where the team may', async () => {
    const login = await podmanRun(['login', '--tls-verify=false', '--username', 'alice', '--password', 'alice-secret', server.host]);
    assert.equal(login.code, 0, explain(login));
    // skopeo uses the credentials podman login stored (the same auth file).
    const pushed = await push('acme/app:1.0');
    assert.equal(pushed.code, 0, explain(pushed));
    const alice = await store.findAccount('alice');
    assert.equal(alice?.ldapDn, slapd.userDn('alice'));
    assert.equal(alice?.email, 'alice@custody.test');
    assert.deepEqual((await store.teamsOf(alice!.id)).map((team) => `${team.organization}/${team.name}`), ['acme/devs']);
    const inspected = await skopeo(['inspect', '--tls-verify=false', '--creds', 'alice:alice-secret', `docker://${server.host}/acme/app:1.0`]);
    assert.equal(inspected.code, 0, explain(inspected));
  });

  it('an LDAP user outside the group logs in but may not push there; a wrong password is refused', async () => {
    const login = await podmanRun(['login', '--tls-verify=false', '--username', 'bob', '--password', 'bob-secret', server.host]);
    assert.equal(login.code, 0, explain(login));
    const denied = await push('acme/app:bob', 'bob:bob-secret');
    assert.notEqual(denied.code, 0, explain(denied));
    assert.match(denied.stderr, /denied|unauthorized|forbidden|401|403/i, explain(denied));
    assert.ok(await store.findAccount('bob'), 'bob was provisioned all the same');
    const listed = await skopeo(['list-tags', '--tls-verify=false', '--creds', 'bob:bob-secret', `docker://${server.host}/acme/app`]);
    assert.notEqual(listed.code, 0, 'bob cannot read acme/app either');
    const wrong = await podmanRun(['login', '--tls-verify=false', '--username', 'alice', '--password', 'not-her-password', server.host]);
    assert.notEqual(wrong.code, 0, explain(wrong));
    const empty = await skopeo(['inspect', '--tls-verify=false', '--creds', 'alice:', `docker://${server.host}/acme/app:1.0`]);
    assert.notEqual(empty.code, 0, explain(empty));
  });

  it("an LDAP user's refresh token (docker login) ends when the account is disabled, and stays ended", async () => {
    // docker login: basic credentials (the directory password) with offline_token=true.
    const login = await http(`${server.url}/auth/token?service=custody&offline_token=true&client_id=docker`, { headers: { Authorization: `Basic ${Buffer.from('alice:alice-secret').toString('base64')}` } });
    assert.equal(login.status, 200, login.body.toString());
    const refresh = login.json<{ refresh_token: string }>()!.refresh_token;
    const alice = (await store.findAccount('alice'))!;
    assert.equal((await store.listCredentials(alice.id, 'refresh')).find((c) => c.mintedVia === 'ldap')?.mintedVia, 'ldap', 'minted from an LDAP login');
    const renew = (): Promise<HttpResult> =>
      http(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, service: 'custody', client_id: 'docker', scope: 'repository:acme/app:pull' }).toString(),
      });
    assert.equal((await renew()).status, 200);
    const admin = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'Content-Type': 'application/json' };
    for (const disabled of [true, false]) {
      const changed = await http(`${server.url}/api/v1/users/alice`, { method: 'PATCH', headers: admin, body: JSON.stringify({ disabled }) });
      assert.equal(changed.status, 200, changed.body.toString());
      assert.equal((await renew()).status, 401, `after disabled=${disabled}: the refresh token ended`);
    }
  });

  it('a local account is not taken over by the directory user of the same name', async () => {
    // The directory's "localuser" must not become the local "localuser", however the name is typed.
    await store.createAccount({ name: 'localuser', kind: 'user', passwordHash: null });
    for (const username of ['localuser', 'LocalUser']) {
      const login = await podmanRun(['login', '--tls-verify=false', '--username', username, '--password', 'directory-secret', server.host]);
      assert.notEqual(login.code, 0, explain(login));
    }
    assert.equal((await store.findAccount('localuser'))?.ldapDn, null);
    assert.ok(server.logs.some((line) => line.includes('not an LDAP user') && line.includes('localuser')), 'the refusal is logged');
    assert.ok(!server.logs.some((line) => line.includes('directory-secret') || line.includes('alice-secret')), 'no password in the server log');
  });
});
