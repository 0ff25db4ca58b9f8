// The registry announces each committed change on the event bus and runs write guards
// before every change, whatever the entry point; the scheduler runs jobs without overlap.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf } from '../src/core/digest.ts';
import { Denied } from '../src/core/errors.ts';
import { MediaType } from '../src/core/media-types.ts';
import type { DomainEvent } from '../src/core/events.ts';
import { InProcessEventBus } from '../src/events/in-process-event-bus.ts';
import { TimerScheduler } from '../src/jobs/timer-scheduler.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { CoreRegistry, type Registry } from '../src/registry/registry.ts';
import type { WriteGuard } from '../src/registry/write-guard.ts';

describe('domain events and write guards', () => {
  let directory: string;
  let metadata: SqlMetadataStore;
  let registry: Registry;
  const bus = new InProcessEventBus();
  const heard: DomainEvent[] = [];
  const frozen = new Set<string>();
  const guard: WriteGuard = {
    async beforeManifestWrite(write) {
      if (write.tag && frozen.has(`${write.repository}:${write.tag}`)) throw new Denied('tag', `tag ${write.tag} is immutable (rule test)`);
    },
    async beforeManifestRemoval(removal) {
      if (removal.tag && frozen.has(`${removal.repository}:${removal.tag}`)) throw new Denied('tag', `tag ${removal.tag} is immutable (rule test)`);
    },
  };

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'custody-events-'));
    const blobs = new FilesystemBlobStore(join(directory, 'blobs'));
    await blobs.init();
    const sql = new SqliteClient(join(directory, 'db.sqlite'));
    await migrate(sql);
    metadata = new SqlMetadataStore(sql);
    registry = new CoreRegistry(blobs, metadata, { maxManifestBytes: 1 << 20, maxPageSize: 100, automaticMount: false, events: bus, guards: [guard] });
    bus.subscribe((event) => void heard.push(event));
  });
  after(async () => {
    await metadata.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function pushImage(tag: string): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const configDigest = digestOf(config);
    await registry.uploadMonolithic('acme/app', configDigest, Readable.from([config]), config.length, { name: 'alice', kind: 'user' });
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length }, layers: [] }));
    return (await registry.putManifest('acme/app', tag, MediaType.OciManifest, manifest, { name: 'alice', kind: 'user' })).digest;
  }

  it('publishes upload, push, tag, pull and delete events with the actor', async () => {
    const digest = await pushImage('v1');
    await registry.getManifest('acme/app', 'v1', { kind: 'anonymous' });
    await registry.getManifest('acme/app', 'v1'); // the registry's own read: not a pull
    await registry.deleteManifest('acme/app', 'v1');
    await bus.drain();
    assert.deepEqual(heard.map((event) => event.type), ['upload.completed', 'manifest.pushed', 'tag.moved', 'manifest.pulled', 'tag.deleted']);
    const pushed = heard.find((event) => event.type === 'manifest.pushed');
    assert.equal(pushed?.actor?.name, 'alice');
    assert.equal(pushed?.type === 'manifest.pushed' && pushed.data.digest, digest);
  });

  it('runs guards before writes: a refused change leaves nothing behind', async () => {
    const digest = await pushImage('stable');
    frozen.add('acme/app:stable');
    await assert.rejects(registry.deleteManifest('acme/app', 'stable'), (error: unknown) => error instanceof Denied && /immutable/.test(error.message));
    assert.equal((await registry.getManifest('acme/app', 'stable')).digest, digest);
    await assert.rejects(pushImage('stable'), Denied);
  });

  it('isolates a failing subscriber from the publisher', async () => {
    const failures: unknown[] = [];
    const isolated = new InProcessEventBus({ onError: (error) => failures.push(error) });
    isolated.subscribe(() => {
      throw new Error('subscriber broke');
    });
    isolated.publish('tag.deleted', { repository: 'a/b', tag: 'x' });
    await isolated.drain();
    assert.equal(failures.length, 1);
  });
});

describe('job scheduler', () => {
  it('runs a job on its interval, never overlapping itself, and stops cleanly', async () => {
    const scheduler = new TimerScheduler();
    let runs = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    scheduler.register({
      name: 'tick',
      intervalMs: 5,
      initialDelayMs: 0,
      async run() {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        concurrent--;
      },
    });
    scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 120));
    await scheduler.stop();
    assert.ok(runs >= 3, `ran ${runs} times`);
    assert.equal(maxConcurrent, 1);
  });

  it('runs an exclusive job only where the lease is held', async () => {
    const held = new Map<string, string>();
    const leases = {
      async acquire(name: string, holder: string) {
        if (held.has(name) && held.get(name) !== holder) return false;
        held.set(name, holder);
        return true;
      },
      async release() {},
    };
    const ran: string[] = [];
    const a = new TimerScheduler({ leases, holder: 'a' });
    const b = new TimerScheduler({ leases, holder: 'b' });
    for (const [scheduler, name] of [[a, 'a'], [b, 'b']] as const) {
      scheduler.register({ name: 'gc', intervalMs: 1000, async run() { ran.push(name); } });
    }
    await a.runNow('gc');
    await b.runNow('gc');
    assert.deepEqual(ran, ['a']);
  });
});
