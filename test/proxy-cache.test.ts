// The pull-through cache (issue 15) against real upstreams: Debian's docker-registry (CNCF
// Distribution) with htpasswd over TLS from a test CA, behind a small fault proxy that
// counts requests and stalls, answers 429 or dies mid-blob; and a second Custody. podman
// and skopeo pull through the cache as a registries.conf mirror; the upstream stopped,
// cached tags still pull and fsck is clean.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { RegistryClient } from '../src/client/registry-client/index.ts';
import { digestOf } from '../src/core/digest.ts';
import { EMPTY_JSON_CONTENT, MediaType } from '../src/core/media-types.ts';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { fetchToken } from './support/access-fixtures.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';
import { fetchBlob, startFaultProxy, type FaultProxy } from './support/fault-proxy.ts';
import { buildLargeImageLayout, debianLayout, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, ociRef, type LargeImageLayout } from './support/images.ts';
import { isolatedPodman } from './support/podman.ts';
import { createTestCa, httpsStatus, type TestCa } from './support/tls-ca.ts';
import { containersConfig, http, requireTool, run, runOk, waitFor, type ContainersConfig } from './support/tools.ts';

const ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
const NAMESPACE = 'cache/upstream';

describe('pull-through cache', () => {
  let ca: TestCa;
  let work: string;
  let distribution: DistributionRegistry;
  let faults: FaultProxy;
  let second: CustodyServer;
  let cache: CustodyServer;
  let tools: ContainersConfig;
  let certDir: string;
  let skopeoBin: string;
  const pushed: Record<string, string> = {};
  let big: LargeImageLayout;
  let faulty: LargeImageLayout;

  const skopeo = (args: readonly string[], env: Readonly<Record<string, string>> = tools.env) => runOk(skopeoBin, [...(args[0] === '--registries-conf' ? args.slice(0, 2) : []), '--policy', tools.policy, ...(args[0] === '--registries-conf' ? args.slice(2) : args)], { env, timeoutMs: 180_000 });
  /** Pushes an OCI layout image to Distribution (htpasswd, TLS) and records its digest. */
  const pushUpstream = async (ref: string, repository: string): Promise<void> => {
    const digestFile = join(work, `${repository.replace(/\//g, '_')}.digest`);
    await skopeo(['copy', '--dest-creds', 'alice:s3cret', '--dest-cert-dir', certDir, '--digestfile', digestFile, ref, `docker://${distribution.host}/${repository}`]);
    pushed[repository] = (await readFile(digestFile, 'utf8')).trim();
  };
  const cached = (path: string): string => `${cache.url}/v2/${NAMESPACE}/${path}`;
  const stored = (digest: string): Promise<unknown> => waitFor(`the cache to store ${digest}`, () => cache.logs.some((line) => line.includes('pull-through cache stored an image') && line.includes(digest)), 60_000, 50);

  before(async () => {
    skopeoBin = requireTool('skopeo');
    const htpasswd = requireTool('htpasswd');
    ca = await createTestCa();
    work = await mkdtemp(join(tmpdir(), 'custody-proxy-'));
    tools = await containersConfig(join(work, 'tools'));
    certDir = join(work, 'certs');
    await mkdir(certDir);
    await writeFile(join(certDir, 'ca.crt'), ca.cert);
    const serverCert = await ca.issue('registry', { server: true });
    distribution = await startDistribution({
      extraConfig: async (host, dir) => {
        const file = join(dir, 'htpasswd');
        await writeFile(file, (await runOk(htpasswd, ['-Bbn', 'alice', 's3cret'])).stdout);
        return ['http:', `  addr: ${host}`, '  tls:', `    certificate: ${serverCert.certPath}`, `    key: ${serverCert.keyPath}`, 'auth:', '  htpasswd:', '    realm: custody-test', `    path: ${file}`];
      },
      ready: async (host) => (await httpsStatus(`https://${host}/v2/`, ca.cert)) === 401,
    });
    faults = await startFaultProxy(distribution.host, { cert: serverCert.cert, key: serverCert.key, ca: ca.cert });

    await pushUpstream(ociRef(debianLayout(), 'bookworm-curl'), 'library/app:v1');
    big = await buildLargeImageLayout(join(work, 'big'), 64, 'v1');
    await pushUpstream(big.ref, 'library/big:v1');
    faulty = await buildLargeImageLayout(join(work, 'faulty'), 4, 'v1');
    await pushUpstream(faulty.ref, 'library/faulty:v1');

    second = await startCustody();
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), `docker://${second.host}/team/tool:v1`]);

    const passwordFile = join(work, 'upstream-password');
    await writeFile(passwordFile, 's3cret\n', { mode: 0o600 });
    const configFile = join(work, 'custody.yaml');
    await writeFile(
      configFile,
      [
        'proxy:',
        '  timeout: 2s',
        '  notFoundTtl: 10s',
        '  default: cache/custody',
        '  upstreams:',
        `    - namespace: ${NAMESPACE}`,
        `      url: https://${faults.host}`,
        '      username: alice',
        `      passwordFile: ${passwordFile}`,
        `      caFile: ${ca.certPath}`,
        '      ttl: 2s',
        '    - namespace: cache/custody',
        `      url: http://${second.host}`,
        '',
      ].join('\n'),
    );
    cache = await startCustody({ args: ['--config', configFile] });
  });

  after(async () => {
    if (process.env.PROXY_TEST_LOGS) process.stderr.write(`${cache?.logs.join('\n')}\n`);
    await cache?.dispose();
    await second?.dispose();
    await faults?.close().catch(() => {});
    await distribution?.dispose();
    await ca?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('skopeo through a registries.conf mirror: the upstream\'s digests, stored in the cache', async () => {
    const conf = join(work, 'mirror.conf');
    await writeFile(
      conf,
      ['unqualified-search-registries = []', '[[registry]]', `location = "${distribution.host}"`, '[[registry.mirror]]', `location = "${cache.host}/${NAMESPACE}"`, 'insecure = true', ''].join('\n'),
    );
    // skopeo 1.9 reads only --registries-conf (podman the environment variable).
    const env = { ...tools.env, CONTAINERS_REGISTRIES_CONF: conf };
    // skopeo has neither the upstream's CA nor its password: only the mirror can answer.
    const inspected = JSON.parse((await skopeo(['--registries-conf', conf, 'inspect', '--no-tags', `docker://${distribution.host}/library/app:v1`], env)).stdout) as { Digest: string };
    assert.equal(inspected.Digest, pushed['library/app:v1']);
    const digestFile = join(work, 'skopeo-pull.digest');
    await skopeo(['--registries-conf', conf, 'copy', '--digestfile', digestFile, `docker://${distribution.host}/library/app:v1`, `oci:${join(work, 'pulled')}:v1`], env);
    assert.equal((await readFile(digestFile, 'utf8')).trim(), pushed['library/app:v1']);
    await stored(pushed['library/app:v1']!);
    // Stored through the core, the image is indexed like a pushed one (manifest.pushed).
    await waitFor(
      'the cached image indexed',
      async () => {
        const status = (await http(`${cache.url}/api/v1/repositories/${NAMESPACE}/library/app/-/manifests/${pushed['library/app:v1']}/status`)).json<{ status: string; error: string | null }>();
        assert.notEqual(status?.status, 'failed', status?.error ?? '');
        return status?.status === 'indexed';
      },
      60_000,
      200,
    );
    const manifest = await http(cached('library/app/manifests/v1'), { headers: { Accept: ACCEPT } });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers['docker-content-digest'], pushed['library/app:v1']);
    // The cache's namespace is read-only to clients.
    const push = await http(cached('library/app/blobs/uploads/'), { method: 'POST' });
    assert.equal(push.status, 403);
  });

  test('podman pulls through the mirror with the upstream\'s digest', async () => {
    const podman = await isolatedPodman(join(work, 'podman'));
    const conf = podman.env.CONTAINERS_REGISTRIES_CONF!;
    await writeFile(conf, ['unqualified-search-registries = []', '[[registry]]', `location = "${distribution.host}"`, '[[registry.mirror]]', `location = "${cache.host}/${NAMESPACE}"`, 'insecure = true', ''].join('\n'));
    const reference = `${distribution.host}/library/faulty:v1`;
    await runOk(podman.bin, [...podman.globals, 'pull', '--signature-policy', podman.config.policy, reference], { env: podman.env, timeoutMs: 180_000 });
    const inspected = JSON.parse((await runOk(podman.bin, [...podman.globals, 'image', 'inspect', reference], { env: podman.env })).stdout) as Array<{ Digest: string }>;
    assert.equal(inspected[0]!.Digest, pushed['library/faulty:v1']);
    await stored(pushed['library/faulty:v1']!);
  });

  test('32 concurrent pulls of one uncached 64 MiB blob: one upstream fetch, streamed before it ends', async () => {
    const path = `/v2/library/big/blobs/${big.layerDigest}`;
    const results = await Promise.all(Array.from({ length: 32 }, () => fetchBlob(cached(`library/big/blobs/${big.layerDigest}`))));
    for (const result of results) {
      assert.equal(result.error, undefined);
      assert.equal(result.status, 200);
      assert.equal(result.bytes, big.layerSize);
      assert.equal(result.digest, big.layerDigest);
    }
    const fetches = faults.requests.filter((request) => request.method === 'GET' && request.path === path);
    assert.equal(fetches.length, 1, 'exactly one upstream fetch');
    const firstByte = Math.min(...results.map((result) => result.firstByteAt));
    assert.ok(firstByte < fetches[0]!.endedAt!, 'the first byte reached a client before the upstream download ended');
    // Stored: served again without asking the upstream.
    const again = await fetchBlob(cached(`library/big/blobs/${big.layerDigest}`));
    assert.equal(again.digest, big.layerDigest);
    assert.equal(faults.requests.filter((request) => request.method === 'GET' && request.path === path).length, 1);
  });

  test('an upstream answering 429 or dying mid-blob: an error or a retry, never a corrupt blob; the next pull succeeds', async () => {
    const blobPath = (digest: string) => `/v2/library/big/blobs/${digest}`;
    const config = big.configDigest;
    faults.fault({ mode: 'too-many', match: (method, path) => method === 'GET' && path === blobPath(config) });
    const refused = await fetchBlob(cached(`library/big/blobs/${config}`));
    assert.equal(refused.status, 503);
    faults.fault(null);
    const served = await fetchBlob(cached(`library/big/blobs/${config}`));
    assert.equal(served.status, 200);
    assert.equal(served.digest, config);

    // Dying once: the cache resumes with Range and the client gets the whole blob.
    const fresh = await buildLargeImageLayout(join(work, 'dying'), 4, 'v1');
    await pushUpstream(fresh.ref, 'library/dying:v1');
    faults.fault({ mode: 'die-mid-blob', match: (method, path) => method === 'GET' && path === `/v2/library/dying/blobs/${fresh.layerDigest}`, times: 1 });
    const resumed = await fetchBlob(cached(`library/dying/blobs/${fresh.layerDigest}`));
    assert.equal(resumed.status, 200);
    assert.equal(resumed.digest, fresh.layerDigest);
    assert.ok(faults.requests.some((request) => request.path.endsWith(fresh.layerDigest) && request.range === `bytes=${Math.floor(fresh.layerSize / 2)}-`) || faults.requests.some((request) => request.path.endsWith(fresh.layerDigest) && request.range !== undefined));

    // Dying every time: the client's connection is cut short, the blob is not stored.
    const doomed = await buildLargeImageLayout(join(work, 'doomed'), 4, 'v1');
    await pushUpstream(doomed.ref, 'library/doomed:v1');
    faults.fault({ mode: 'die-mid-blob', match: (method, path) => method === 'GET' && path.startsWith('/v2/library/doomed/blobs/') });
    const cut = await fetchBlob(cached(`library/doomed/blobs/${doomed.layerDigest}`));
    assert.ok(cut.error !== undefined || cut.status !== 200, 'the client sees the failure');
    assert.ok(cut.bytes < doomed.layerSize, 'never the whole body');
    faults.fault(null);
    const head = await http(`${cache.url}/v2/${NAMESPACE}/library/doomed/blobs/${doomed.layerDigest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const next = await fetchBlob(cached(`library/doomed/blobs/${doomed.layerDigest}`));
    assert.equal(next.status, 200);
    assert.equal(next.digest, doomed.layerDigest);
  });

  test('a tag that moves upstream is served from the cache until its TTL passes, then follows', async () => {
    await pushUpstream(faulty.ref, 'library/moving:v1');
    await pushUpstream(big.ref, 'library/moving:next');
    const before = pushed['library/moving:v1'];
    const first = await http(cached('library/moving/manifests/v1'), { headers: { Accept: ACCEPT } });
    const fetchedAt = Date.now();
    assert.equal(first.headers['docker-content-digest'], before);
    // Move the tag upstream (the blobs are there: only the manifest is written).
    const creds = ['--src-creds', 'alice:s3cret', '--src-cert-dir', certDir, '--dest-creds', 'alice:s3cret', '--dest-cert-dir', certDir];
    await skopeo(['copy', ...creds, `docker://${distribution.host}/library/moving:next`, `docker://${distribution.host}/library/moving:v1`]);
    const within = await http(cached('library/moving/manifests/v1'), { headers: { Accept: ACCEPT } });
    assert.ok(Date.now() - fetchedAt < 2_000, 'the check ran within the TTL');
    assert.equal(within.headers['docker-content-digest'], before, 'within the TTL the cached tag is served');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const after = await http(cached('library/moving/manifests/v1'), { headers: { Accept: ACCEPT } });
    assert.equal(after.headers['docker-content-digest'], pushed['library/moving:next'], 'after the TTL the HEAD finds the new digest');
    await stored(pushed['library/moving:next']!);
    // Its layer was cached already (library/big): linked, not downloaded again.
    assert.ok(!faults.requests.some((request) => request.path === `/v2/library/moving/blobs/${big.layerDigest}`), 'a blob the cache holds is not fetched again');
  });

  test('a stalled upstream costs one timeout: the cached tag is served; not found is remembered', async () => {
    // Cached and past its 2 s TTL.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    faults.fault({ mode: 'stall' });
    const started = Date.now();
    const stale = await http(cached('library/app/manifests/v1'), { headers: { Accept: ACCEPT } });
    assert.equal(stale.status, 200);
    assert.equal(stale.headers['docker-content-digest'], pushed['library/app:v1']);
    assert.ok(Date.now() - started < 4_000, `served stale after ${Date.now() - started} ms`);
    // The upstream is known down for a while: the next clients do not wait at all.
    const quick = Date.now();
    assert.equal((await http(cached('library/faulty/manifests/v1'), { method: 'HEAD', headers: { Accept: ACCEPT } })).status, 200);
    assert.ok(Date.now() - quick < 1_000);
    // Nothing cached and the upstream down: unavailable, not "unknown".
    assert.equal((await http(cached('library/never/manifests/v1'), { headers: { Accept: ACCEPT } })).status, 503);
    assert.ok(cache.logs.some((line) => line.includes('serving the cached tag')), 'the stale answer is logged');
    faults.fault(null);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const before = faults.requests.length;
    assert.equal((await http(cached('library/missing/manifests/v1'), { headers: { Accept: ACCEPT } })).status, 404);
    assert.equal((await http(cached('library/missing/manifests/v1'), { headers: { Accept: ACCEPT } })).status, 404);
    assert.equal(faults.requests.filter((request) => request.path === '/v2/library/missing/manifests/v1').length, 1, 'the second 404 came from the cache');
    assert.ok(faults.requests.length > before);
    assert.ok(!cache.logs.some((line) => line.includes('s3cret')), 'the upstream password is never logged');
  });

  test('a second Custody as upstream, and the default upstream at root paths', async () => {
    const expected = await http(`${second.url}/v2/team/tool/manifests/v1`, { headers: { Accept: ACCEPT } });
    const viaNamespace = await http(`${cache.url}/v2/cache/custody/team/tool/manifests/v1`, { headers: { Accept: ACCEPT } });
    assert.equal(viaNamespace.status, 200);
    assert.equal(viaNamespace.headers['docker-content-digest'], expected.headers['docker-content-digest']);
    // Docker's registry-mirrors asks for root paths: the default upstream serves them.
    const digestFile = join(work, 'root.digest');
    await skopeo(['copy', '--src-tls-verify=false', '--digestfile', digestFile, `docker://${cache.host}/team/tool:v1`, `oci:${join(work, 'root-pulled')}:v1`]);
    assert.equal((await readFile(digestFile, 'utf8')).trim(), expected.headers['docker-content-digest']);
    // A repository pushed here under a root path is never shadowed by the default upstream.
    const ownDigest = join(work, 'own.digest');
    await skopeo(['copy', '--dest-tls-verify=false', '--digestfile', ownDigest, faulty.ref, `docker://${cache.host}/team/tool:v1`]);
    const own = await http(`${cache.url}/v2/team/tool/manifests/v1`, { headers: { Accept: ACCEPT } });
    assert.equal(own.headers['docker-content-digest'], (await readFile(ownDigest, 'utf8')).trim());
    assert.notEqual(own.headers['docker-content-digest'], expected.headers['docker-content-digest']);
  });

  test('a size bound: the least recently pulled image is evicted, and pulls again from its upstream', async () => {
    const one = await buildLargeImageLayout(join(work, 'one'), 2, 'v1');
    const two = await buildLargeImageLayout(join(work, 'two'), 2, 'v1');
    for (const [layout, name] of [[one, 'one'], [two, 'two']] as const) {
      await skopeo(['copy', '--dest-tls-verify=false', layout.ref, `docker://${second.host}/team/${name}:v1`]);
    }
    const configFile = join(work, 'bounded.yaml');
    await writeFile(configFile, ['proxy:', '  maxBytes: 3MiB', '  evictionInterval: 1s', '  upstreams:', '    - namespace: cache/custody', `      url: http://${second.host}`, ''].join('\n'));
    const bounded = await startCustody({ args: ['--config', configFile] });
    try {
      const pull = async (name: string) => {
        const dir = join(work, `bounded-${name}-${Date.now()}`);
        await skopeo(['copy', '--src-tls-verify=false', `docker://${bounded.host}/cache/custody/team/${name}:v1`, `oci:${dir}:v1`]);
      };
      const evicted = (name: string) => bounded.logs.some((line) => line.includes('pull-through cache evicted an image') && line.includes(`cache/custody/team/${name}"`));
      await pull('one');
      await waitFor('image one stored', () => bounded.logs.some((line) => line.includes('pull-through cache stored an image') && line.includes(one.manifestDigest)), 30_000, 50);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.ok(!evicted('one'), 'under the bound nothing is evicted');
      await pull('two');
      await waitFor('image one evicted', () => evicted('one'), 30_000, 100);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.ok(!evicted('two'), 'the recently pulled image stays');
      // Evicted, it comes back from the upstream on its next pull.
      await pull('one');
    } finally {
      await bounded.stop();
      const fsck = await run(process.execPath, [join(import.meta.dirname, '..', 'bin', 'custody.js'), 'fsck', '--data-dir', bounded.dataDir]);
      assert.equal(fsck.code, 0, `fsck:\n${fsck.stdout}${fsck.stderr}`);
      await bounded.dispose();
    }
  });

  test('permissions decide who pulls through the cache; it fills as the system', async () => {
    const configFile = join(work, 'guarded.yaml');
    await writeFile(configFile, ['proxy:', '  upstreams:', '    - namespace: cache/custody', `      url: http://${second.host}`, ''].join('\n'));
    const guarded = await startCustody({ auth: true, args: ['--config', configFile] });
    try {
      const path = '/v2/cache/custody/team/tool/manifests/v1';
      assert.equal((await http(`${guarded.url}${path}`, { headers: { Accept: ACCEPT } })).status, 401, 'anonymous callers are challenged');
      const reader = await fetchToken(guarded.url, ['repository:cache/custody/team/tool:pull'], { username: 'admin', secret: ADMIN_PASSWORD });
      const served = await http(`${guarded.url}${path}`, { headers: { Accept: ACCEPT, Authorization: `Bearer ${reader}` } });
      assert.equal(served.status, 200);
      assert.equal(served.headers['docker-content-digest'], (await http(`${second.url}/v2/team/tool/manifests/v1`, { headers: { Accept: ACCEPT } })).headers['docker-content-digest']);
      // Even a superuser cannot push into the cache's namespace.
      const writer = await fetchToken(guarded.url, ['repository:cache/custody/team/tool:pull,push'], { username: 'admin', secret: ADMIN_PASSWORD });
      const push = await http(`${guarded.url}/v2/cache/custody/team/tool/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${writer}` } });
      assert.equal(push.status, 403);
      await waitFor('the image stored', () => guarded.logs.some((line) => line.includes('pull-through cache stored an image')), 30_000, 50);
    } finally {
      await guarded.dispose();
    }
  });

  test('signatures and referrers of a cached image come with it', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), `docker://${second.host}/team/signed:v1`]);
    const image = await http(`${second.url}/v2/team/signed/manifests/v1`, { headers: { Accept: ACCEPT } });
    const imageDigest = image.headers['docker-content-digest'] as string;
    const client = new RegistryClient({ registry: second.url });
    try {
      const put = async (content: object, reference?: string): Promise<string> => {
        const bytes = Buffer.from(JSON.stringify(content));
        return (await client.putManifest('team/signed', reference ?? digestOf(bytes), bytes, OCI_MANIFEST)).digest;
      };
      const blob = async (bytes: Buffer) => {
        await client.pushBlob('team/signed', digestOf(bytes), bytes.length, () => Readable.from([bytes]));
        return { digest: digestOf(bytes), size: bytes.length };
      };
      const empty = await blob(Buffer.from(EMPTY_JSON_CONTENT));
      const sbom = await blob(Buffer.from('{"sbom":"for the test"}'));
      const subject = { mediaType: image.headers['content-type'], digest: imageDigest, size: image.body.length };
      const referrer = await put({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom', config: { mediaType: MediaType.OciEmpty, ...empty }, layers: [{ mediaType: 'application/json', ...sbom }], subject });
      const payload = await blob(Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': imageDigest } } })));
      const sigTag = `${imageDigest.replace(':', '-')}.sig`;
      const signature = await put(
        { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: MediaType.OciEmpty, ...empty }, layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...payload, annotations: { 'dev.cosignproject.cosign/signature': 'c2lnbmF0dXJl' } }] },
        sigTag,
      );

      const pulled = await http(`${cache.url}/v2/cache/custody/team/signed/manifests/v1`, { headers: { Accept: ACCEPT } });
      assert.equal(pulled.headers['docker-content-digest'], imageDigest);
      const listed = await waitFor(
        'the referrer in the cache',
        async () => {
          const index = (await http(`${cache.url}/v2/cache/custody/team/signed/referrers/${imageDigest}`)).json<{ manifests: Array<{ digest: string; artifactType?: string }> }>();
          return index?.manifests.length ? index.manifests : false;
        },
        30_000,
        100,
      );
      assert.deepEqual(listed.map((entry) => [entry.digest, entry.artifactType]), [[referrer, 'application/vnd.example.sbom']]);
      await waitFor('the signature tag stored', () => cache.logs.some((line) => line.includes('pull-through cache stored an image') && line.includes(signature)), 30_000, 50);
      // The upstream gone, the signature is still served.
      await second.stop();
      const sig = await http(`${cache.url}/v2/cache/custody/team/signed/manifests/${sigTag}`, { headers: { Accept: ACCEPT } });
      assert.equal(sig.status, 200);
      assert.equal(sig.headers['docker-content-digest'], signature);
    } finally {
      client.close();
    }
  });
  test('the upstream stopped: cached tags still pull, and fsck is clean', async () => {
    await stored(pushed['library/app:v1']!);
    await faults.close();
    await distribution.dispose();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const digestFile = join(work, 'offline.digest');
    await skopeo(['copy', '--src-tls-verify=false', '--digestfile', digestFile, `docker://${cache.host}/${NAMESPACE}/library/app:v1`, `oci:${join(work, 'offline')}:v1`]);
    assert.equal((await readFile(digestFile, 'utf8')).trim(), pushed['library/app:v1']);
    assert.equal(await cache.stop(), 0);
    const fsck = await run(process.execPath, [join(import.meta.dirname, '..', 'bin', 'custody.js'), 'fsck', '--data-dir', cache.dataDir]);
    assert.equal(fsck.code, 0, `fsck:\n${fsck.stdout}${fsck.stderr}`);
    assert.match(fsck.stdout, /^ok: [1-9]\d* manifests/m);
  });

});
