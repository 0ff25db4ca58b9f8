// `custody admin` as a projection of the management route table: every operation is
// reachable from a command (or knowingly left to the API), paths come from the table's
// templates, the help comes from the commands, and the commands print tables, notes and
// JSON against a real `custody serve`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MANAGEMENT_ROUTES } from '../src/management/routes.ts';
import { ADMIN_COMMANDS, API_ONLY_OPERATIONS } from '../src/cli/admin/commands.ts';
import { adminCommand, routePath } from '../src/cli/admin-command.ts';
import { startCustody, runCustody, ADMIN_PASSWORD, type CustodyServer } from './support/custody-server.ts';

const route = (operationId: string) => MANAGEMENT_ROUTES.find((candidate) => candidate.operationId === operationId)!;
const pathParameters = (path: string): string[] => [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);

describe('custody admin, from the route table', () => {
  it('reaches every operation of the management API, or says it is left to the API', () => {
    const used = new Set(ADMIN_COMMANDS.flatMap((command) => command.operations));
    for (const operation of used) assert.ok(route(operation), `${operation} is in the route table`);
    const missing = MANAGEMENT_ROUTES.map((r) => r.operationId).filter((id) => !used.has(id) && !API_ONLY_OPERATIONS.includes(id));
    assert.deepEqual(missing, [], 'operations without a command: add one to admin-commands.ts, or to API_ONLY_OPERATIONS');
    for (const id of API_ONLY_OPERATIONS) assert.ok(!used.has(id), `${id} is API-only yet used`);
  });

  it('fills every path parameter of a command from an argument of that name, or from its flags', () => {
    for (const command of ADMIN_COMMANDS) {
      if (command.params) continue;
      for (const operation of command.operations) {
        for (const parameter of pathParameters(route(operation).path)) assert.ok(command.args.includes(parameter), `${command.words}: {${parameter}} of ${operation}`);
      }
    }
  });

  it('encodes path parameters: a repository keeps its slashes, a name has none', () => {
    assert.equal(routePath(route('getRepository'), { repository: 'acme/tools/app' }), '/api/v1/repositories/acme/tools/app');
    assert.equal(routePath(route('setPermission'), { repository: 'acme/a b', kind: 'team', grantee: 'acme/dev ops' }), '/api/v1/repositories/acme/a%20b/-/permissions/team/acme/dev%20ops');
    assert.equal(routePath(route('getUser'), { name: 'a/b' }), '/api/v1/users/a%2Fb');
    assert.throws(() => routePath(route('getUser'), {}), /no value for \{name\}/);
  });

  it('lists every command in its help', () => {
    for (const command of ADMIN_COMMANDS) assert.match(adminCommand.usage, new RegExp(`^  ${command.words}( |$)`, 'm'), command.words);
  });

  describe('against a registry', () => {
    let server: CustodyServer;
    let env: Record<string, string>;
    const admin = (args: readonly string[]) => runCustody(['admin', ...args, '--username', 'admin', '--password-stdin'], { env, input: `${ADMIN_PASSWORD}\n` });
    const ok = async (args: readonly string[]) => {
      const result = await admin(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      return result;
    };

    before(async () => {
      server = await startCustody({ auth: true });
      env = { CUSTODY_REGISTRY: server.url, CUSTODY_TOKEN: '', HOME: server.dataDir, XDG_RUNTIME_DIR: '', REGISTRY_AUTH_FILE: join(server.dataDir, 'no-auth.json') };
    });
    after(async () => server?.dispose());

    it('prints tables, notes on stderr, JSON with --json, and secrets alone on stdout', async () => {
      assert.equal((await ok(['whoami'])).stdout, 'admin (superuser)\n');
      assert.equal((await ok(['org', 'create', 'acme', '--description', 'Acme'])).stderr, 'custody admin: created organization acme; you are in its owners team\n');
      assert.equal((await ok(['org', 'list'])).stdout, 'NAME  EMAIL  DESCRIPTION\nacme         Acme\n');
      await ok(['team', 'create', 'acme', 'devs', '--role', 'creator', '--ldap-group', 'cn=devs']);
      assert.equal((await ok(['team', 'list', 'acme'])).stdout, 'TEAM    ROLE     LDAP GROUP  DESCRIPTION\ndevs    creator  cn=devs\nowners  admin                administrators of the organization\n');
      assert.deepEqual(JSON.parse((await ok(['team', 'get', 'acme', 'devs'])).stdout).ldapGroup, 'cn=devs');
      const robot = await ok(['robot', 'create', 'acme', 'ci']);
      assert.match(robot.stdout, /^cst_robot_[A-Za-z0-9_-]+\n$/);
      assert.equal(robot.stderr, 'custody admin: created robot acme+ci; its token follows and is shown once\n');
      assert.equal((await ok(['team', 'add-member', 'acme', 'devs', 'acme+ci', '--json'])).stderr, 'custody admin: acme+ci is a member of acme/devs\n');
      assert.equal((await ok(['team', 'members', 'acme', 'devs'])).stdout, 'MEMBER   KIND   SYNCED\nacme+ci  robot\n');
      await ok(['repo', 'create', 'acme/tools/app']);
      assert.equal((await ok(['repo', 'set-visibility', 'acme/tools/app', 'public'])).stderr, 'custody admin: acme/tools/app is public\n');
      assert.equal((await ok(['permission', 'set', 'acme/tools/app', '--team', 'acme/devs', 'write'])).stderr, 'custody admin: team acme/devs has write on acme/tools/app\n');
      assert.equal((await ok(['permission', 'list', 'acme/tools/app', '--direct'])).stdout, 'GRANTEE    KIND  ROLE\nacme/devs  team  write\n');
      assert.match((await ok(['permission', 'list', 'acme/tools/app'])).stdout, /^acme\+ci\s+robot\s+write\s+team acme\/devs$/m);
      assert.equal((await ok(['default-permission', 'set', 'acme', '--robot', 'acme+ci', 'read'])).stderr, 'custody admin: robot acme+ci has read on every repository of acme\n');
      assert.deepEqual(JSON.parse((await ok(['default-permission', 'list', 'acme', '--json'])).stdout), [{ grantee: { kind: 'robot', name: 'acme+ci' }, role: 'read' }]);
      const token = await ok(['token', 'create', 'laptop', '--expires', '2w']);
      assert.match(token.stderr, /^custody admin: created token \d+, expiring \d{4}-\d\d-\d\dT[^;]+; it follows and is shown once\n$/);
      assert.match((await ok(['token', 'list'])).stdout, /^ID\s+NAME\s+CREATED\s+EXPIRES\s+LAST USED\n\d+\s+laptop\s/);
      assert.equal((await ok(['session', 'revoke', '--all'])).stderr, 'custody admin: ended 0 sessions of yours\n');
    });

    it('refuses a wrong command line with one line and exit status 2', async () => {
      const cases: [readonly string[], string][] = [
        [['team', 'get', 'acme'], 'custody admin: usage: custody admin team get ORG TEAM\n'],
        [['repo', 'list', '--role', 'admin'], 'custody admin: --role does not apply to `repo list`\n'],
        [['repo', 'set-visibility', 'acme/tools/app', 'open'], 'custody admin: visibility is public or private\n'],
        [['token', 'revoke', 'latest'], 'custody admin: a token ID is a number (see `custody admin token list`)\n'],
        [['session', 'revoke', '3', '--all'], 'custody admin: give a session ID or --all, not both\n'],
        [['team', 'rename', 'acme'], 'custody admin: unknown subcommand "team rename"; run `custody admin --help`\n'],
      ];
      for (const [args, stderr] of cases) {
        const result = await admin(args);
        assert.deepEqual([result.code, result.stdout, result.stderr], [2, '', stderr], args.join(' '));
      }
    });
  });
});
