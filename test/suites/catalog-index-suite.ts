// The CatalogIndexStore contract over any SqlClient, after migrate(): rows put, replaced
// and removed; text matched case-insensitively (and literally: `%` and `_` are not
// wildcards) in the name, description, title and vendor; the filters, the three orders,
// pages; and the read rule applied in SQL: an outsider neither sees nor counts a private
// repository, nor finds its namespace in the filter menu; a row whose repository holds
// nothing is ignored.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../../src/metadata/migrations.ts';
import type { SqlClient } from '../../src/metadata/sql-client.ts';
import type { CatalogIndexQuery, CatalogIndexRow, CatalogIndexStore } from '../../src/metadata/catalog-index-store.ts';
import type { ReadScope } from '../../src/metadata/identity/repository-access-store.ts';
import type { StoreFactories } from '../support/sql-stores.ts';
import type { Digest } from '../../src/core/digest.ts';

const T0 = 1_700_000_000_000;
const DIGEST = `sha256:${'a'.repeat(64)}` as Digest;
const ALL: ReadScope = { accountId: null, includePublic: true, all: true };
const ANONYMOUS: ReadScope = { accountId: null, includePublic: true, all: false };

function row(repository: string, fields: Partial<CatalogIndexRow> = {}): CatalogIndexRow {
  const slash = repository.indexOf('/');
  return {
    repository,
    namespace: slash < 0 ? null : repository.slice(0, slash),
    description: null,
    title: null,
    vendor: null,
    latestTag: 'latest',
    latestDigest: DIGEST,
    pushedAt: T0,
    grade: null,
    signed: false,
    os: ['linux'],
    arch: ['amd64'],
    ...fields,
  };
}

export function catalogIndexSuite(name: string, openClient: () => Promise<SqlClient>, stores: StoreFactories): void {
  describe(`CatalogIndexStore contract: ${name}`, () => {
    let sql: SqlClient;
    let index: CatalogIndexStore;
    const query = (fields: Partial<CatalogIndexQuery> = {}): CatalogIndexQuery => ({ sort: 'name', offset: 0, limit: 50, ...fields });
    const names = async (scope: ReadScope, fields: Partial<CatalogIndexQuery> = {}): Promise<string[]> => (await index.search(scope, query(fields))).hits.map((hit) => hit.repository);

    /** A repository that holds a blob, with its row in the index. */
    async function repository(repositoryName: string, fields: Partial<CatalogIndexRow> = {}, visibility: 'public' | 'private' = 'public'): Promise<void> {
      await stores.metadata(sql).linkBlob(repositoryName, DIGEST, 10, T0);
      await stores.repositoryAccess(sql).updateRepository(repositoryName, { visibility });
      await index.put(row(repositoryName, fields));
    }

    beforeEach(async () => {
      sql = await openClient();
      await migrate(sql);
      index = stores.catalogIndex(sql);
    });
    afterEach(async () => {
      await sql.close();
    });

    it('puts, replaces, reads back and removes a row', async () => {
      await index.put(row('acme/web', { description: 'A web server', os: ['linux', 'windows'], arch: ['arm64', 'amd64'], signed: true, grade: 'B' }));
      await index.put(row('acme/web', { description: 'The web server', os: ['linux'], arch: ['arm64', 'amd64'], signed: true, grade: 'C' }));
      const found = await index.get('acme/web');
      assert.deepEqual(found, row('acme/web', { description: 'The web server', os: ['linux'], arch: ['amd64', 'arm64'], signed: true, grade: 'C' }));
      await index.put(row('acme/empty', { latestTag: null, latestDigest: null, pushedAt: null, signed: null, os: [], arch: [] }));
      assert.deepEqual(await index.get('acme/empty'), row('acme/empty', { latestTag: null, latestDigest: null, pushedAt: null, signed: null, os: [], arch: [] }));
      await index.remove('acme/web');
      assert.equal(await index.get('acme/web'), null);
    });

    it('matches text in the name, description, title or vendor, case-insensitively and literally', async () => {
      await repository('acme/web', { description: 'Serves HTTP' });
      await repository('acme/db', { title: 'PostgreSQL Server' });
      await repository('beta/tool', { vendor: 'Red Hat, Inc.' });
      await repository('beta/percent', { description: '100% pure' });
      assert.deepEqual(await names(ALL, { text: 'WEB' }), ['acme/web']);
      assert.deepEqual(await names(ALL, { text: 'http' }), ['acme/web']);
      assert.deepEqual(await names(ALL, { text: 'postgresql' }), ['acme/db']);
      assert.deepEqual(await names(ALL, { text: 'red hat' }), ['beta/tool']);
      assert.deepEqual(await names(ALL, { text: '%' }), ['beta/percent']);
      assert.deepEqual(await names(ALL, { text: '_' }), []);
      assert.equal((await index.search(ALL, query({ text: 'e' }))).total, 4);
    });

    it('filters by namespace, grade, signature, OS, architecture and push age, and sorts and pages', async () => {
      await repository('acme/a', { grade: 'B', signed: true, pushedAt: T0 - 10 * 86_400_000, os: ['linux'], arch: ['amd64', 'arm64'] });
      await repository('acme/b', { grade: 'A', signed: false, pushedAt: T0, os: ['windows'], arch: ['amd64'] });
      await repository('beta/c', { grade: null, signed: null, latestTag: null, latestDigest: null, pushedAt: null, os: [], arch: [] });
      await repository('beta/d', { grade: 'A', signed: true, pushedAt: T0 - 86_400_000, os: ['linux'], arch: ['s390x'] });
      assert.deepEqual(await names(ALL, { namespace: 'acme' }), ['acme/a', 'acme/b']);
      assert.deepEqual(await names(ALL, { grade: 'A' }), ['acme/b', 'beta/d']);
      assert.deepEqual(await names(ALL, { signed: 'yes' }), ['acme/a', 'beta/d']);
      assert.deepEqual(await names(ALL, { signed: 'no' }), ['acme/b', 'beta/c']);
      assert.deepEqual(await names(ALL, { os: 'linux' }), ['acme/a', 'beta/d']);
      assert.deepEqual(await names(ALL, { os: 'lin' }), []);
      assert.deepEqual(await names(ALL, { arch: 'arm64' }), ['acme/a']);
      assert.deepEqual(await names(ALL, { pushedSince: T0 - 2 * 86_400_000 }), ['acme/b', 'beta/d']);
      assert.deepEqual(await names(ALL, { sort: 'pushed' }), ['acme/b', 'beta/d', 'acme/a', 'beta/c']);
      assert.deepEqual(await names(ALL, { sort: 'grade' }), ['acme/b', 'beta/d', 'acme/a', 'beta/c']);
      const second = await index.search(ALL, query({ limit: 3, offset: 3 }));
      assert.deepEqual({ total: second.total, names: second.hits.map((hit) => hit.repository) }, { total: 4, names: ['beta/d'] });
      assert.ok(second.hits.every((hit) => hit.updatedAt > 0));
      const menus = await index.search(ALL, query({ namespace: 'acme' }));
      assert.deepEqual({ namespaces: menus.namespaces, os: menus.os, arch: menus.arch }, { namespaces: ['acme', 'beta'], os: ['linux', 'windows'], arch: ['amd64', 'arm64', 's390x'] });
    });

    it('applies the read rule in SQL: private repositories are never shown or counted for outsiders', async () => {
      const accounts = stores.accounts(sql);
      const alice = await accounts.createAccount({ name: 'alice', kind: 'user', passwordHash: null });
      const bob = await accounts.createAccount({ name: 'bob', kind: 'user', passwordHash: null });
      await repository('alice/secret', { description: 'needle' }, 'private');
      await repository('alice/open', { description: 'needle' }, 'public');
      await repository('hidden/thing', { description: 'needle' }, 'private');
      const outsider: ReadScope = { accountId: bob.id, includePublic: true, all: false };
      const owner: ReadScope = { accountId: alice.id, includePublic: true, all: false };
      for (const scope of [outsider, ANONYMOUS]) {
        const found = await index.search(scope, query({ text: 'needle' }));
        assert.deepEqual({ total: found.total, names: found.hits.map((hit) => hit.repository), namespaces: found.namespaces }, { total: 1, names: ['alice/open'], namespaces: ['alice'] });
        assert.equal((await index.search(scope, query({ namespace: 'hidden' }))).total, 0);
      }
      assert.deepEqual(await names(owner, { text: 'needle' }), ['alice/open', 'alice/secret']);
      const repo = await stores.repositoryAccess(sql).findRepository('hidden/thing');
      await stores.repositoryAccess(sql).setPermission(repo!.id, { kind: 'account', id: bob.id }, 'read');
      assert.deepEqual(await names(outsider, { text: 'needle' }), ['alice/open', 'hidden/thing']);
      assert.deepEqual(await names(ALL, { text: 'needle' }), ['alice/open', 'alice/secret', 'hidden/thing']);
    });

    it('ignores a row whose repository holds nothing or does not exist', async () => {
      await repository('acme/kept');
      await index.put(row('acme/ghost'));
      await stores.metadata(sql).linkBlob('acme/emptied', DIGEST, 10, T0);
      await index.put(row('acme/emptied'));
      await stores.metadata(sql).unlinkBlob('acme/emptied', DIGEST);
      const found = await index.search(ALL, query());
      assert.deepEqual({ total: found.total, names: found.hits.map((hit) => hit.repository) }, { total: 1, names: ['acme/kept'] });
    });
  });
}
