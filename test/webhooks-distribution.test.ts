// Custody's `distribution` webhook format next to CNCF Distribution's own notifications:
// the same pushes, pulls and deletes on both registries, both envelopes read by the same
// consumer model of Distribution's Event structure, and for each manifest action Custody's
// event carries every field Distribution's does, with the same JSON types and values.
// (One difference, stated below: the per-tag deletes Distribution adds to a manifest delete.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';
import { OciClient, sha256 } from './support/oci-client.ts';
import { OCI_CONFIG, OCI_MANIFEST } from './support/images.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';
import { parseDistributionEnvelope, type DistributionEvent } from './support/distribution-consumer.ts';
import { DISTRIBUTION_CONTENT_TYPE } from '../src/webhooks/formats.ts';

function shape(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, shape(inner)]));
}

/** Every key of `reference` is in `candidate`, with the same JSON type (recursively). */
function assertCovers(candidate: unknown, reference: unknown, where: string): void {
  if (reference === null || typeof reference !== 'object') {
    assert.equal(typeof candidate, typeof reference, `${where}: ${typeof candidate} where Distribution sends ${typeof reference}`);
    return;
  }
  assert.equal(typeof candidate, 'object', `${where} is an object`);
  for (const [key, inner] of Object.entries(reference as Record<string, unknown>)) {
    assert.ok(key in (candidate as Record<string, unknown>), `${where}.${key} is missing (Distribution: ${JSON.stringify(shape(reference))})`);
    assertCovers((candidate as Record<string, unknown>)[key], inner, `${where}.${key}`);
  }
}

describe('the distribution webhook format against Distribution itself', () => {
  const receiver = new WebhookReceiver();
  let distribution: DistributionRegistry;
  let custody: CustodyServer;

  before(async () => {
    await receiver.start();
    distribution = await startDistribution({
      extraConfig: async (host) => [
        'http:',
        `  addr: ${host}`,
        'notifications:',
        '  endpoints:',
        '    - name: test',
        `      url: ${receiver.url}/distribution`,
        '      timeout: 2s',
        '      threshold: 5',
        '      backoff: 200ms',
      ],
    });
    custody = await startCustody({ env: { CUSTODY_ADMIN_PASSWORD: ADMIN_PASSWORD, CUSTODY_QUALITY_ENABLED: 'false' } });
    const created = await runCustody(
      ['admin', 'webhook', 'create', `${receiver.url}/custody`, '--namespace', 'acme', '--format', 'distribution', '--events', 'manifest.pushed,manifest.pulled,manifest.deleted', '--username', 'admin', '--password-stdin'],
      { env: { CUSTODY_REGISTRY: custody.url, CUSTODY_TOKEN: '', HOME: custody.dataDir, REGISTRY_AUTH_FILE: join(custody.dataDir, 'no-auth.json') }, input: `${ADMIN_PASSWORD}\n` },
    );
    assert.equal(created.code, 0, created.stderr);
  });
  after(async () => {
    await custody?.dispose();
    await distribution?.dispose();
    await receiver.stop();
  });

  it('sends what Distribution sends for manifest pushes, pulls and deletes', async () => {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: Buffer.byteLength(config) }, layers: [] });
    const digest = sha256(manifest);
    for (const url of [distribution.url, custody.url]) {
      const client = new OciClient(url);
      assert.equal((await client.pushBlob('acme/app', config)).status, 201);
      assert.equal((await client.pushManifest('acme/app', 'v1', manifest, OCI_MANIFEST)).status, 201);
      assert.equal((await client.request('GET', '/v2/acme/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200);
      assert.equal((await client.request('DELETE', `/v2/acme/app/manifests/${digest}`)).status, 202);
    }
    const manifestEvents = (path: string): DistributionEvent[] =>
      receiver
        .on(path)
        .flatMap((request) => {
          assert.equal(request.headers['content-type'], DISTRIBUTION_CONTENT_TYPE);
          return parseDistributionEnvelope(request.body).events;
        })
        // Distribution also reports blobs; the manifest actions are what both send.
        .filter((event) => event.target.mediaType !== 'application/octet-stream' && (event.target.mediaType === OCI_MANIFEST || event.action === 'delete'));
    await receiver.waitFor(() => manifestEvents('/distribution').length >= 3 && manifestEvents('/custody').length >= 3, 30_000, 'both registries\' notifications');
    // Distribution also reports, after a manifest's delete, one delete per tag that pointed at
    // it ({repository, tag}); Custody reports a tag delete when a tag is deleted (DELETE by
    // tag), not for the tags a manifest delete takes with it.
    const theirs = manifestEvents('/distribution').filter((event) => event.action !== 'delete' || event.target.digest !== undefined);
    const ours = manifestEvents('/custody');
    assert.deepEqual(theirs.map((event) => event.action), ['push', 'pull', 'delete']);
    assert.deepEqual(ours.map((event) => event.action), ['push', 'pull', 'delete']);
    for (let index = 0; index < 3; index++) {
      const reference = theirs[index]!;
      const candidate = ours[index]!;
      assertCovers(candidate, { ...reference, actor: {} }, reference.action);
      for (const key of ['mediaType', 'size', 'digest', 'length', 'repository', 'tag'] as const) {
        assert.deepEqual(candidate.target[key], reference.target[key], `${reference.action} target.${key}`);
      }
      assert.equal(new URL(candidate.target.url ?? custody.url).pathname, new URL(reference.target.url ?? distribution.url).pathname, `${reference.action} target.url path`);
      assert.equal(candidate.request.method, reference.request.method, `${reference.action} request.method`);
    }
  });
});
