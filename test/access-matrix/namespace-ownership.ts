// Access matrix rows for namespace ownership (issue 10, item 3): roles follow a
// repository's namespace to the account of that name, so no name may change hands with
// repositories in it. The cases the probe found, through real clients (skopeo, podman,
// curl) against the matrix's `main` server:
//   - library/nginx pushed by the superuser: the push creates organization `library`
//     owned by the superuser; bob can neither take the name nor read, publish or
//     overwrite anything in it;
//   - a deleted user's repositories (erin/private) go with the account: bob may create
//     organization `erin` afterwards and finds nothing of them; gc reclaims their blobs;
//   - a new user with a deleted user's name reads nothing of the old one (podman);
//   - a namespace that still holds repositories without an account cannot be taken.
// Registered by access-matrix.test.ts inside its suite, after the matrix rows.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runCustody } from '../support/custody-server.ts';
import { curl, type CurlResult } from '../support/curl.ts';
import { basic, fetchToken, type AccessFixtures, type LoggedAction } from '../support/access-fixtures.ts';
import { explain, http, run, waitFor, type RunResult } from '../support/tools.ts';
import { debianLayout, layoutImage, OCI_MANIFEST, ociRef, sha256, type LayoutImage } from '../support/images.ts';
import type { IsolatedPodman } from '../support/podman.ts';

interface Credentials {
  readonly username: string;
  readonly secret: string;
}

export interface NamespaceRowsContext {
  readonly server: () => { readonly url: string; readonly host: string; readonly dataDir: string };
  readonly fixtures: () => AccessFixtures;
  readonly admin: Credentials;
  readonly skopeo: (args: readonly string[]) => Promise<RunResult>;
  readonly podman: () => IsolatedPodman;
  readonly work: () => string;
}

const BOB: Credentials = { username: 'bob', secret: 'bob-password-for-namespaces' };
const ACCEPT = `${OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json`;

type ApiError = { errors: { code: string; message: string; detail?: unknown }[] };

export function namespaceOwnershipRows(ctx: NamespaceRowsContext): void {
  describe('namespace ownership', () => {
    let image: LayoutImage;
    const url = (path: string): string => `${ctx.server().url}${path}`;
    const ref = (repository: string, tag: string): string => `docker://${ctx.server().host}/${repository}:${tag}`;
    const api = (method: string, path: string, user: Credentials | null, json?: unknown): Promise<CurlResult> => curl(url(path), { method, user, ...(json === undefined ? {} : { json }) });
    const push = (user: Credentials, repository: string, tag: string, source = 'bookworm-minbase'): Promise<RunResult> =>
      ctx.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `${user.username}:${user.secret}`, ociRef(debianLayout(), source), ref(repository, tag)]);
    const inspect = (user: Credentials, repository: string, tag: string): Promise<RunResult> =>
      ctx.skopeo(['inspect', '--tls-verify=false', '--creds', `${user.username}:${user.secret}`, ref(repository, tag)]);
    const message = (response: CurlResult): string | undefined => response.json<ApiError>()?.errors[0]?.message;

    async function createUser(name: string, password: string): Promise<void> {
      const created = await api('POST', '/api/v1/users', ctx.admin, { name, password });
      assert.equal(created.status, 201, created.text);
    }

    /** The digest the administrator gets for repository:tag (null when there is none). */
    async function servedDigest(repository: string, tag: string): Promise<string | null> {
      const response = await http(url(`/v2/${repository}/manifests/${tag}`), { headers: { Authorization: basic(ctx.admin.username, ctx.admin.secret), Accept: ACCEPT } });
      return response.status === 200 ? sha256(response.body) : null;
    }

    async function waitForAction(since: number, what: string, matches: (entry: LoggedAction, detail: Record<string, unknown>) => boolean): Promise<LoggedAction> {
      return waitFor(
        `action log entry: ${what}`,
        async () => (await ctx.fixtures().actions(since)).find((entry) => matches(entry, entry.detail ? (JSON.parse(entry.detail) as Record<string, unknown>) : {})),
        10_000,
      );
    }

    /** Log entries the API shows `user` for `query`. */
    async function logsFor(user: Credentials, query: string): Promise<{ time: string; kind: string; repository: string | null; actor: { name: string | null } }[]> {
      const response = await api('GET', `/api/v1/logs?${query}&limit=1000`, user);
      assert.equal(response.status, 200, response.text);
      return response.json<{ entries: { time: string; kind: string; repository: string | null; actor: { name: string | null } }[] }>()!.entries;
    }

    function assertNoRead(result: RunResult, what: string): void {
      assert.notEqual(result.code, 0, `${what} must not be readable\n${explain(result)}`);
      assert.doesNotMatch(result.stdout, /"Digest"/, what);
    }

    before(async () => {
      image = await layoutImage(debianLayout(), 'bookworm-minbase');
      await createUser(BOB.username, BOB.secret);
    });

    test('[main] library/nginx pushed by the superuser creates organization library, owned by the superuser; bob cannot take the name, read its log, make it public or overwrite its tag', async () => {
      const since = Date.now();
      const pushed = await push(ctx.admin, 'library/nginx', '1.0');
      assert.equal(pushed.code, 0, explain(pushed));

      // Ownership is explicit: an organization with the superuser in its owners team, and a log entry saying so.
      const org = await api('GET', '/api/v1/organizations/library', ctx.admin);
      assert.equal(org.status, 200, org.text);
      const owners = await api('GET', '/api/v1/organizations/library/teams/owners/members', ctx.admin);
      assert.deepEqual(owners.json<{ name: string }[]>()?.map((member) => member.name), ['admin'], owners.text);
      await waitForAction(since, 'organization library created by the push', (entry, detail) => entry.kind === 'account' && entry.result === 'success' && entry.actor_name === 'admin' && detail.account === 'library' && detail.action === 'create');

      const squat = await api('POST', '/api/v1/organizations', BOB, { name: 'library' });
      assert.equal(squat.status, 409, squat.text);
      assert.equal(message(squat), 'the name "library" is taken');

      for (const query of ['namespace=library', 'repository=library/nginx']) {
        const logs = await api('GET', `/api/v1/logs?${query}`, BOB);
        assert.equal(logs.status, 403, `bob reads the log with ${query}: ${logs.text}`);
      }

      const publish = await api('PATCH', '/api/v1/repositories/library/nginx', BOB, { visibility: 'public' });
      assert.equal(publish.status, 403, publish.text);
      assert.equal((await api('GET', '/api/v1/repositories/library/nginx', ctx.admin)).json<{ visibility: string }>()?.visibility, 'private');

      const overwrite = await push(BOB, 'library/nginx', '1.0', 'bookworm-curl');
      assert.notEqual(overwrite.code, 0, explain(overwrite));
      assert.match(overwrite.stderr, /denied|403 \(Forbidden\)/i, explain(overwrite));
      assert.equal(await servedDigest('library/nginx', '1.0'), image.digest, 'the tag still points at what the superuser pushed');
      assertNoRead(await inspect(BOB, 'library/nginx', '1.0'), 'library/nginx for bob');
    });

    test("[main] a deleted user's repositories go with it: bob's new organization erin holds nothing of erin/private, and gc reclaims its blobs", async () => {
      const erin: Credentials = { username: 'erin', secret: 'erin-password-for-namespaces' };
      await createUser(erin.username, erin.secret);
      const pushed = await push(erin, 'erin/private', '1.0');
      assert.equal(pushed.code, 0, explain(pushed));
      // A blob only erin/private holds, to see the collector reclaim it.
      const own = randomBytes(4096);
      const digest = sha256(own);
      const uploaded = await curl(url(`/v2/erin/private/blobs/uploads/?digest=${digest}`), { method: 'POST', user: erin, bytes: own });
      assert.equal(uploaded.status, 201, uploaded.text);
      assert.equal(await servedDigest('erin/private', '1.0'), image.digest);

      const since = Date.now();
      const deleted = await api('DELETE', '/api/v1/users/erin', ctx.admin);
      assert.equal(deleted.status, 204, deleted.text);
      await waitForAction(since, 'erin deleted with her repository', (entry, detail) => entry.kind === 'account' && detail.action === 'delete' && detail.account === 'erin' && detail.repositoriesDeleted === 1);
      assert.equal(await servedDigest('erin/private', '1.0'), null, 'the repository went with the account');

      // The name is free again, and holds nothing of erin.
      const created = await api('POST', '/api/v1/organizations', BOB, { name: 'erin' });
      assert.equal(created.status, 201, created.text);
      assertNoRead(await inspect(BOB, 'erin/private', '1.0'), "erin's private image for bob");
      assert.equal((await api('GET', '/api/v1/repositories/erin/private', BOB)).status, 404);
      const catalog = await http(url('/v2/_catalog'), { headers: { Authorization: `Bearer ${await fetchToken(ctx.server().url, ['registry:catalog:*'], BOB)}` } });
      assert.doesNotMatch(catalog.body.toString(), /erin\//, 'the catalog lists nothing of erin');
      for (const query of ['namespace=erin', 'repository=erin/private']) {
        const entries = await logsFor(BOB, query);
        assert.deepEqual(entries.filter((entry) => entry.actor.name === 'erin' || entry.repository === 'erin/private'), [], `bob sees none of erin's history with ${query}`);
      }

      // Nothing holds the blob any more: the collector reclaims it, and the store stays consistent.
      const gc = await runCustody(['gc', '--data-dir', ctx.server().dataDir, '--grace-period', '0s', '--json']);
      assert.equal(gc.code, 0, gc.stderr);
      assert.ok((JSON.parse(gc.stdout) as { blobsDeleted: number }).blobsDeleted >= 1, gc.stdout);
      assert.deepEqual(await ctx.fixtures().sql.query('SELECT digest FROM blobs WHERE digest = ?', [digest]), [], "erin's own blob is gone");
      const fsck = await runCustody(['fsck', '--quick', '--data-dir', ctx.server().dataDir]);
      assert.equal(fsck.code, 0, `${fsck.stdout}\n${fsck.stderr}`);
    });

    test("[main] a new user with a deleted user's name reads nothing of the old one (podman)", async () => {
      const podman = ctx.podman();
      const old: Credentials = { username: 'frank', secret: 'old-frank-password-1' };
      const fresh: Credentials = { username: 'frank', secret: 'new-frank-password-2' };
      const authfile = join(ctx.work(), 'auth-namespaces-frank.json');
      const reference = `${ctx.server().host}/frank/secret:1.0`;
      const podmanAs = async (user: Credentials, args: readonly string[]): Promise<RunResult> => {
        const login = await run(podman.bin, [...podman.globals, 'login', '--authfile', authfile, '--tls-verify=false', '--username', user.username, '--password-stdin', ctx.server().host], { env: podman.env, input: user.secret });
        assert.equal(login.code, 0, explain(login));
        return run(podman.bin, [...podman.globals, ...args, '--authfile', authfile, '--tls-verify=false', '--signature-policy', podman.config.policy, reference], { env: podman.env, timeoutMs: 180_000 });
      };

      await createUser(old.username, old.secret);
      const tagged = await run(podman.bin, [...podman.globals, 'tag', image.manifest.config.digest.slice('sha256:'.length), reference], { env: podman.env });
      assert.equal(tagged.code, 0, explain(tagged));
      const pushed = await podmanAs(old, ['push']);
      assert.equal(pushed.code, 0, explain(pushed));
      assert.equal((await inspect(old, 'frank/secret', '1.0')).code, 0);

      assert.equal((await api('DELETE', '/api/v1/users/frank', ctx.admin)).status, 204);
      const recreatedAt = Date.now();
      await createUser(fresh.username, fresh.secret);

      const pulled = await podmanAs(fresh, ['pull']);
      assert.notEqual(pulled.code, 0, `the new frank pulls the old frank's image\n${explain(pulled)}`);
      assertNoRead(await inspect(fresh, 'frank/secret', '1.0'), "the old frank's image for the new frank");
      const oldLogin = await inspect(old, 'frank/secret', '1.0');
      assert.match(oldLogin.stderr, /unauthorized|incorrect username or password/i, `the old password is gone\n${explain(oldLogin)}`);
      const listed = await api('GET', '/api/v1/repositories', fresh);
      assert.deepEqual(listed.json<{ repositories: { name: string }[] }>()?.repositories.filter((repository) => repository.name.startsWith('frank/')), [], listed.text);
      for (const query of ['actor=frank', 'namespace=frank']) {
        const older = (await logsFor(fresh, query)).filter((entry) => Date.parse(entry.time) < recreatedAt || entry.repository === 'frank/secret');
        assert.deepEqual(older, [], `the new frank sees nothing of the old one's history with ${query}`);
      }
    });

    test('[main] a namespace holding repositories without an account cannot be taken; a superuser may adopt it', async () => {
      // Such namespaces remain from pushes made with authentication off.
      await ctx.fixtures().identity.ensureRepository('ghost/app');
      const squat = await api('POST', '/api/v1/organizations', BOB, { name: 'ghost' });
      assert.equal(squat.status, 409, squat.text);
      assert.equal(message(squat), 'the name "ghost" is taken', 'anyone else learns only that the name is taken');
      const user = await api('POST', '/api/v1/users', ctx.admin, { name: 'ghost', password: 'ghost-password-123' });
      assert.equal(user.status, 409, user.text);
      assert.match(message(user) ?? '', /namespace "ghost" holds repositories that belong to no account/);
      const adopted = await api('POST', '/api/v1/organizations', ctx.admin, { name: 'ghost' });
      assert.equal(adopted.status, 201, adopted.text);
      assert.equal((await api('GET', '/api/v1/repositories/ghost/app', ctx.admin)).status, 200);
      assert.equal((await api('GET', '/api/v1/repositories/ghost/app', BOB)).status, 403);
    });
  });
}
