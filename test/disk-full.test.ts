// A really full disk under a real `custody serve`: blob storage on a small tmpfs that the
// test fills. Writes are answered 507 INSUFFICIENT_STORAGE with the OCI envelope, the
// upload keeps its durable offset and completes once space is back, /healthz says
// degraded below storage.minFreeBytes, /metrics shows the space, and fsck stays clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCustody, startCustody } from './support/custody-server.ts';
import { explain, http, run, type HttpResult } from './support/tools.ts';
import { sha256 } from './support/images.ts';

const MIB = 1024 * 1024;

/** A tmpfs of `bytes` at a fresh directory; mounting needs root (CAP_SYS_ADMIN), and the test says so rather than skip. */
async function smallFilesystem(bytes: number): Promise<{ path: string; unmount: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'custody-full-'));
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', path]);
  if (mounted.code !== 0) {
    await rm(path, { recursive: true, force: true });
    throw new Error(`this test fills a real filesystem: mounting a tmpfs needs root (CAP_SYS_ADMIN), as in CI\n${explain(mounted)}`);
  }
  return {
    path,
    unmount: async () => {
      await run('umount', [path]);
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** Writes a file until the filesystem refuses more: the disk is then full. */
async function fill(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0xff);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    await handle.close();
  }
}

function errorCode(response: HttpResult): string | undefined {
  return response.json<{ errors: { code: string; message: string }[] }>()?.errors[0]?.code;
}

function gauge(metrics: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics);
  assert.ok(match, `${name} is exported`);
  return Number(match[1]);
}

test('a full disk answers 507 with the OCI envelope, keeps uploads consistent and turns /healthz degraded', async (t) => {
  const storage = await smallFilesystem(8 * MIB);
  t.after(() => storage.unmount());
  const server = await startCustody({ args: ['--storage-path', storage.path], env: { CUSTODY_STORAGE_MIN_FREE_BYTES: String(4 * MIB) } });
  t.after(() => server.dispose());

  assert.equal((await http(`${server.url}/healthz`)).status, 200);
  const before = (await http(`${server.url}/metrics`)).body.toString();
  assert.equal(gauge(before, 'custody_storage_total_bytes'), 8 * MIB);
  assert.ok(gauge(before, 'custody_storage_free_bytes') > 7 * MIB);

  const blob = randomBytes(2 * MIB);
  const first = blob.subarray(0, MIB);
  const second = blob.subarray(MIB);
  const started = await http(`${server.url}/v2/full/app/blobs/uploads/`, { method: 'POST' });
  const location = String(started.headers.location);
  const chunk = (body: Buffer, start: number): Promise<HttpResult> =>
    http(`${server.url}${location}`, { method: 'PATCH', body, headers: { 'Content-Range': `${start}-${start + body.length - 1}`, 'Content-Type': 'application/octet-stream' } });
  assert.equal((await chunk(first, 0)).status, 202);

  const filler = join(storage.path, 'filler');
  await fill(filler);

  const health = await http(`${server.url}/healthz`);
  assert.equal(health.status, 503);
  assert.match(health.body.toString(), /^degraded: storage has .* free .* below the 4\.0 MiB minimum/);
  assert.ok(gauge((await http(`${server.url}/metrics`)).body.toString(), 'custody_storage_free_bytes') < MIB);

  const refused = await chunk(second, MIB);
  assert.equal(refused.status, 507, refused.body.toString());
  assert.equal(errorCode(refused), 'INSUFFICIENT_STORAGE');
  assert.match(refused.body.toString(), /out of storage space/);
  const other = randomBytes(MIB);
  const monolithic = await http(`${server.url}/v2/full/app/blobs/uploads/?digest=${sha256(other)}`, { method: 'POST', body: other });
  assert.equal(monolithic.status, 507);
  assert.equal(errorCode(monolithic), 'INSUFFICIENT_STORAGE');

  // The upload still holds exactly its first chunk.
  const status = await http(`${server.url}${location}`);
  assert.equal(status.status, 204);
  assert.equal(status.headers.range, `0-${MIB - 1}`);

  // Space comes back: healthy again, and the same upload completes from its offset.
  await rm(filler);
  assert.equal((await http(`${server.url}/healthz`)).status, 200);
  const resumed = await chunk(second, MIB);
  assert.equal(resumed.status, 202, resumed.body.toString());
  const digest = sha256(blob);
  assert.equal((await http(`${server.url}${location}?digest=${digest}`, { method: 'PUT' })).status, 201);
  assert.deepEqual((await http(`${server.url}/v2/full/app/blobs/${digest}`)).body, blob);

  const lines = server.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(lines.some((line) => line.msg === 'request' && line.status === 507 && line.errorCode === 'INSUFFICIENT_STORAGE'));
  assert.ok(lines.some((line) => line.msg === 'health degraded'));

  assert.equal(await server.stop(), 0);
  const checked = await runCustody(['fsck', '--data-dir', server.dataDir, '--storage-path', storage.path]);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /^ok: /m);
});
