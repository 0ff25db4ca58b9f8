// Which sources the updater fetches: `--source` / vulndb.sources as written, and in the
// registry only what the stored images need (no Alpine data without an Alpine image).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSourceSpec } from '../src/scan/feeds/feed-updater.ts';
import { neededSources } from '../src/scan/feeds/update-job.ts';
import { retryAfterMs } from '../src/scan/feeds/polite-http.ts';
import type { OsRelease } from '../src/core/quality.ts';

function os(id: string, versionId: string, name = id): OsRelease {
  return { id, idLike: [], versionId, versionCodename: null, name, prettyName: null, cpe: null, source: 'etc/os-release' };
}

describe('advisory sources', () => {
  it('parses NAME[:PART,...][=BASE_URL] and refuses what is not a source', () => {
    assert.deepEqual(parseSourceSpec('debian'), { name: 'debian' });
    assert.deepEqual(parseSourceSpec('osv:npm,PyPI=http://127.0.0.1:8080/osv/'), { name: 'osv', parts: ['npm', 'PyPI'], baseUrl: 'http://127.0.0.1:8080/osv' });
    assert.deepEqual(parseSourceSpec('alpine:v3.19'), { name: 'alpine', parts: ['v3.19'] });
    assert.throws(() => parseSourceSpec('nvd'), /NAME one of redhat-csaf, redhat-vex, debian, alpine, osv/);
    assert.throws(() => parseSourceSpec('debian=ftp://mirror'), /must be http/);
  });

  it('needs: only the sources stored images need, Alpine releases and OSV ecosystems by image', () => {
    const needs = {
      oses: [os('debian', '12'), os('alpine', '3.19.1'), os('alpine', '3.20.0'), os('rhel', '9.4'), os('centos', '9', 'CentOS Stream'), os('ubuntu', '22.04')],
      ecosystems: ['deb' as const, 'apk' as const, 'npm' as const, 'golang' as const],
    };
    assert.deepEqual(neededSources(needs, null), [
      { name: 'debian' },
      { name: 'alpine', parts: ['v3.19', 'v3.20'] },
      { name: 'redhat-csaf' },
      { name: 'redhat-vex' },
      { name: 'osv', parts: ['Go', 'Ubuntu', 'npm'] },
    ]);
    // Configured: only those, at their base URLs; explicit parts win.
    assert.deepEqual(neededSources(needs, [{ name: 'debian', baseUrl: 'http://m/debian' }, { name: 'osv', baseUrl: 'http://m/osv', parts: ['npm'] }]), [
      { name: 'debian', baseUrl: 'http://m/debian' },
      { name: 'osv', baseUrl: 'http://m/osv', parts: ['npm'] },
    ]);
    assert.deepEqual(neededSources({ oses: [], ecosystems: [] }, null), []);
  });

  it('Retry-After: seconds or an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2026, 0, 1)), 10_000);
    assert.equal(retryAfterMs(null), null);
    assert.equal(retryAfterMs('soon'), null);
  });
});
