// Lifecycle against a real `custody serve`, on SQLite and on PostgreSQL: immutability
// (skopeo, podman and the API are refused with the rule named; a digest push passes), the
// time machine (push v1 twice, delete, restore with `custody tag restore`, skopeo pulls A
// byte for byte; after a short window the online collector reclaims A and reports bytes),
// expiry (the `quay.expires-after` label removes the tag within the job's interval, history
// says `expire`, the action log `tag-expired`), and quotas (a 50 MiB layer shared by two
// repositories counts once; a push past the rejection threshold fails in skopeo with the
// figures, fsck stays clean; 16 concurrent pushes end with usage equal to the blobs pushed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { createTestDatabase, type TestDatabase } from './support/postgres.ts';
import { buildFilesImageLayout, buildLargeImageLayout, buildSmallImageLayout, blobPath, OCI_MANIFEST, sha256, type SmallImageLayout } from './support/images.ts';
import { containersConfig, http, requireTool, run, runOk, waitFor, type ContainersConfig } from './support/tools.ts';
import { isolatedPodman } from './support/podman.ts';
import { custodyBin } from './support/paths.ts';

const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

function engineSuite(engine: 'sqlite' | 'postgres'): void {
  describe(`lifecycle on custody serve: ${engine}`, () => {
    let database: TestDatabase | undefined;
    let server: CustodyServer;
    let work: string;
    let config: ContainersConfig;
    let skopeoBin: string;

    before(async () => {
      skopeoBin = requireTool('skopeo');
      work = await mkdtemp(join(tmpdir(), 'custody-lifecycle-'));
      config = await containersConfig(join(work, 'containers'));
      if (engine === 'postgres') database = await createTestDatabase();
      server = await startCustody({
        auth: true,
        env: {
          ...(database ? { CUSTODY_DATABASE_URL: database.url } : {}),
          CUSTODY_LIFECYCLE_EXPIRY_INTERVAL: '500ms',
          CUSTODY_GC_ONLINE: 'true',
          CUSTODY_GC_INTERVAL: '1s',
          CUSTODY_GC_GRACE_PERIOD: '3s',
          CUSTODY_GC_DELETE_UNTAGGED: 'true',
          CUSTODY_LOG_LEVEL: 'info',
        },
      });
    });
    after(async () => {
      await server?.dispose();
      await database?.drop();
      await rm(work, { recursive: true, force: true });
    });

    const reg = (ref: string): string => `docker://${server.host}/${ref}`;
    const skopeo = (args: readonly string[]) => run(skopeoBin, args, { env: config.env });
    const push = async (image: SmallImageLayout | { ref: string }, ref: string) => {
      const result = await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, image.ref, reg(ref)]);
      return result;
    };
    const pushOk = async (image: SmallImageLayout | { ref: string }, ref: string): Promise<void> => {
      const result = await push(image, ref);
      assert.equal(result.code, 0, `skopeo copy to ${ref}: ${result.stderr}`);
    };
    const custody = (args: readonly string[]) => run(process.execPath, [custodyBin, ...args], { env: { ...process.env, CUSTODY_PASSWORD: ADMIN_PASSWORD } });
    const admin = (args: readonly string[]) => custody(['admin', ...args, '--registry', server.url, '--username', 'admin']);
    const api = async (method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = { authorization: AUTH, 'x-custody-request': '1' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as any) };
    };
    const image = (name: string, options: Parameters<typeof buildSmallImageLayout>[1] = {}) => buildSmallImageLayout(join(work, name), options);

    it('immutability: a matching tag is created once, then skopeo, podman and the API are refused with the rule; a digest push passes', async () => {
      const added = await admin(['immutability', 'add', 'im', 'v*', '--repository', 'im/**']);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stderr, /rule \d+: tags v\* of im\/\*\* are immutable/);
      const listed = await admin(['immutability', 'list', 'im']);
      assert.match(listed.stdout, /im\/\*\*\s+v\*/);

      const a = await image('im-a');
      const b = await image('im-b');
      await pushOk(a, 'im/app:v1');
      await pushOk(a, 'im/app:v1'); // the same digest again: not a move
      await pushOk(b, 'im/app:latest'); // not matched by the rule
      const moved = await push(b, 'im/app:v1');
      assert.notEqual(moved.code, 0);
      assert.match(moved.stderr, /tag v1 is immutable \(rule \d+: im\/\*\*:v\*\)/);

      // podman unpacks what it pulls: an image with a real tar layer.
      await pushOk({ ref: await buildFilesImageLayout(join(work, 'im-real'), [{ name: 'hello.txt', content: Buffer.from('hello') }]) }, 'im/app:real');
      const podman = await isolatedPodman(join(work, 'podman'));
      const p = (args: readonly string[]) => run(podman.bin, [...podman.globals, ...args], { env: podman.env });
      const pulled = await p(['pull', '--tls-verify=false', '--creds', `admin:${ADMIN_PASSWORD}`, `${server.host}/im/app:real`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const podmanPush = await p(['push', '--tls-verify=false', '--creds', `admin:${ADMIN_PASSWORD}`, `${server.host}/im/app:real`, `${server.host}/im/app:v1`]);
      assert.notEqual(podmanPush.code, 0);
      assert.match(podmanPush.stderr, /tag v1 is immutable \(rule \d+/);

      const deleted = await api('DELETE', '/v2/im/app/manifests/v1');
      assert.equal(deleted.status, 403);
      assert.equal(deleted.json.errors[0].code, 'DENIED');
      assert.match(deleted.json.errors[0].message, /tag v1 is immutable \(rule \d+: im\/\*\*:v\*\)/);
      const byDigest = await api('DELETE', `/v2/im/app/manifests/${a.manifestDigest}`);
      assert.equal(byDigest.status, 403, 'deleting the manifest would delete the immutable tag');

      // A push by digest moves no tag: allowed.
      const put = await fetch(`${server.url}/v2/im/app/manifests/${b.manifestDigest}`, { method: 'PUT', headers: { authorization: AUTH, 'content-type': OCI_MANIFEST }, body: b.manifest });
      assert.equal(put.status, 201);
      const head = await fetch(`${server.url}/v2/im/app/manifests/v1`, { method: 'HEAD', headers: { authorization: AUTH, accept: OCI_MANIFEST } });
      assert.equal(head.headers.get('docker-content-digest'), a.manifestDigest, 'v1 never moved');
    });

    it('time machine: v1 pushed twice and deleted is restored to A by the CLI, skopeo pulls A byte for byte; after the window the collector reclaims A', async () => {
      const a = await image('tm-a', { layerBytes: 100_000 });
      const b = await image('tm-b');
      await pushOk(a, 'tm/app:v1');
      await pushOk(b, 'tm/app:v1');
      const deleted = await skopeo(['delete', '--tls-verify=false', '--creds', `admin:${ADMIN_PASSWORD}`, reg('tm/app:v1')]);
      assert.equal(deleted.code, 0, deleted.stderr);

      const history = await custody(['tag', 'history', `docker://${server.host}/tm/app:v1`, '--json', '--registry', server.url, '--username', 'admin']);
      assert.equal(history.code, 0, history.stderr);
      const entries = JSON.parse(history.stdout) as Array<{ how: string; digest: string | null; previousDigest: string | null; who: string | null; restorable: boolean }>;
      assert.deepEqual(entries.map((entry) => [entry.how, entry.digest, entry.previousDigest]), [
        ['delete', null, b.manifestDigest],
        ['push', b.manifestDigest, a.manifestDigest],
        ['push', a.manifestDigest, null],
      ]);
      assert.ok(entries.every((entry) => entry.who === 'admin'));

      // Past the collector's grace period: the collector runs every second meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 4500));
      const restored = await custody(['tag', 'restore', `docker://${server.host}/tm/app:v1`, '--digest', a.manifestDigest, '--registry', server.url, '--username', 'admin']);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stderr, /restored to sha256:/);
      const out = join(work, 'tm-out');
      const pulled = await skopeo(['copy', '--src-tls-verify=false', '--src-creds', `admin:${ADMIN_PASSWORD}`, '--preserve-digests', reg('tm/app:v1'), `oci:${out}:v1`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      assert.equal(index.manifests[0]!.digest, a.manifestDigest);
      assert.deepEqual(await readFile(blobPath(out, sha256(a.layer))), a.layer);
      assert.deepEqual(await readFile(blobPath(out, sha256(a.config))), a.config);
      const after = JSON.parse((await custody(['tag', 'history', `docker://${server.host}/tm/app:v1`, '--json', '--registry', server.url, '--username', 'admin'])).stdout) as Array<{ how: string }>;
      assert.equal(after[0]!.how, 'restore');

      // A short window: once it has passed, A is collected and the collector reports its bytes.
      const set = await admin(['time-machine', 'set', 'tm', '2s']);
      assert.equal(set.code, 0, set.stderr);
      assert.equal((await api('DELETE', '/v2/tm/app/manifests/v1')).status, 202);
      const layerUrl = `/v2/tm/app/blobs/${sha256(a.layer)}`;
      await waitFor('A collected', async () => (await fetch(`${server.url}${layerUrl}`, { method: 'HEAD', headers: { authorization: AUTH } })).status === 404, 30_000, 250);
      // The report is logged when the collection ends, a little after the blob went.
      const reported = () => server.logs.filter((line) => line.includes('"garbage collection"')).map((line) => JSON.parse(line) as { blobsDeleted: number; bytesReclaimed: number });
      await waitFor('the collector reports the bytes it freed', () => reported().some((report) => report.blobsDeleted > 0 && report.bytesReclaimed >= a.layer.length), 15_000, 100);
      const late = await api('POST', '/api/v1/repositories/tm/app/-/tags/v1/restore', { digest: a.manifestDigest });
      assert.equal(late.status, 404, 'outside the window nothing is restorable');
    });

    it('expiry: the quay.expires-after label removes the tag within the interval; history says expire; the action log has tag-expired; expiry is shown', async () => {
      const short = await image('ex-short', { labels: { 'quay.expires-after': '2s' } });
      const plain = await image('ex-plain');
      await pushOk(short, 'ex/app:short');
      await pushOk(plain, 'ex/app:keep');
      const listed = await api('GET', '/api/v1/repositories/ex/app/-/tag-expiries');
      assert.deepEqual(listed.json.map((entry: { tag: string }) => entry.tag), ['short']);
      await waitFor('tag expired', async () => !(await api('GET', '/v2/ex/app/tags/list')).json.tags.includes('short'), 15_000, 200);
      const history = await api('GET', '/api/v1/repositories/ex/app/-/tag-history?tag=short');
      assert.equal(history.json[0].how, 'expire');
      assert.equal(history.json[0].restorable, true);
      await waitFor('action log entry', async () => ((await api('GET', '/api/v1/logs?kind=tag-expired&repository=ex/app')).json?.entries ?? []).length > 0, 10_000, 250);

      const expire = await custody(['tag', 'expire', `docker://${server.host}/ex/app:keep`, '--in', '3d', '--registry', server.url, '--username', 'admin']);
      assert.equal(expire.code, 0, expire.stderr);
      assert.match(expire.stderr, /expires in 3 days/);
      const shown = await api('GET', '/api/v1/repositories/ex/app/-/tag-expiries');
      assert.deepEqual(shown.json.map((entry: { tag: string; expiresIn: string }) => [entry.tag, entry.expiresIn]), [['keep', 'in 3 days']]);
      const never = await custody(['tag', 'expire', `docker://${server.host}/ex/app:keep`, '--never', '--registry', server.url, '--username', 'admin']);
      assert.equal(never.code, 0, never.stderr);
      assert.deepEqual((await api('GET', '/api/v1/repositories/ex/app/-/tag-expiries')).json, []);
    });

    it('quotas: a shared 50 MiB layer counts once; a push past the rejection threshold fails in skopeo with the figures; 16 concurrent pushes are counted exactly', async () => {
      const large = await buildLargeImageLayout(join(work, 'large'), 50);
      await pushOk(large, 'q/one:v1');
      await pushOk(large, 'q/two:v1');
      const layerSize = (await readFile(blobPath(large.layout, large.layerDigest))).length;
      const configSize = (await readFile(blobPath(large.layout, large.configDigest))).length;
      let quota = await api('GET', '/api/v1/namespaces/q/quota');
      assert.equal(quota.json.usedBytes, layerSize + configSize, 'the shared layer counts once');

      const set = await admin(['quota', 'set', 'q', '--warn', '50MiB', '--reject', `${layerSize + configSize + 1024 * 1024}`]);
      assert.equal(set.code, 0, set.stderr);
      const big = await image('q-big', { layerBytes: 2 * 1024 * 1024 });
      const refused = await push(big, 'q/three:v1');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /quota exceeded for namespace q: 50\.\d MiB used \+ 2\.0 MiB would pass the/);
      quota = await api('GET', '/api/v1/namespaces/q/quota');
      assert.equal(quota.json.usedBytes, layerSize + configSize, 'nothing of the refused push is counted');
      const got = await admin(['quota', 'get', 'q']);
      assert.match(got.stdout, /q\s+50\.\d MiB\s+50 MiB/);

      // 16 concurrent pushes into another namespace.
      const images = await Promise.all(Array.from({ length: 16 }, (_, i) => image(`c-${i}`, { layerBytes: 10_000 + i })));
      const results = await Promise.all(images.map((entry, i) => push(entry, `c/app${i % 4}:t${i}`)));
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const used = (await api('GET', '/api/v1/namespaces/c/quota')).json.usedBytes;
      assert.equal(used, images.reduce((sum, entry) => sum + entry.blobBytes, 0));
    });

    it('retention: a dry run lists exactly what a run then removes; signed and excluded tags stay; history says retention; the action log has the report', async () => {
      const images = await Promise.all(['t1', 't2', 't3', 't4', 'keep-me'].map((name) => image(`rt-${name}`)));
      for (const [index, name] of ['t1', 't2', 't3', 't4', 'keep-me'].entries()) await pushOk(images[index]!, `rt/app:${name}`);
      const signature = await image('rt-sig');
      await pushOk(signature, `rt/app:${images[0]!.manifestDigest.replace(':', '-')}.sig`);
      const set = await admin(['retention', 'set', 'rt', '--keep-last', '1', '--exclude', 'keep-*']);
      assert.equal(set.code, 0, set.stderr);
      assert.equal(JSON.parse(set.stdout).policy.keepLast, 1);

      const dry = await admin(['retention', 'run', 'rt/app', '--dry-run', '--json']);
      assert.equal(dry.code, 0, dry.stderr);
      const planned = JSON.parse(dry.stdout) as { removed: Array<{ tag: string }>; dryRun: boolean };
      assert.equal(planned.dryRun, true);
      assert.deepEqual(planned.removed.map((entry) => entry.tag).sort(), ['t2', 't3']);
      assert.equal((await api('GET', '/v2/rt/app/tags/list')).json.tags.length, 6, 'a dry run changes nothing');

      const real = await admin(['retention', 'run', 'rt']);
      assert.equal(real.code, 0, real.stderr);
      assert.match(real.stderr, /2 of 6 tags in 1 repositories removed/);
      const left = (await api('GET', '/v2/rt/app/tags/list')).json.tags as string[];
      assert.deepEqual(left.filter((name) => !name.endsWith('.sig')).sort(), ['keep-me', 't1', 't4']);
      assert.equal((await api('GET', '/api/v1/repositories/rt/app/-/tag-history?tag=t2')).json[0].how, 'retention');
      await waitFor('retention in the action log', async () => ((await api('GET', '/api/v1/logs?kind=retention')).json?.entries ?? []).length > 0, 10_000, 250);
    });

    it('fsck is clean after all of it', async () => {
      await server.stop();
      const fsck = await run(process.execPath, [custodyBin, 'fsck', '--data-dir', server.dataDir], { env: { ...process.env, ...(database ? { CUSTODY_DATABASE_URL: database.url } : {}) } });
      assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    });
  });
}

engineSuite('sqlite');
engineSuite('postgres');
