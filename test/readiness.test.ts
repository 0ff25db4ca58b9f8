// /healthz is the readiness check a load balancer asks: with PostgreSQL and S3 it answers
// 200 while both answer, and 503 (quickly, whatever the client's own timeouts) as soon as
// the bucket or the database cannot be reached, so the replica leaves the rotation.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startCustody } from './support/custody-server.ts';
import { createTestDatabase } from './support/postgres.ts';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY } from './support/s3-server.ts';
import { http, waitFor } from './support/tools.ts';

async function serveOn(databaseUrl: string, endpoint: string, bucket: string) {
  return startCustody({
    env: {
      CUSTODY_DATABASE_URL: databaseUrl,
      CUSTODY_STORAGE_DRIVER: 's3',
      CUSTODY_STORAGE_S3_BUCKET: bucket,
      CUSTODY_STORAGE_S3_ENDPOINT: endpoint,
      CUSTODY_STORAGE_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      AWS_REGION: 'us-east-1',
      CUSTODY_QUALITY_ENABLED: 'false',
    },
  });
}

it('/healthz fails when the bucket cannot be reached, and when the database cannot', async () => {
  const database = await createTestDatabase();
  const s3 = await startS3Server();
  const other = await startS3Server();
  try {
    const server = await serveOn(database.url, s3.endpoint, await s3.createBucket());
    try {
      assert.equal((await http(`${server.url}/healthz`)).status, 200);
      await s3.close();
      const started = Date.now();
      const down = await http(`${server.url}/healthz`);
      assert.equal(down.status, 503);
      assert.equal(down.body.toString(), 'unavailable\n');
      assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
    } finally {
      await server.dispose();
    }

    const second = await serveOn(database.url, other.endpoint, await other.createBucket());
    try {
      assert.equal((await http(`${second.url}/healthz`)).status, 200);
      // The database goes away (its connections are cut): not ready any more.
      await database.drop();
      await waitFor('/healthz to fail without the database', async () => (await http(`${second.url}/healthz`)).status === 503, 10_000, 100);
    } finally {
      await second.dispose();
    }
  } finally {
    await other.close();
    await database.drop();
  }
});
