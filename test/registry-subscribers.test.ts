// Push side effects travel as domain events: the action log records a push, a delete or a
// mount made through the registry whatever the entry point (the same entries the HTTP
// handlers wrote before), and image quality queues every pushed image. Changes the
// registry makes on its own (no actor) are not recorded as someone's action.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../src/core/digest.ts';
import { MediaType } from '../src/core/media-types.ts';
import type { EventActor } from '../src/core/events.ts';
import { InProcessEventBus } from '../src/events/in-process-event-bus.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { SqlQualityStore } from '../src/metadata/sql-quality-store.ts';
import { SqlAdvisoryStore } from '../src/metadata/sql-advisory-store.ts';
import { CoreRegistry } from '../src/registry/registry.ts';
import { RegistryDecorator } from '../src/registry/registry-decorator.ts';
import type { ActionEntry } from '../src/audit/action.ts';
import { recordRegistryActions } from '../src/audit/registry-actions.ts';
import { QualityService } from '../src/scan/quality-service.ts';
import { createLogger } from '../src/observability/logger.ts';

const ALICE: EventActor = { kind: 'user', name: 'alice', via: 'password', address: '192.0.2.7', userAgent: 'skopeo/1.15' };
const ROBOT: EventActor = { kind: 'robot', name: 'acme+ci', via: 'robot-token', address: '192.0.2.8' };

describe('registry subscribers: the action log and image quality', () => {
  let directory: string;
  let sql: SqliteClient;
  let registry: RegistryDecorator;
  let quality: QualityService;
  const bus = new InProcessEventBus();
  const entries: ActionEntry[] = [];

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-subscribers-'));
    const blobs = new FilesystemBlobStore(join(directory, 'blobs'));
    await blobs.init();
    sql = new SqliteClient(join(directory, 'db.sqlite'));
    await migrate(sql);
    const core = new CoreRegistry(blobs, new SqlMetadataStore(sql), { maxManifestBytes: 1 << 20, maxPageSize: 100, automaticMount: true, events: bus });
    // Every write goes through a pass-through layer, as a cache or a policy would wrap the core.
    registry = new RegistryDecorator(core);
    recordRegistryActions(bus, { record: (entry) => void entries.push(entry) });
    quality = new QualityService({ store: new SqlQualityStore(sql), registry, advisories: new SqlAdvisoryStore(sql), logger: createLogger('error', { write: () => {} }), pollIntervalMs: 3_600_000 });
    quality.subscribeTo(bus);
  });
  after(async () => {
    await quality.stop();
    await sql.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function pushImage(repository: string, reference: string, actor?: EventActor): Promise<{ digest: string; config: string }> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, created: reference }));
    const configDigest = digestOf(config);
    await registry.uploadMonolithic(repository, configDigest, Readable.from([config]), config.length, actor);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length }, layers: [] }));
    const target = reference === '@digest' ? digestOf(manifest) : reference;
    const { digest } = await registry.putManifest(repository, target, MediaType.OciManifest, manifest, actor);
    return { digest, config: configDigest };
  }

  it('records pushes by tag and by digest, deletes and mounts as the HTTP handlers did', async () => {
    const since = entries.length;
    const tagged = await pushImage('acme/app', 'v1', ALICE);
    const byDigest = await pushImage('acme/app', '@digest', ROBOT);
    await registry.mountBlob('acme/other', tagged.config, 'acme/app', undefined, ROBOT);
    await registry.deleteBlob('acme/other', tagged.config, ROBOT);
    await registry.deleteManifest('acme/app', 'v1', ALICE);
    await registry.deleteManifest('acme/app', byDigest.digest, ALICE);
    await bus.drain();
    const recorded = entries.slice(since).map(({ occurredAt, ...entry }) => {
      assert.equal(typeof occurredAt, 'number');
      return entry;
    });
    const alice = { kind: 'user', name: 'alice', via: 'password' };
    const robot = { kind: 'robot', name: 'acme+ci', via: 'robot-token' };
    const from = (actor: EventActor) => ({ ip: actor.address, userAgent: actor.userAgent });
    assert.deepEqual(recorded, [
      { kind: 'push', result: 'success', actor: alice, ...from(ALICE), repository: 'acme/app', tag: 'v1', detail: { digest: tagged.digest } },
      { kind: 'push', result: 'success', actor: robot, ...from(ROBOT), repository: 'acme/app', digest: byDigest.digest },
      { kind: 'mount', result: 'success', actor: robot, ...from(ROBOT), repository: 'acme/other', digest: tagged.config, detail: { from: 'acme/app' } },
      { kind: 'delete', result: 'success', actor: robot, ...from(ROBOT), repository: 'acme/other', digest: tagged.config, detail: { object: 'blob' } },
      { kind: 'delete', result: 'success', actor: alice, ...from(ALICE), repository: 'acme/app', tag: 'v1' },
      { kind: 'delete', result: 'success', actor: alice, ...from(ALICE), repository: 'acme/app', digest: byDigest.digest },
    ]);
  });

  it('records nothing for a change the registry makes on its own', async () => {
    const since = entries.length;
    await pushImage('acme/system', 'v1');
    await bus.drain();
    assert.deepEqual(entries.slice(since), []);
  });

  it('queues every pushed image for indexing once quality runs, whatever wrote it', async () => {
    await quality.start();
    const pushed = await pushImage('acme/scanned', 'v1');
    await bus.drain();
    const status = await new SqlQualityStore(sql).getImage(pushed.digest);
    assert.ok(status, 'the pushed image was queued');
    assert.equal(status.repository, 'acme/scanned');
  });
});
