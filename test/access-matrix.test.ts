// The permission matrix: principal (anonymous, reader, writer, repository admin, team
// member, robot, member of another organization, superuser) × repository visibility
// (private, public) × action (pull, push, delete, mount, catalog, tag list, referrers,
// management calls), against a real Custody with token auth, through real skopeo and
// podman where a client is involved and raw HTTP otherwise. Every row asserts the exact
// outcome and the action log entry it leaves (or that it leaves none).
//
// Two servers: `main` (auth.anonymousPull=false, the default) runs the whole matrix;
// `open` (auth.anonymousPull=true) runs the rows where anonymous pull matters.
// Fixtures (accounts, organizations, teams, robots, permissions, visibility) are written
// straight into the server's SQLite database; images are pushed by the administrator.
// Namespace ownership (who owns a name, what deleting an account takes with it) has rows
// of its own in access-matrix/namespace-ownership.ts, run last on the `main` server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { AccessFixtures, basic, fetchToken, type LoggedAction } from './support/access-fixtures.ts';
import { containersConfig, explain, http, requireTool, run, runOk, waitFor, type ContainersConfig, type HttpResult, type RunResult } from './support/tools.ts';
import { debianLayout, layoutImage, OCI_INDEX, OCI_MANIFEST, ociRef, sha256, type LayoutImage } from './support/images.ts';
import { isolatedPodman, type IsolatedPodman } from './support/podman.ts';
import { TokenService } from '../src/auth/token-service.ts';
import { namespaceOwnershipRows } from './access-matrix/namespace-ownership.ts';

// ---- the table -----------------------------------------------------------------------------

type Principal = 'anonymous' | 'reader' | 'writer' | 'repoadmin' | 'teammember' | 'creator' | 'robot' | 'outsider' | 'superuser';
type Visibility = 'private' | 'public';
type Action = 'pull' | 'push' | 'create' | 'delete' | 'mount' | 'tags' | 'referrers' | 'catalog' | 'manage-read' | 'manage-permission';
/** `upload`: a mount whose source the caller may not read became a plain upload (202). */
type Outcome = 'allowed' | 'denied' | 'unauthorized' | 'upload';
type Client = 'skopeo' | 'podman' | 'http';
type ServerName = 'main' | 'open';

interface Row {
  readonly server: ServerName;
  readonly principal: Principal;
  readonly visibility: Visibility;
  readonly action: Action;
  readonly expected: Outcome;
  readonly client: Client;
  /** Mounts: the repository mounted into (the source is the row's repository). */
  readonly target?: string;
}

const PRINCIPALS: readonly Principal[] = ['anonymous', 'reader', 'writer', 'repoadmin', 'teammember', 'creator', 'robot', 'outsider', 'superuser'];
const REPOSITORY: Readonly<Record<Visibility, string>> = { private: 'acme/private-app', public: 'acme/public-app' };

// [private, public] per principal, for the `main` server (anonymous pull off).
type Pair = readonly [Outcome, Outcome];
const A: Outcome = 'allowed';
const D: Outcome = 'denied';
const U: Outcome = 'unauthorized';
const MATRIX: Readonly<Record<Exclude<Action, 'catalog' | 'create'>, Readonly<Record<Principal, Pair>>>> = {
  // teammember: in a member team with write; creator: in a creator team, no permission on these repositories.
  pull: { anonymous: [U, U], reader: [A, A], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: [D, A], robot: [A, A], outsider: [D, A], superuser: [A, A] },
  tags: { anonymous: [U, U], reader: [A, A], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: [D, A], robot: [A, A], outsider: [D, A], superuser: [A, A] },
  referrers: { anonymous: [U, U], reader: [A, A], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: [D, A], robot: [A, A], outsider: [D, A], superuser: [A, A] },
  push: { anonymous: [U, U], reader: [D, D], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: [D, D], robot: [A, A], outsider: [D, D], superuser: [A, A] },
  delete: { anonymous: [U, U], reader: [D, D], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: [D, D], robot: [A, A], outsider: [D, D], superuser: [A, A] },
  // Source = the row's repository, target = MOUNT_TARGET (writable by the principal).
  mount: { anonymous: [U, U], reader: [A, A], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: ['upload', A], robot: [A, A], outsider: ['upload', A], superuser: [A, A] },
  'manage-read': { anonymous: [U, U], reader: [A, A], writer: [A, A], repoadmin: [A, A], teammember: [A, A], creator: [D, A], robot: [A, A], outsider: [D, A], superuser: [A, A] },
  'manage-permission': { anonymous: [U, U], reader: [D, D], writer: [D, D], repoadmin: [A, A], teammember: [D, D], creator: [D, D], robot: [D, D], outsider: [D, D], superuser: [A, A] },
};

/** Where each principal mounts into: a repository it may push to (its own namespace where it has one). */
function mountTarget(principal: Principal, source: Visibility): string {
  switch (principal) {
    case 'robot':
      return source === 'private' ? REPOSITORY.public : REPOSITORY.private;
    case 'anonymous':
      return source === 'private' ? REPOSITORY.public : REPOSITORY.private;
    case 'superuser':
      return `acme/mirror-${source}`;
    default:
      return `${ACCOUNT[principal]}/mirror-${source}`;
  }
}

/** Which client drives each action (podman for a few pull/push rows, see CLIENT_OVERRIDES). */
const CLIENT: Readonly<Record<Action, Client>> = {
  pull: 'skopeo',
  push: 'skopeo',
  create: 'skopeo',
  delete: 'skopeo',
  tags: 'skopeo',
  mount: 'http',
  referrers: 'http',
  catalog: 'http',
  'manage-read': 'http',
  'manage-permission': 'http',
};
const CLIENT_OVERRIDES: readonly { principal: Principal; visibility: Visibility; action: Action; client: Client }[] = [
  { principal: 'teammember', visibility: 'private', action: 'pull', client: 'podman' },
  { principal: 'outsider', visibility: 'private', action: 'pull', client: 'podman' },
  { principal: 'robot', visibility: 'private', action: 'push', client: 'podman' },
  { principal: 'reader', visibility: 'private', action: 'push', client: 'podman' },
];

// Exactly what _catalog lists for each principal (fixture repositories only: the catalog
// rows run before any row creates a repository).
const CATALOG: Readonly<Record<Principal, readonly string[] | 'unauthorized'>> = {
  anonymous: 'unauthorized',
  reader: ['acme/private-app', 'acme/public-app', 'reader/own'],
  writer: ['acme/private-app', 'acme/public-app'],
  repoadmin: ['acme/private-app', 'acme/public-app'],
  teammember: ['acme/private-app', 'acme/public-app'],
  creator: ['acme/public-app'],
  robot: ['acme/private-app', 'acme/public-app'],
  outsider: ['acme/public-app', 'globex/internal'],
  superuser: ['acme/private-app', 'acme/public-app', 'globex/internal', 'reader/own'],
};

// The `open` server (anonymous pull on): anonymous rows, plus a reader row as a control.
const OPEN_ROWS: readonly Row[] = [
  ...(['pull', 'tags', 'referrers'] as const).flatMap((action) => [
    { server: 'open' as const, principal: 'anonymous' as const, visibility: 'private' as const, action, expected: U, client: CLIENT[action] },
    { server: 'open' as const, principal: 'anonymous' as const, visibility: 'public' as const, action, expected: A, client: CLIENT[action] },
  ]),
  { server: 'open', principal: 'anonymous', visibility: 'public', action: 'pull', expected: A, client: 'podman' },
  { server: 'open', principal: 'anonymous', visibility: 'public', action: 'push', expected: U, client: 'skopeo' },
  { server: 'open', principal: 'anonymous', visibility: 'public', action: 'delete', expected: U, client: 'skopeo' },
  { server: 'open', principal: 'anonymous', visibility: 'public', action: 'manage-read', expected: U, client: 'http' },
  { server: 'open', principal: 'reader', visibility: 'private', action: 'pull', expected: A, client: 'skopeo' },
];
const OPEN_CATALOG: Readonly<Partial<Record<Principal, readonly string[]>>> = {
  anonymous: ['acme/public-app'],
  outsider: ['acme/public-app', 'globex/internal'],
};

function mainRows(action: Exclude<Action, 'catalog' | 'create'>): Row[] {
  return PRINCIPALS.flatMap((principal) =>
    (['private', 'public'] as const).map((visibility, index): Row => {
      const override = CLIENT_OVERRIDES.find((o) => o.principal === principal && o.visibility === visibility && o.action === action);
      return {
        server: 'main',
        principal,
        visibility,
        action,
        expected: MATRIX[action][principal][index]!,
        client: override?.client ?? CLIENT[action],
        ...(action === 'mount' ? { target: mountTarget(principal, visibility) } : {}),
      };
    }),
  );
}

// Pushing to a repository that does not exist creates it only where the principal may
// create: its own namespace, an organization where it is in a creator or admin team, or
// anywhere for a superuser. `target` is the new repository.
const CREATE_ROWS: readonly Row[] = (
  [
    ['anonymous', 'acme/new-anonymous', U],
    ['reader', 'reader/new', A],
    ['writer', 'acme/new-writer', D],
    ['repoadmin', 'acme/new-repoadmin', D],
    ['teammember', 'acme/new-teammember', D],
    ['creator', 'acme/new-creator', A],
    ['robot', 'acme/new-robot', D],
    ['outsider', 'globex/new-outsider', A],
    ['outsider', 'acme/new-outsider', D],
    ['superuser', 'acme/new-superuser', A],
  ] as const
).map(([principal, target, expected]) => ({ server: 'main', principal, visibility: 'private', action: 'create', expected, client: 'skopeo', target }));

// Mounts into a repository the caller may read but not write: refused outright.
const MOUNT_INTO_UNWRITABLE: readonly Row[] = [
  { server: 'main', principal: 'reader', visibility: 'public', action: 'mount', expected: D, client: 'http', target: REPOSITORY.private },
  { server: 'main', principal: 'outsider', visibility: 'public', action: 'mount', expected: D, client: 'http', target: REPOSITORY.private },
  { server: 'main', principal: 'teammember', visibility: 'private', action: 'mount', expected: D, client: 'http', target: 'globex/internal' },
];

// ---- accounts ------------------------------------------------------------------------------

const ACCOUNT: Readonly<Record<Principal, string>> = {
  anonymous: '',
  reader: 'reader',
  writer: 'writer',
  repoadmin: 'repoadmin',
  teammember: 'dev1',
  creator: 'builder',
  robot: 'acme+ci',
  outsider: 'outsider',
  superuser: 'admin',
};
const PASSWORD: Readonly<Record<Exclude<Principal, 'anonymous' | 'robot' | 'superuser'>, string>> = {
  reader: 'reader-password-1',
  writer: 'writer-password-2',
  repoadmin: 'repoadmin-password-3',
  teammember: 'dev1-password-4',
  creator: 'builder-password-6',
  outsider: 'outsider-password-5',
};

const BASE_TAG = '1.0';
const ARTIFACT_TYPE = 'application/vnd.custody.test.note';
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 };
const ACCEPT = [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

interface World {
  readonly name: ServerName;
  readonly server: CustodyServer;
  readonly fx: AccessFixtures;
  readonly creds: Readonly<Record<Principal, { username: string; secret: string } | null>>;
  /** Referrer artifact digest per repository. */
  readonly artifacts: Map<string, string>;
  /** Per-row blobs for mounts: key `${principal}/${visibility}/${target}`. */
  readonly mountBlobs: Map<string, string>;
  sentinel: number;
}

function rowName(row: Row): string {
  if (row.action === 'create') return `[${row.server}] ${row.principal} push creating ${row.target} via ${row.client}: ${row.expected}`;
  const target = row.target ? ` → ${row.target}` : '';
  return `[${row.server}] ${row.principal} ${row.action} ${REPOSITORY[row.visibility]}${target} via ${row.client}: ${row.expected}`;
}

function deleteTag(row: Row): string {
  return `del-${row.server}-${row.principal}`;
}

function pushTag(row: Row): string {
  return `push-${row.client}-${row.principal}`;
}

// ---- the suite -----------------------------------------------------------------------------

describe('access matrix: principal × visibility × action', () => {
  let work: string;
  let skopeoBin: string;
  let config: ContainersConfig;
  let podman: IsolatedPodman;
  let image: LayoutImage;
  const worlds = new Map<ServerName, World>();

  const world = (name: ServerName): World => worlds.get(name)!;
  const skopeo = (args: readonly string[]): Promise<RunResult> => run(skopeoBin, ['--policy', config.policy, ...args], { env: config.env, timeoutMs: 120_000 });
  const podmanRun = (args: readonly string[]): Promise<RunResult> => run(podman.bin, [...podman.globals, ...args], { env: podman.env, timeoutMs: 180_000 });
  const podmanOk = async (args: readonly string[]): Promise<RunResult> => {
    const result = await podmanRun(args);
    if (result.code !== 0) throw new Error(explain(result));
    return result;
  };

  const adminCreds = { username: 'admin', secret: ADMIN_PASSWORD };
  const adminToken = (w: World, ...scopes: string[]): Promise<string> => fetchToken(w.server.url, scopes, adminCreds);
  const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

  async function adminPutManifest(w: World, repository: string, reference: string, manifest: unknown): Promise<string> {
    const token = await adminToken(w, `repository:${repository}:pull,push`);
    const content = JSON.stringify(manifest);
    const response = await http(`${w.server.url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: content, headers: { ...bearer(token), 'Content-Type': OCI_MANIFEST } });
    assert.equal(response.status, 201, `fixture manifest ${repository}:${reference}: ${response.body.toString()}`);
    return sha256(content);
  }

  async function adminPutBlob(w: World, repository: string, content: Buffer): Promise<string> {
    const digest = sha256(content);
    const token = await adminToken(w, `repository:${repository}:pull,push`);
    const response = await http(`${w.server.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: content,
      headers: { ...bearer(token), 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(response.status, 201, `fixture blob in ${repository}: ${response.body.toString()}`);
    return digest;
  }

  async function adminHead(w: World, repository: string, kind: 'manifests' | 'blobs', reference: string): Promise<number> {
    const token = await adminToken(w, `repository:${repository}:pull`);
    return (await http(`${w.server.url}/v2/${repository}/${kind}/${reference}`, { method: 'HEAD', headers: { ...bearer(token), Accept: ACCEPT } })).status;
  }

  /** A bearer token for the row's principal (anonymous: none asked for). */
  const tokenFor = (w: World, principal: Principal, ...scopes: string[]): Promise<string> => fetchToken(w.server.url, scopes, w.creds[principal] ?? undefined);

  async function populate(name: ServerName, anonymousPull: boolean): Promise<World> {
    const server = await startCustody({
      auth: true,
      env: { CUSTODY_AUDIT_FLUSH_INTERVAL: '100ms', CUSTODY_AUTH_ANONYMOUS_PULL: String(anonymousPull) },
    });
    // Accounts first: every namespace the administrator pushes into then has its owner.
    const fx = new AccessFixtures(server.dataDir);
    const ids: Partial<Record<Principal, number>> = {};
    for (const principal of Object.keys(PASSWORD) as (keyof typeof PASSWORD)[]) ids[principal] = await fx.user(ACCOUNT[principal], PASSWORD[principal]);
    const acme = await fx.organization('acme');
    const globex = await fx.organization('globex');
    const developers = await fx.team(acme, 'developers', 'member', [ids.teammember!]);
    await fx.team(acme, 'builders', 'creator', [ids.creator!]);
    await fx.team(globex, 'owners', 'admin', [ids.outsider!]);
    const robot = await fx.robot(acme, 'acme', 'ci');
    // Then images (the administrator pushes them), so the repository rows exist.
    for (const repository of [REPOSITORY.private, REPOSITORY.public, 'globex/internal', 'reader/own']) {
      await runOk(skopeoBin, ['--policy', config.policy, 'copy', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/${repository}:${BASE_TAG}`], {
        env: config.env,
      });
    }
    for (const repository of [REPOSITORY.private, REPOSITORY.public]) {
      await fx.permission(repository, { kind: 'account', id: ids.reader! }, 'read');
      await fx.permission(repository, { kind: 'account', id: ids.writer! }, 'write');
      await fx.permission(repository, { kind: 'account', id: ids.repoadmin! }, 'admin');
      await fx.permission(repository, { kind: 'team', id: developers }, 'write');
      await fx.permission(repository, { kind: 'account', id: robot.id }, 'write');
    }
    await fx.visibility(REPOSITORY.public, 'public');

    const creds: Record<Principal, { username: string; secret: string } | null> = {
      anonymous: null,
      reader: { username: 'reader', secret: PASSWORD.reader },
      writer: { username: 'writer', secret: PASSWORD.writer },
      repoadmin: { username: 'repoadmin', secret: PASSWORD.repoadmin },
      teammember: { username: 'dev1', secret: PASSWORD.teammember },
      creator: { username: 'builder', secret: PASSWORD.creator },
      robot: { username: robot.name, secret: robot.token },
      outsider: { username: 'outsider', secret: PASSWORD.outsider },
      superuser: adminCreds,
    };
    const w: World = { name, server, fx, creds, artifacts: new Map(), mountBlobs: new Map(), sentinel: 0 };

    // A referrer (an artifact whose subject is the image) in each acme repository.
    for (const repository of [REPOSITORY.private, REPOSITORY.public]) {
      await adminPutBlob(w, repository, Buffer.from('{}'));
      const artifact = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: ARTIFACT_TYPE, config: EMPTY_CONFIG, layers: [EMPTY_CONFIG], subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.content.length } };
      w.artifacts.set(repository, await adminPutManifest(w, repository, sha256(JSON.stringify(artifact)), artifact));
    }
    return w;
  }

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-access-'));
    config = await containersConfig(join(work, 'config'));
    podman = await isolatedPodman(join(work, 'podman'));
    image = await layoutImage(debianLayout(), 'bookworm-minbase');
    const [main, open] = await Promise.all([populate('main', false), populate('open', true)]);
    worlds.set('main', main);
    worlds.set('open', open);
    // podman needs the image in its store to push it.
    await podmanOk(['pull', '--signature-policy', podman.config.policy, ociRef(debianLayout(), 'bookworm-minbase')]);
  });

  after(async () => {
    for (const w of worlds.values()) {
      await w.fx.close();
      await w.server.dispose();
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  // ---- the action log ----

  /** Waits until every entry recorded so far is in the database (an entry recorded now is written after them). */
  async function flushLog(w: World): Promise<void> {
    const marker = `sentinel/s${++w.sentinel}`;
    await fetchToken(w.server.url, [`repository:${marker}:pull`]);
    await waitFor(`the action log to write ${marker}`, async () => (await w.fx.actions(0)).some((entry) => entry.kind === 'token' && entry.detail?.includes(marker)), 10_000);
  }

  type Expectation = Partial<Pick<LoggedAction, 'kind' | 'result' | 'actor_kind' | 'actor_name' | 'actor_via' | 'repository' | 'tag' | 'digest'>>;
  const matches = (entry: LoggedAction, expected: Expectation): boolean => Object.entries(expected).every(([key, value]) => entry[key as keyof LoggedAction] === value);

  async function expectLogged(w: World, since: number, expected: Expectation): Promise<LoggedAction> {
    try {
      return await waitFor(`action log entry ${JSON.stringify(expected)}`, async () => (await w.fx.actions(since)).find((entry) => matches(entry, expected)), 5_000);
    } catch (error) {
      const seen = (await w.fx.actions(since)).map((entry) => JSON.stringify(entry)).join('\n');
      throw new Error(`${(error as Error).message}\nentries since the row started:\n${seen}`, { cause: error });
    }
  }

  async function expectNotLogged(w: World, since: number, unexpected: Expectation): Promise<void> {
    await flushLog(w);
    const found = (await w.fx.actions(since)).filter((entry) => matches(entry, unexpected));
    assert.deepEqual(found, [], `no action log entry like ${JSON.stringify(unexpected)}`);
  }

  const actor = (w: World, principal: Principal): Expectation =>
    principal === 'anonymous' ? { actor_kind: 'anonymous', actor_name: null } : { actor_kind: principal === 'robot' ? 'robot' : 'user', actor_name: w.creds[principal]!.username };

  /** Asserts the log for a row whose action kind is `kind` (pull, push, delete, mount). */
  async function checkLog(w: World, row: Row, since: number, kind: 'pull' | 'push' | 'delete', success: Expectation, repository = REPOSITORY[row.visibility]): Promise<void> {
    const who = actor(w, row.principal);
    if (row.expected === 'allowed') {
      const entry = await expectLogged(w, since, { kind, result: 'success', ...who, repository, ...success });
      if (row.principal === 'robot') assert.equal(entry.actor_via, 'robot-token', 'a robot acts through its token');
    } else if (row.expected === 'denied') {
      // A caller who may not even read the repository is refused at its first read
      // (manifest GET, blob HEAD), which is logged as a denied pull.
      const cannotRead = row.server === 'main' && MATRIX.pull[row.principal][row.visibility === 'private' ? 0 : 1] === 'denied';
      await expectLogged(w, since, { kind: cannotRead ? 'pull' : kind, result: 'denied', ...who, repository });
      await expectNotLogged(w, since, { kind, result: 'success', repository, ...success });
    } else {
      // 401: the caller never proved who it is; nothing happened to log but the challenge.
      await expectNotLogged(w, since, { kind, result: 'success', repository, ...success });
      await expectNotLogged(w, since, { kind, result: 'denied', repository, actor_kind: 'anonymous' });
    }
  }

  // ---- client outcomes ----

  function assertClientOutcome(result: RunResult, expected: Outcome): void {
    if (expected === 'allowed') {
      assert.equal(result.code, 0, explain(result));
      return;
    }
    assert.notEqual(result.code, 0, `expected the client to fail (${expected})\n${explain(result)}`);
    if (expected === 'denied') {
      // skopeo shows the DENIED message where it reads the body, the bare 403 otherwise (HEAD, tag list).
      assert.match(result.stderr, /denied|403 \(Forbidden\)/i, explain(result));
      assert.doesNotMatch(result.stderr, /unauthorized|authentication required|\b401\b/i, `a known caller is denied (403), not challenged\n${explain(result)}`);
    } else {
      assert.match(result.stderr, /unauthorized|authentication required|\b401\b/i, explain(result));
    }
  }

  function assertHttpOutcome(response: HttpResult, expected: Outcome, what: string): void {
    const body = response.body.toString('utf8').slice(0, 500);
    if (expected === 'denied') {
      assert.equal(response.status, 403, `${what}: ${body}`);
      assert.equal(response.json<{ errors: { code: string }[] }>()?.errors[0]?.code, 'DENIED', body);
    } else if (expected === 'unauthorized') {
      assert.equal(response.status, 401, `${what}: ${body}`);
      assert.match(String(response.headers['www-authenticate']), /^Bearer realm="[^"]+\/auth\/token",service="custody"/, 'a Bearer challenge');
    }
  }

  const credsFlag = (w: World, principal: Principal, flag: string): string[] => {
    const creds = w.creds[principal];
    return creds ? [flag, `${creds.username}:${creds.secret}`] : [];
  };
  const ref = (w: World, repository: string, tag: string): string => `docker://${w.server.host}/${repository}:${tag}`;

  // ---- one runner per action ----

  async function runRow(row: Row): Promise<void> {
    const w = world(row.server);
    const repository = REPOSITORY[row.visibility];
    await new Promise((resolve) => setTimeout(resolve, 2));
    const since = Date.now();

    switch (row.action) {
      case 'pull': {
        if (row.client === 'podman') {
          const result = await podmanLogin(w, row.principal, () =>
            podmanRun(['pull', '--authfile', authfileOf(w, row.principal), '--tls-verify=false', '--signature-policy', podman.config.policy, `${w.server.host}/${repository}:${BASE_TAG}`]),
          );
          assertClientOutcome(result, row.expected);
        } else {
          const result = await skopeo(['inspect', '--tls-verify=false', ...credsFlag(w, row.principal, '--creds'), ref(w, repository, BASE_TAG)]);
          assertClientOutcome(result, row.expected);
          if (row.expected === 'allowed') assert.equal((JSON.parse(result.stdout) as { Digest: string }).Digest, image.digest);
        }
        await checkLog(w, row, since, 'pull', { tag: BASE_TAG });
        return;
      }
      case 'push': {
        const tag = pushTag(row);
        let result: RunResult;
        if (row.client === 'podman') {
          const local = `${w.server.host}/${repository}:${tag}`;
          await podmanOk(['tag', image.manifest.config.digest.slice('sha256:'.length), local]);
          result = await podmanLogin(w, row.principal, () => podmanRun(['push', '--authfile', authfileOf(w, row.principal), '--tls-verify=false', '--signature-policy', podman.config.policy, local]));
        } else {
          result = await skopeo(['copy', '--dest-tls-verify=false', ...credsFlag(w, row.principal, '--dest-creds'), ociRef(debianLayout(), 'bookworm-minbase'), ref(w, repository, tag)]);
        }
        assertClientOutcome(result, row.expected);
        assert.equal(await adminHead(w, repository, 'manifests', tag), row.expected === 'allowed' ? 200 : 404, `tag ${tag} after the push`);
        await checkLog(w, row, since, 'push', { tag });
        return;
      }
      case 'create': {
        const target = row.target!;
        const result = await skopeo(['copy', '--dest-tls-verify=false', ...credsFlag(w, row.principal, '--dest-creds'), ociRef(debianLayout(), 'bookworm-minbase'), ref(w, target, BASE_TAG)]);
        assertClientOutcome(result, row.expected);
        assert.equal(await adminHead(w, target, 'manifests', BASE_TAG), row.expected === 'allowed' ? 200 : 404, `${target}:${BASE_TAG} after the push`);
        const settings = await w.fx.identity.findRepository(target);
        if (row.expected === 'allowed') {
          assert.equal(settings?.visibility, 'private', 'a repository created by a push starts private');
          // Whoever created it administers it (a creator team alone gives no role on it otherwise).
          const token = await tokenFor(w, row.principal, `repository:${target}:*`);
          const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { access: { name: string; actions: string[] }[] };
          assert.deepEqual(claims.access.find((claim) => claim.name === target)?.actions.slice().sort(), ['*', 'delete', 'pull', 'push'], `${row.principal} administers ${target}`);
          await expectLogged(w, since, { kind: 'push', result: 'success', ...actor(w, row.principal), repository: target, tag: BASE_TAG });
        } else {
          assert.equal(settings?.visibility ?? null, null, 'no repository was created');
          if (row.expected === 'denied') await expectLogged(w, since, { result: 'denied', ...actor(w, row.principal), repository: target });
          await expectNotLogged(w, since, { kind: 'push', result: 'success', repository: target });
        }
        return;
      }
      case 'delete': {
        // A manifest of its own (the image with a distinct annotation), so deleting it by
        // digest takes nothing from any other row.
        const tag = deleteTag(row);
        const digest = await adminPutManifest(w, repository, tag, { ...image.manifest, annotations: { 'test.custody.delete-target': tag } });
        const rowSince = Date.now();
        const result = await skopeo(['delete', '--tls-verify=false', ...credsFlag(w, row.principal, '--creds'), ref(w, repository, tag)]);
        assertClientOutcome(result, row.expected);
        assert.equal(await adminHead(w, repository, 'manifests', digest), row.expected === 'allowed' ? 404 : 200, `manifest ${digest} after the delete`);
        await checkLog(w, row, rowSince, 'delete', { digest });
        return;
      }
      case 'tags': {
        const result = await skopeo(['list-tags', '--tls-verify=false', ...credsFlag(w, row.principal, '--creds'), `docker://${w.server.host}/${repository}`]);
        assertClientOutcome(result, row.expected);
        if (row.expected === 'allowed') {
          const listing = JSON.parse(result.stdout) as { Repository: string; Tags: string[] };
          assert.ok(listing.Tags.includes(BASE_TAG), `tags of ${repository}: ${listing.Tags.join(', ')}`);
        } else if (row.expected === 'denied') {
          await expectLogged(w, since, { kind: 'pull', result: 'denied', ...actor(w, row.principal), repository });
        }
        return;
      }
      case 'referrers': {
        const token = await tokenFor(w, row.principal, `repository:${repository}:pull`);
        const response = await http(`${w.server.url}/v2/${repository}/referrers/${image.digest}`, { headers: bearer(token) });
        assertHttpOutcome(response, row.expected, `referrers of ${repository}`);
        if (row.expected === 'allowed') {
          assert.equal(response.status, 200, response.body.toString());
          const index = response.json<{ manifests: { digest: string; artifactType?: string }[] }>()!;
          assert.deepEqual(
            index.manifests.map((entry) => [entry.digest, entry.artifactType]),
            [[w.artifacts.get(repository), ARTIFACT_TYPE]],
          );
        } else if (row.expected === 'denied') {
          await expectLogged(w, since, { kind: 'pull', result: 'denied', ...actor(w, row.principal), repository });
        }
        return;
      }
      case 'mount': {
        const target = row.target!;
        const digest = w.mountBlobs.get(mountKey(row))!;
        const rowSince = Date.now();
        const token = await tokenFor(w, row.principal, `repository:${target}:pull,push`, `repository:${repository}:pull`);
        const response = await http(`${w.server.url}/v2/${target}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(repository)}`, { method: 'POST', headers: bearer(token) });
        const body = response.body.toString('utf8');
        if (row.expected === 'allowed') {
          assert.equal(response.status, 201, body);
          assert.equal(response.headers['docker-content-digest'], digest);
          assert.equal(response.headers.location, `/v2/${target}/blobs/${digest}`);
          assert.equal(await adminHead(w, target, 'blobs', digest), 200, 'the blob is linked into the target');
          await expectLogged(w, rowSince, { kind: 'mount', result: 'success', ...actor(w, row.principal), repository: target, digest });
        } else if (row.expected === 'upload') {
          assert.equal(response.status, 202, `an unreadable source gives a plain upload session: ${body}`);
          assert.match(String(response.headers.location), new RegExp(`^/v2/${target}/blobs/uploads/`));
          assert.equal(await adminHead(w, target, 'blobs', digest), 404, 'nothing was mounted');
          await expectNotLogged(w, rowSince, { kind: 'mount', repository: target });
        } else {
          assertHttpOutcome(response, row.expected, `mount into ${target}`);
          assert.equal(await adminHead(w, target, 'blobs', digest), 404, 'nothing was mounted');
          if (row.expected === 'denied') await expectLogged(w, rowSince, { kind: 'push', result: 'denied', ...actor(w, row.principal), repository: target });
          await expectNotLogged(w, rowSince, { kind: 'mount', repository: target });
        }
        return;
      }
      case 'manage-read':
      case 'manage-permission': {
        const creds = w.creds[row.principal];
        const headers: Record<string, string> = creds ? { Authorization: basic(creds.username, creds.secret) } : {};
        let response: HttpResult;
        if (row.action === 'manage-read') {
          response = await http(`${w.server.url}/api/v1/repositories/${repository}`, { headers });
        } else {
          // Sets the reader's role to what it already is: the fixture stays as it was.
          response = await http(`${w.server.url}/api/v1/repositories/${repository}/-/permissions/user/reader`, {
            method: 'PUT',
            headers: { ...headers, 'Content-Type': 'application/json' },
            body: JSON.stringify({ role: 'read' }),
          });
        }
        const body = response.body.toString('utf8');
        if (row.expected === 'allowed') {
          assert.equal(response.status, 200, body);
          if (row.action === 'manage-read') assert.equal(response.json<{ name: string }>()?.name, repository, body);
          else assert.equal(response.json<{ role: string }>()?.role, 'read', body);
        } else if (row.expected === 'denied') {
          assert.equal(response.status, 403, body);
        } else {
          assert.equal(response.status, 401, body);
        }
        if (row.action === 'manage-permission') {
          if (row.expected === 'unauthorized') await expectNotLogged(w, since, { kind: 'permission', repository });
          else await expectLogged(w, since, { kind: 'permission', result: row.expected === 'allowed' ? 'success' : 'denied', ...actor(w, row.principal), repository });
        }
        return;
      }
      case 'catalog':
        throw new Error('catalog rows have their own runner');
    }
  }

  // podman logs in with an auth file of the principal's own; anonymous uses an empty one.
  const authfileOf = (w: World, principal: Principal): string => join(work, `auth-${w.name}-${principal}.json`);
  async function podmanLogin(w: World, principal: Principal, then: () => Promise<RunResult>): Promise<RunResult> {
    const creds = w.creds[principal];
    const authfile = authfileOf(w, principal);
    if (creds) {
      const login = await run(podman.bin, [...podman.globals, 'login', '--authfile', authfile, '--tls-verify=false', '--username', creds.username, '--password-stdin', w.server.host], {
        env: podman.env,
        input: creds.secret,
      });
      assert.equal(login.code, 0, explain(login));
      assert.match(login.stdout, /Login Succeeded/i);
    } else {
      await writeFile(authfile, JSON.stringify({ auths: {} }), { mode: 0o600 });
    }
    return then();
  }

  const mountKey = (row: Row): string => `${row.principal}/${row.visibility}/${row.target}`;

  // ---- the rows, in an order that keeps them independent: listings before anything
  // creates a repository, deletes on manifests of their own. ----

  describe('catalog', () => {
    for (const [name, expectations] of [
      ['main', CATALOG],
      ['open', OPEN_CATALOG],
    ] as const) {
      for (const [principal, expected] of Object.entries(expectations) as [Principal, readonly string[] | 'unauthorized'][]) {
        test(`[${name}] ${principal} _catalog: ${expected === 'unauthorized' ? 'unauthorized' : JSON.stringify(expected)}`, async () => {
          const w = world(name);
          // Without credentials: always a challenge naming the catalog scope.
          const bare = await http(`${w.server.url}/v2/_catalog`);
          assert.equal(bare.status, 401);
          assert.match(String(bare.headers['www-authenticate']), /scope="registry:catalog:\*"/);
          const token = await tokenFor(w, principal, 'registry:catalog:*');
          const response = await http(`${w.server.url}/v2/_catalog`, { headers: bearer(token) });
          if (expected === 'unauthorized') {
            assertHttpOutcome(response, 'unauthorized', '_catalog');
            return;
          }
          assert.equal(response.status, 200, response.body.toString());
          assert.deepEqual(response.json<{ repositories: string[] }>()!.repositories, expected);
          // Basic credentials straight on /v2/ list the same.
          const creds = w.creds[principal];
          if (creds) {
            const direct = await http(`${w.server.url}/v2/_catalog`, { headers: { Authorization: basic(creds.username, creds.secret) } });
            assert.equal(direct.status, 200);
            assert.deepEqual(direct.json<{ repositories: string[] }>()!.repositories, expected);
          }
        });
      }
    }
  });

  const groups: readonly [string, readonly Row[]][] = [
    ['pull', [...mainRows('pull'), ...OPEN_ROWS.filter((row) => row.action === 'pull')]],
    ['tag list', [...mainRows('tags'), ...OPEN_ROWS.filter((row) => row.action === 'tags')]],
    ['referrers', [...mainRows('referrers'), ...OPEN_ROWS.filter((row) => row.action === 'referrers')]],
    ['push', [...mainRows('push'), ...OPEN_ROWS.filter((row) => row.action === 'push')]],
    ['push creating a repository', CREATE_ROWS],
    ['mount', [...mainRows('mount'), ...MOUNT_INTO_UNWRITABLE]],
    ['delete', [...mainRows('delete'), ...OPEN_ROWS.filter((row) => row.action === 'delete')]],
    ['management API', [...mainRows('manage-read'), ...mainRows('manage-permission'), ...OPEN_ROWS.filter((row) => row.action === 'manage-read')]],
  ];

  for (const [group, rows] of groups) {
    describe(group, () => {
      if (group === 'mount') {
        // One blob of its own per row, in the source repository only.
        before(async () => {
          for (const row of rows) {
            const w = world(row.server);
            w.mountBlobs.set(mountKey(row), await adminPutBlob(w, REPOSITORY[row.visibility], randomBytes(64)));
          }
        });
      }
      for (const row of rows) test(rowName(row), () => runRow(row));
    });
  }

  // ---- credentials and tokens outside the matrix ----

  describe('credentials', () => {
    test('a robot token works in skopeo (--creds acme+ci:<token>), and only for its own name', async () => {
      const w = world('main');
      const robot = w.creds.robot!;
      const since = Date.now();
      const ok = await skopeo(['inspect', '--tls-verify=false', '--creds', `${robot.username}:${robot.secret}`, ref(w, REPOSITORY.private, BASE_TAG)]);
      assert.equal(ok.code, 0, explain(ok));
      await expectLogged(w, since, { kind: 'robot_token', result: 'success', actor_kind: 'robot', actor_name: 'acme+ci', actor_via: 'robot-token' });
      const wrongName = await skopeo(['inspect', '--tls-verify=false', '--creds', `acme+other:${robot.secret}`, ref(w, REPOSITORY.private, BASE_TAG)]);
      assert.notEqual(wrongName.code, 0);
      assert.match(wrongName.stderr, /incorrect username or password/);
      assert.doesNotMatch(wrongName.stderr, /cst_robot_/, 'the token never appears in an error');
    });

    test('a wrong password fails with a clear message and a failed-login entry, never echoing the password', async () => {
      const w = world('main');
      const since = Date.now();
      const result = await skopeo(['inspect', '--tls-verify=false', '--creds', 'writer:not-the-password', ref(w, REPOSITORY.private, BASE_TAG)]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /unauthorized: incorrect username or password/, explain(result));
      assert.doesNotMatch(result.stderr, /not-the-password/);
      await expectLogged(w, since, { kind: 'login', result: 'failure', actor_name: 'writer' });
    });

    test('garbage, expired, foreign-audience and forged bearer tokens get 401 with an invalid_token challenge', async () => {
      const w = world('main');
      const url = `${w.server.url}/v2/${REPOSITORY.private}/manifests/${BASE_TAG}`;
      const tokens = await TokenService.open(w.fx.identity, { issuer: 'custody', lifetimeSeconds: 300 });
      const access = [{ type: 'repository', name: REPOSITORY.private, actions: ['pull'] }];
      const stamp = (await w.fx.identity.findAccount('admin'))!.securityStamp;
      const actorClaim = { name: 'admin', kind: 'user' as const, via: 'password' as const, stamp };
      const valid = tokens.issue(actorClaim, 'custody', access).token;
      // Signed with the server's key, but made for something else, or before a revocation.
      const otherPurpose = tokens.issue(actorClaim, 'custody', access, Date.now(), 'web-session' as never).token;
      const noPurpose = tokens.issue(actorClaim, 'custody', access, Date.now(), null as never).token;
      const staleStamp = tokens.issue({ ...actorClaim, stamp: `${stamp}-before` }, 'custody', access).token;
      const expired = tokens.issue(actorClaim, 'custody', access, Date.now() - 3_600_000).token;
      const foreign = tokens.issue(actorClaim, 'another-service', access).token;
      const [header, payload] = valid.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { access: unknown[] };
      claims.access = [{ type: 'repository', name: REPOSITORY.private, actions: ['pull', 'push', 'delete', '*'] }];
      const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${valid.split('.')[2]}`;
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;

      const control = await http(url, { headers: { ...bearer(valid), Accept: ACCEPT } });
      assert.equal(control.status, 200, 'a valid token signed with the server key works');
      for (const [what, token] of [
        ['garbage', 'not-a-token'],
        ['expired', expired],
        ['another audience', foreign],
        ['forged claims', forged],
        ['alg none', unsigned],
        ['another purpose', otherPurpose],
        ['no purpose (as issued before purposes)', noPurpose],
        ['an older security stamp (revoked)', staleStamp],
      ] as const) {
        const response = await http(url, { headers: { ...bearer(token), Accept: ACCEPT } });
        assert.equal(response.status, 401, `${what}: ${response.body.toString()}`);
        assert.match(String(response.headers['www-authenticate']), /^Bearer realm=.*error="invalid_token"/, what);
      }
    });

    test('registry bearer tokens are refused by the management API for every principal, whatever their scope (issue 10)', async () => {
      const w = world('main');
      for (const principal of PRINCIPALS) {
        if (principal === 'anonymous') continue;
        const token = await tokenFor(w, principal, `repository:${REPOSITORY.private}:*`, 'registry:catalog:*');
        const read = await http(`${w.server.url}/api/v1/repositories/${REPOSITORY.private}`, { headers: bearer(token) });
        const manage = await http(`${w.server.url}/api/v1/repositories/${REPOSITORY.private}/-/permissions/user/reader`, {
          method: 'PUT',
          headers: { ...bearer(token), 'Content-Type': 'application/json' },
          body: JSON.stringify({ role: 'admin' }),
        });
        for (const [what, response] of [['manage-read', read], ['manage-permission', manage]] as const) {
          assert.equal(response.status, 401, `${principal} ${what} with a registry token: ${response.body.toString()}`);
          assert.equal(response.headers['www-authenticate'], undefined, 'no challenge on /api');
        }
      }
      const permissions = await http(`${w.server.url}/api/v1/repositories/${REPOSITORY.private}/-/permissions`, { headers: { Authorization: basic('admin', ADMIN_PASSWORD) } });
      const reader = permissions.json<{ grantee: { name: string }; role: string }[]>()!.find((p) => p.grantee.name === 'reader');
      assert.equal(reader?.role, 'read', 'the reader is still a reader');
    });

    test('basic auth straight on /v2/: allowed actions succeed, others are 403, a wrong password 401', async () => {
      const w = world('main');
      const url = (repository: string, reference = BASE_TAG): string => `${w.server.url}/v2/${repository}/manifests/${reference}`;
      const as = (principal: Principal): Record<string, string> => ({ Authorization: basic(w.creds[principal]!.username, w.creds[principal]!.secret), Accept: ACCEPT });

      const since = Date.now();
      const pulled = await http(url(REPOSITORY.private), { headers: as('reader') });
      assert.equal(pulled.status, 200);
      assert.equal(sha256(pulled.body), image.digest);
      await expectLogged(w, since, { kind: 'pull', result: 'success', actor_name: 'reader', actor_via: 'password', repository: REPOSITORY.private, tag: BASE_TAG });

      const outsider = await http(url(REPOSITORY.private), { headers: as('outsider') });
      assertHttpOutcome(outsider, 'denied', 'outsider pull with basic auth');

      const readerPush = await http(url(REPOSITORY.private, 'basic-reader'), { method: 'PUT', body: image.content, headers: { ...as('reader'), 'Content-Type': OCI_MANIFEST } });
      assertHttpOutcome(readerPush, 'denied', 'reader push with basic auth');
      await expectLogged(w, since, { kind: 'push', result: 'denied', actor_name: 'reader', repository: REPOSITORY.private });

      const writerPush = await http(url(REPOSITORY.private, 'basic-writer'), { method: 'PUT', body: image.content, headers: { ...as('writer'), 'Content-Type': OCI_MANIFEST } });
      assert.equal(writerPush.status, 201, writerPush.body.toString());
      await expectLogged(w, since, { kind: 'push', result: 'success', actor_name: 'writer', repository: REPOSITORY.private, tag: 'basic-writer' });

      const robotPull = await http(url(REPOSITORY.public), { headers: as('robot') });
      assert.equal(robotPull.status, 200);

      const wrong = await http(url(REPOSITORY.private), { headers: { Authorization: basic('reader', 'wrong-password'), Accept: ACCEPT } });
      assert.equal(wrong.status, 401);
      assert.doesNotMatch(wrong.body.toString(), /wrong-password/);
    });

    test('the action log API answers who pulled an image: repository admins may ask, writers may not', async () => {
      const w = world('main');
      const query = `repository=${encodeURIComponent(REPOSITORY.private)}&kind=pull&result=success&limit=1000`;
      const asAdmin = await http(`${w.server.url}/api/v1/logs?${query}`, { headers: { Authorization: basic('repoadmin', PASSWORD.repoadmin) } });
      assert.equal(asAdmin.status, 200, asAdmin.body.toString());
      const pullers = new Set(asAdmin.json<{ entries: { actor: { name: string | null } }[] }>()!.entries.map((entry) => entry.actor.name));
      for (const name of ['reader', 'writer', 'repoadmin', 'dev1', 'acme+ci', 'admin']) assert.ok(pullers.has(name), `${name} pulled ${REPOSITORY.private}: ${[...pullers].join(', ')}`);
      assert.ok(!pullers.has('outsider'), 'the outsider never pulled the private repository');
      const asWriter = await http(`${w.server.url}/api/v1/logs?${query}`, { headers: { Authorization: basic('writer', PASSWORD.writer) } });
      assert.equal(asWriter.status, 403, asWriter.body.toString());
      const anonymous = await http(`${w.server.url}/api/v1/logs?${query}`);
      assert.equal(anonymous.status, 401);
    });

    test('podman login, then push and pull of a private repository; a wrong password fails login', async () => {
      const w = world('main');
      const authfile = join(work, 'auth-podman-writer.json');
      const reference = `${w.server.host}/${REPOSITORY.private}:podman-roundtrip`;

      const bad = await run(podman.bin, [...podman.globals, 'login', '--authfile', authfile, '--tls-verify=false', '--username', 'writer', '--password-stdin', w.server.host], {
        env: podman.env,
        input: 'not-the-password',
      });
      assert.notEqual(bad.code, 0, 'login with a wrong password fails');
      assert.match(bad.stderr, /invalid username\/password/i, explain(bad));
      assert.doesNotMatch(bad.stderr + bad.stdout, /not-the-password/);

      const login = await run(podman.bin, [...podman.globals, 'login', '--authfile', authfile, '--tls-verify=false', '--username', 'writer', '--password-stdin', w.server.host], {
        env: podman.env,
        input: PASSWORD.writer,
      });
      assert.equal(login.code, 0, explain(login));

      const since = Date.now();
      await podmanOk(['tag', image.manifest.config.digest.slice('sha256:'.length), reference]);
      await podmanOk(['push', '--authfile', authfile, '--tls-verify=false', '--signature-policy', podman.config.policy, reference]);
      await expectLogged(w, since, { kind: 'push', result: 'success', actor_name: 'writer', repository: REPOSITORY.private, tag: 'podman-roundtrip' });
      await podmanOk(['rmi', reference]);
      await podmanOk(['pull', '--authfile', authfile, '--tls-verify=false', '--signature-policy', podman.config.policy, reference]);
      await expectLogged(w, since, { kind: 'pull', result: 'success', actor_name: 'writer', repository: REPOSITORY.private, tag: 'podman-roundtrip' });

      // Without the login, the same pull is refused.
      await writeFile(join(work, 'auth-none.json'), JSON.stringify({ auths: {} }), { mode: 0o600 });
      const anonymous = await podmanRun(['pull', '--authfile', join(work, 'auth-none.json'), '--tls-verify=false', '--signature-policy', podman.config.policy, reference]);
      assert.notEqual(anonymous.code, 0);
      assert.match(anonymous.stderr, /unauthorized|authentication required/i, explain(anonymous));
    });
  });

  // ---- who owns a namespace (rows of their own: access-matrix/namespace-ownership.ts) ----

  namespaceOwnershipRows({
    server: () => world('main').server,
    fixtures: () => world('main').fx,
    admin: adminCreds,
    skopeo,
    podman: () => podman,
    work: () => work,
  });
});
