// Pure parts of the registry client: WWW-Authenticate challenges, Link pagination,
// scopes, Retry-After and the OCI error envelope.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryClient, nextLink, normalizeScopes, parseErrorEnvelope, parseWwwAuthenticate, scopeKey } from '../src/client/registry-client/index.ts';
import { errorFromResponse } from '../src/client/registry-client/errors.ts';
import { backoffDelay, parseRetryAfter, retryPolicy } from '../src/client/registry-client/retry.ts';

test('WWW-Authenticate: Bearer with quoted commas, escapes, several challenges', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push repository:c:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push repository:c:pull' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="r",error="insufficient_scope", scope="repository:x:push"'), [
    { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope', scope: 'repository:x:push' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry \\"Realm\\", inc"'), [{ scheme: 'basic', params: { realm: 'Registry "Realm", inc' } }]);
  assert.deepEqual(parseWwwAuthenticate('Basic realm="a", Bearer realm="b",service=s'), [
    { scheme: 'basic', params: { realm: 'a' } },
    { scheme: 'bearer', params: { realm: 'b', service: 's' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(['Negotiate', 'BASIC  REALM=x']), [
    { scheme: 'negotiate', params: {} },
    { scheme: 'basic', params: { realm: 'x' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
});

test('Link: rel="next", relative and absolute', () => {
  const base = new URL('https://r.example/v2/a/tags/list?n=3');
  assert.equal(nextLink('</v2/a/tags/list?n=3&last=c>; rel="next"', base)?.href, 'https://r.example/v2/a/tags/list?n=3&last=c');
  assert.equal(nextLink('<https://other.example/x?last=z>; rel=next', base)?.href, 'https://other.example/x?last=z');
  assert.equal(nextLink('</prev>; rel="prev", </next>; rel="next"', base)?.href, 'https://r.example/next');
  assert.equal(nextLink('</self>; rel="self"', base), undefined);
  assert.equal(nextLink(undefined, base), undefined);
});

test('scopes merge per resource and key independently of order', () => {
  assert.deepEqual(normalizeScopes(['repository:b:pull', 'repository:a:push', 'repository:a:pull']), ['repository:a:pull,push', 'repository:b:pull']);
  assert.equal(scopeKey(['repository:a:pull repository:b:pull']), scopeKey(['repository:b:pull', 'repository:a:pull']));
  assert.deepEqual(normalizeScopes(['registry:catalog:*']), ['registry:catalog:*']);
});

test('Retry-After and backoff', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString(), Date.now()) ! > 8000, true);
  assert.equal(parseRetryAfter('soon'), undefined);
  const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
  for (let attempt = 1; attempt <= 6; attempt++) {
    const delay = backoffDelay(policy, attempt);
    const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1));
    assert.ok(delay >= ceiling / 4 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
  }
  assert.equal(backoffDelay(policy, 1, 60_000), 1000, 'Retry-After is bounded');
});

test('error envelopes become typed errors with the registry code and message', () => {
  const body = Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: 'x' } }] }));
  assert.deepEqual(parseErrorEnvelope(body), [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: 'x' } }]);
  const error = errorFromResponse('get manifest a:x', 404, body);
  assert.equal(error.code, 'MANIFEST_UNKNOWN');
  assert.equal(error.status, 404);
  assert.equal(error.message, 'get manifest a:x: manifest_unknown: manifest unknown');
  const bare = errorFromResponse('get blob', 502, Buffer.from('<html>bad gateway</html>'));
  assert.equal(bare.code, 'UNEXPECTED_STATUS');
  assert.match(bare.message, /HTTP status 502/);
  assert.equal(errorFromResponse('x', 429, Buffer.alloc(0)).code, 'TOOMANYREQUESTS');
});

test('the base URL: https by default, http when insecure, explicit schemes kept', () => {
  assert.equal(new RegistryClient({ registry: 'r.example:5000' }).base.href, 'https://r.example:5000/');
  assert.equal(new RegistryClient({ registry: 'localhost:5000', insecure: true }).base.href, 'http://localhost:5000/');
  assert.equal(new RegistryClient({ registry: 'http://127.0.0.1:1' }).host, '127.0.0.1:1');
});
