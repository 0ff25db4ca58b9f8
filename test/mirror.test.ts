// Repository mirroring end to end: an upstream Custody holds 20 tags (some signed with
// cosign keys through the CLI); a second Custody mirrors the repository through the
// management API. The mirror ends identical to the source (every tag, signature tags
// included, at the same digest), its signatures verify against the original reference, a
// user's push into the mirror is refused as read-only, and a sync killed with SIGKILL
// resumes after a restart on the same data directory, ends identical, and fsck is clean.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { OciClient, sha256, type OciResponse, type RequestOptions } from './support/oci-client.ts';
import { readFile, stat } from 'node:fs/promises';
import { containersConfig, requireTool, run as runCommand, type ContainersConfig } from './support/tools.ts';
import { tempDirs } from './support/temp-files.ts';
import { Readable } from 'node:stream';
import { InProcessEventBus } from '../src/events/in-process-event-bus.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { SqlMirrorStore } from '../src/metadata/sql-mirror-store.ts';
import { CoreRegistry } from '../src/registry/registry.ts';
import type { WriteGuard } from '../src/registry/write-guard.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { MirrorService } from '../src/mirror/mirror-service.ts';
import { MirrorReadOnlyGuard } from '../src/mirror/read-only-guard.ts';
import { SecretBox } from '../src/mirror/secret-box.ts';

const skopeoBin = requireTool('skopeo');
const TAG_COUNT = 20;
const SIGNED = ['v1', 'v7', 'v13', 'v20'];
const LAYER_BYTES = 3 * 1024 * 1024;
const UPSTREAM_REPO = 'team/app';
const MIRROR_REPO = 'mirrors/app';
const ADMIN = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

/** Pushes to the authenticated upstream as the administrator (Basic credentials on every request). */
class UpstreamClient extends OciClient {
  override request(method: string, path: string, options: RequestOptions = {}): Promise<OciResponse> {
    return super.request(method, path, { ...options, headers: { ...options.headers, authorization: ADMIN } });
  }
}

describe('repository mirroring', () => {
  const temp = tempDirs('custody-mirror-');
  let upstream: CustodyServer;
  let downstream: CustodyServer;
  let downstreamDir: string;
  let work: string;
  let config: ContainersConfig;
  let referrer: string;
  const creds = `admin:${ADMIN_PASSWORD}`;

  const custody = async (args: readonly string[]): Promise<{ stdout: string; stderr: string; code: number | null }> =>
    runCustody(args, { cwd: work, env: { ...config.env, COSIGN_PASSWORD: 'mirror password' } });
  const ok = async (args: readonly string[]): Promise<{ stdout: string; stderr: string }> => {
    const result = await custody(args);
    assert.equal(result.code, 0, `custody ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${downstream.url}${path}`, {
      method,
      headers: { authorization: ADMIN, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? null : JSON.parse(text) };
  };
  /** Every tag of a repository with the digest it points at. */
  const snapshot = async (server: CustodyServer, repository: string, authorization?: string): Promise<Map<string, string>> => {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const list = await fetch(`${server.url}/v2/${repository}/tags/list?n=1000`, { headers });
    if (list.status === 404) return new Map();
    assert.equal(list.status, 200);
    const tags = ((await list.json()) as { tags: string[] | null }).tags ?? [];
    const result = new Map<string, string>();
    for (const tag of tags.sort()) {
      const head = await fetch(`${server.url}/v2/${repository}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { ...headers, accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
      });
      assert.equal(head.status, 200, `HEAD ${repository}:${tag}`);
      result.set(tag, head.headers.get('docker-content-digest')!);
    }
    return result;
  };

  before(async () => {
    work = temp();
    downstreamDir = temp();
    config = await containersConfig(join(work, 'containers'));
    upstream = await startCustody({ auth: true });
    downstream = await startCustody({ auth: true, dataDir: downstreamDir });
    const client = new UpstreamClient(upstream.url);
    for (let index = 1; index <= TAG_COUNT; index++) {
      const layer = randomBytes(LAYER_BYTES);
      const layerDigest = sha256(layer);
      const configBlob = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] }, config: { Labels: { index: String(index) } } });
      assert.equal((await client.pushBlob(UPSTREAM_REPO, layer)).status, 201);
      assert.equal((await client.pushBlob(UPSTREAM_REPO, configBlob)).status, 201);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configBlob), size: Buffer.byteLength(configBlob) },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      });
      assert.equal((await client.pushManifest(UPSTREAM_REPO, `v${index}`, manifest, 'application/vnd.oci.image.manifest.v1+json')).status, 201);
    }
    await ok(['key', 'generate']);
    for (const tag of SIGNED) await ok(['sign', '--tls-verify=false', '--creds', creds, `docker://${upstream.host}/${UPSTREAM_REPO}:${tag}`, '--key', 'cosign.key']);
    // An OCI referrer (an artifact whose subject is v3), untagged: it travels with v3.
    const subject = await fetch(`${upstream.url}/v2/${UPSTREAM_REPO}/manifests/v3`, { method: 'HEAD', headers: { authorization: ADMIN, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const emptyConfig = '{}';
    assert.equal((await client.pushBlob(UPSTREAM_REPO, emptyConfig)).status, 201);
    const sbom = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
    assert.equal((await client.pushBlob(UPSTREAM_REPO, sbom)).status, 201);
    const artifact = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(emptyConfig), size: 2 },
      layers: [{ mediaType: 'application/spdx+json', digest: sha256(sbom), size: sbom.length }],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.headers.get('docker-content-digest'), size: Number(subject.headers.get('content-length')) },
    });
    referrer = sha256(artifact);
    assert.equal((await client.pushManifest(UPSTREAM_REPO, referrer, artifact, 'application/vnd.oci.image.manifest.v1+json')).status, 201);
  });
  after(async () => {
    await upstream?.dispose();
    await downstream?.stop();
  });

  it('a mirror created through the API, killed mid-sync and resumed, ends identical to its source, signatures verifying', async () => {
    const source = await snapshot(upstream, UPSTREAM_REPO, ADMIN);
    assert.equal(source.size, TAG_COUNT + SIGNED.length, 'upstream: 20 tags and a .sig tag per signed one');

    const created = await api('POST', '/api/v1/mirrors', { repository: MIRROR_REPO, remoteRegistry: `http://${upstream.host}`, remoteRepository: UPSTREAM_REPO, include: ['v*'], exclude: ['v19'], username: 'admin', password: ADMIN_PASSWORD });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.hasSecret, true);
    assert.equal(JSON.stringify(created.json).includes(ADMIN_PASSWORD), false, 'the remote password is never shown');
    // The namespace had no account: the superuser's organization now owns it, and the repository exists (private).
    assert.equal((await api('GET', '/api/v1/organizations/mirrors')).status, 200);
    assert.equal((await api('GET', `/api/v1/repositories/${MIRROR_REPO}`)).json.visibility, 'private');
    // Sealed at rest: not in the database file, and the key is private to the server.
    assert.equal((await readFile(join(downstreamDir, 'custody.db'))).includes(ADMIN_PASSWORD), false);
    assert.equal((await stat(join(downstreamDir, 'mirror-secret.key'))).mode & 0o777, 0o600);
    // v19 is excluded by its glob: the mirror follows every other tag.
    const expected = new Map([...source].filter(([tag]) => tag !== 'v19'));

    // First sync, killed with SIGKILL once part of it is stored.
    const cut = api('POST', `/api/v1/repositories/${MIRROR_REPO}/-/mirror/sync`).catch((error: unknown) => error);
    for (;;) {
      const seen = await snapshot(downstream, MIRROR_REPO, ADMIN);
      if (seen.size >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await downstream.kill();
    const cutAnswer = await cut;
    assert.ok(cutAnswer instanceof Error, `the sync request died with the server: ${JSON.stringify(cutAnswer)}`);
    const partial = await runCustody(['fsck', '--data-dir', downstreamDir]);
    assert.equal(partial.code, 0, `fsck after the kill: ${partial.stdout}${partial.stderr}`);

    downstream = await startCustody({ auth: true, dataDir: downstreamDir });
    const partialTags = await snapshot(downstream, MIRROR_REPO, ADMIN);
    assert.ok(partialTags.size < expected.size, `the kill came before the end (${partialTags.size} tags stored)`);
    const resumed = await api('POST', `/api/v1/repositories/${MIRROR_REPO}/-/mirror/sync`);
    assert.equal(resumed.status, 200, JSON.stringify(resumed.json));
    assert.equal(resumed.json.status, 'succeeded', JSON.stringify(resumed.json));
    assert.deepEqual(await snapshot(downstream, MIRROR_REPO, ADMIN), expected);

    // Nothing changed upstream: the next sync copies nothing.
    const again = await api('POST', `/api/v1/repositories/${MIRROR_REPO}/-/mirror/sync`);
    assert.equal(again.json.status, 'succeeded');
    assert.equal(again.json.tagsCopied, 0);
    assert.equal(again.json.bytes, 0);

    // v3's referrer came with it, untagged.
    const referrers = await fetch(`${downstream.url}/v2/${MIRROR_REPO}/referrers/${expected.get('v3')}`, { headers: { authorization: ADMIN } });
    assert.deepEqual(((await referrers.json()) as { manifests: { digest: string }[] }).manifests.map((entry) => entry.digest), [referrer]);

    const runs = await api('GET', `/api/v1/repositories/${MIRROR_REPO}/-/mirror/runs`);
    assert.deepEqual(runs.json.map((run: { status: string; error: string | null }) => [run.status, run.error]), [['succeeded', null], ['succeeded', null], ['failed', 'interrupted']]);
    assert.ok(runs.json[1].tagsCopied > 0 && runs.json[1].tagsCopied < TAG_COUNT, 'the resumed sync copied only what the cut one had not');
    const mirror = await api('GET', `/api/v1/repositories/${MIRROR_REPO}/-/mirror`);
    assert.equal(mirror.json.lastStatus, 'succeeded');

    for (const tag of SIGNED) {
      await ok(['verify', '--tls-verify=false', '--creds', creds, `docker://${downstream.host}/${MIRROR_REPO}:${tag}`, '--key', 'cosign.pub', '--identity', `${upstream.host}/${UPSTREAM_REPO}:${tag}`]);
    }
    const unsigned = await custody(['verify', '--tls-verify=false', '--creds', creds, `docker://${downstream.host}/${MIRROR_REPO}:v2`, '--key', 'cosign.pub', '--identity', `${upstream.host}/${UPSTREAM_REPO}:v2`]);
    assert.notEqual(unsigned.code, 0, 'an unsigned tag does not verify');

    await downstream.stop();
    const clean = await runCustody(['fsck', '--data-dir', downstreamDir]);
    assert.equal(clean.code, 0, `fsck after the resumed sync: ${clean.stdout}${clean.stderr}`);
    downstream = await startCustody({ auth: true, dataDir: downstreamDir });
  });

  it('in process: the sync publishes mirror.sync.* events, writes as the mirror actor, and a failure is recorded without the secret', async () => {
    const directory = temp();
    const blobs = new FilesystemBlobStore(join(directory, 'blobs'));
    await blobs.init();
    const sql = new SqliteClient(join(directory, 'db.sqlite'));
    await migrate(sql);
    const bus = new InProcessEventBus();
    const guards: WriteGuard[] = [];
    const registry = new CoreRegistry(blobs, new SqlMetadataStore(sql), { maxManifestBytes: 1 << 22, maxPageSize: 100, automaticMount: true, events: bus, guards });
    const service = new MirrorService({ store: new SqlMirrorStore(sql), registry, box: SecretBox.fromKey(randomBytes(32)), events: bus, logger: silentLogger });
    guards.push(new MirrorReadOnlyGuard((repository) => service.sourceOf(repository)));
    const seen: { type: string; data: unknown; actor?: unknown }[] = [];
    bus.subscribe((event) => void seen.push({ type: event.type, data: event.data, actor: event.actor }));
    try {
      await service.create({ repository: 'local/app', remoteRegistry: `http://${upstream.host}`, remoteRepository: UPSTREAM_REPO, include: ['v1?'], exclude: ['v15'], username: 'admin', password: ADMIN_PASSWORD });
      const report = await service.sync('local/app');
      await bus.drain();
      assert.equal(report.status, 'succeeded', report.errors.join('; '));
      assert.equal(report.tagsCopied, 9, 'v10..v19 but v15');
      assert.ok(report.bytes >= 9 * LAYER_BYTES);
      const mirrorEvents = seen.filter((event) => event.type.startsWith('mirror.'));
      const source = `${upstream.host}/${UPSTREAM_REPO}`;
      assert.deepEqual(mirrorEvents.map((event) => [event.type, event.data]), [
        ['mirror.sync.started', { repository: 'local/app', source }],
        ['mirror.sync.succeeded', { repository: 'local/app', source, tags: 9, bytes: report.bytes }],
      ]);
      const pushes = seen.filter((event) => event.type === 'manifest.pushed');
      assert.ok(pushes.length >= 10, "nine images and v13's signature");
      for (const push of pushes) assert.deepEqual(push.actor, { kind: 'system', name: 'mirror' });

      // The read-only rule holds below HTTP too: a user's write through the domain is refused.
      const config = Buffer.from('{}');
      await assert.rejects(registry.uploadMonolithic('local/app', sha256(config), Readable.from([config]), 2, { kind: 'user', name: 'alice' }), {
        code: 'DENIED',
        message: `repository local/app is a mirror of ${source} (read-only)`,
      });
      await assert.rejects(registry.deleteManifest('local/app', 'v10', { kind: 'user', name: 'alice' }), { code: 'DENIED' });

      await service.create({ repository: 'local/wrong', remoteRegistry: `http://${upstream.host}`, remoteRepository: UPSTREAM_REPO, username: 'admin', password: 'not-the-password' });
      const failed = await service.sync('local/wrong');
      await bus.drain();
      assert.equal(failed.status, 'failed');
      const [run] = await service.runs('local/wrong');
      assert.equal(run!.status, 'failed');
      assert.ok(run!.error && !run!.error.includes('not-the-password'), run!.error);
      const last = seen.at(-1)!;
      assert.equal(last.type, 'mirror.sync.failed');
      assert.equal(JSON.stringify(last.data).includes('not-the-password'), false);

      // The scheduled job's step: only mirrors never run or past their interval sync.
      await service.create({ repository: 'local/due', remoteRegistry: `http://${upstream.host}`, remoteRepository: UPSTREAM_REPO, include: ['v2'], username: 'admin', password: ADMIN_PASSWORD });
      await service.syncDue();
      await service.syncDue();
      assert.deepEqual((await service.runs('local/due')).map((entry) => [entry.status, entry.tagsCopied]), [['succeeded', 1]]);
      assert.equal((await service.runs('local/app')).length, 1);
      assert.equal((await service.runs('local/wrong')).length, 1);
    } finally {
      await bus.drain();
      await sql.close();
    }
  });

  it('refuses a user\'s push into the mirrored repository as read-only, and takes it again once the mirror is deleted', async () => {
    const target = `docker://${downstream.host}/${MIRROR_REPO}:pushed`;
    const pushed = await runCommand(skopeoBin, ['--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', creds, `--src-creds`, creds, `docker://${upstream.host}/${UPSTREAM_REPO}:v2`, target], { env: config.env, timeoutMs: 120_000 });
    assert.notEqual(pushed.code, 0, 'skopeo must fail');
    assert.match(pushed.stderr, new RegExp(`repository ${MIRROR_REPO} is a mirror of ${upstream.host}/${UPSTREAM_REPO} \\(read-only\\)`));
    const tagged = await fetch(`${downstream.url}/v2/${MIRROR_REPO}/manifests/pushed`, { method: 'HEAD', headers: { authorization: ADMIN } });
    assert.equal(tagged.status, 404);

    // The same through `custody admin mirror`: the remote password as the second stdin line.
    const admin = (args: readonly string[], input = `${ADMIN_PASSWORD}\n`) =>
      runCustody(['admin', 'mirror', ...args, '--username', 'admin', '--password-stdin'], { cwd: work, input, env: { CUSTODY_REGISTRY: downstream.url, CUSTODY_TOKEN: '', HOME: work, XDG_RUNTIME_DIR: '', REGISTRY_AUTH_FILE: join(work, 'no-auth.json') } });
    const created = await admin(['create', 'mirrors/cli', `http://${upstream.host}/${UPSTREAM_REPO}`, '--include', 'v4,v5', '--interval', '3600', '--remote-user', 'admin'], `${ADMIN_PASSWORD}\n${ADMIN_PASSWORD}\n`);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /mirrors\/cli mirrors http:\/\/127\.0\.0\.1:[0-9]+\/team\/app \(read-only to users\)/);
    const synced = await admin(['sync', 'mirrors/cli']);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /succeeded\s+2\s/);
    const runs = await admin(['runs', 'mirrors/cli']);
    assert.match(runs.stdout, /^RUN\s+STARTED\s+FINISHED\s+STATUS\s+TAGS\s+BYTES/m);
    assert.equal(runs.stdout.trim().split('\n').length, 2);
    assert.equal((await admin(['delete', 'mirrors/cli'])).code, 0);

    const listed = await api('GET', '/api/v1/mirrors');
    assert.deepEqual(listed.json.map((mirror: { repository: string }) => mirror.repository), [MIRROR_REPO]);
    assert.equal((await api('DELETE', `/api/v1/repositories/${MIRROR_REPO}/-/mirror`)).status, 204);
    const again = await runCommand(skopeoBin, ['--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', creds, `--src-creds`, creds, `docker://${upstream.host}/${UPSTREAM_REPO}:v2`, target], { env: config.env, timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
  });
});
