// The one error model: stores and the domain throw typed domain errors (no HTTP in them),
// and the one table (DOMAIN_ERROR_CODES) turns each into the OCI code and status clients
// have always been answered with. Checked on the wire, through the one place that writes
// the envelope, against the RegistryError each site threw before: same status, headers
// and bytes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Conflict,
  DomainError,
  InvalidInput,
  LimitReached,
  NotFound,
  RegistryError,
  TooLarge,
  UploadRangeInvalid,
  ociError,
} from '../src/core/errors.ts';
import { writeError } from '../src/server/error-response.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** Each typed error beside the RegistryError its site threw before this model. */
const CASES: ReadonlyArray<readonly [string, DomainError, RegistryError]> = [
  ['blob not found', new NotFound('blob', `blob ${DIGEST} is not in repository r`, { detail: { digest: DIGEST } }), new RegistryError('BLOB_UNKNOWN', `blob ${DIGEST} is not in repository r`, { detail: { digest: DIGEST } })],
  ['upload not found', new NotFound('upload', 'malformed upload id'), new RegistryError('BLOB_UPLOAD_UNKNOWN', 'malformed upload id')],
  ['manifest not found', new NotFound('manifest', 'manifest v1 is not in repository r', { detail: { name: 'r', reference: 'v1' } }), new RegistryError('MANIFEST_UNKNOWN', 'manifest v1 is not in repository r', { detail: { name: 'r', reference: 'v1' } })],
  ['repository not found', new NotFound('repository', 'repository r is not known to the registry', { detail: { name: 'r' } }), new RegistryError('NAME_UNKNOWN', 'repository r is not known to the registry', { detail: { name: 'r' } })],
  ['reference not found', new NotFound('manifest-reference', `manifest references blob ${DIGEST} which is not in repository r`, { detail: { digest: DIGEST } }), new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references blob ${DIGEST} which is not in repository r`, { detail: { digest: DIGEST } })],
  ['account not found', new NotFound('account', 'account not found'), new RegistryError('NOT_FOUND', 'account not found')],
  ['team not found', new NotFound('team', 'team not found'), new RegistryError('NOT_FOUND', 'team not found')],
  ['name taken', new Conflict('account', 'the name "x" is taken', { detail: { reason: 'unowned-repositories' } }), new RegistryError('CONFLICT', 'the name "x" is taken', { detail: { reason: 'unowned-repositories' } })],
  ['signature clash', new Conflict('signature', 'a different signature named s exists'), new RegistryError('CONFLICT', 'a different signature named s exists')],
  ['text with NUL', new InvalidInput('text', 'text containing a NUL character cannot be stored or looked up'), new RegistryError('INVALID_REQUEST', 'text containing a NUL character cannot be stored or looked up')],
  ['digest mismatch', new InvalidInput('digest', 'upload content has digest x, not y', { detail: { expected: 'y', actual: 'x' } }), new RegistryError('DIGEST_INVALID', 'upload content has digest x, not y', { detail: { expected: 'y', actual: 'x' } })],
  ['manifest descriptor', new InvalidInput('manifest', 'descriptor for x says 1 bytes, the blob has 2'), new RegistryError('MANIFEST_INVALID', 'descriptor for x says 1 bytes, the blob has 2')],
  ['page size', new InvalidInput('page-size', 'invalid page size -1'), new RegistryError('PAGINATION_NUMBER_INVALID', 'invalid page size -1')],
  ['upload offset', new InvalidInput('upload', 'upload u holds 3 bytes, expected 5'), new RegistryError('BLOB_UPLOAD_INVALID', 'upload u holds 3 bytes, expected 5')],
  ['blob over the limit', new TooLarge('upload', 'upload exceeds the 10-byte limit'), new RegistryError('SIZE_INVALID', 'upload exceeds the 10-byte limit', { status: 413 })],
  ['manifest over the limit', new TooLarge('manifest', 'manifest is 9 bytes, over the 8-byte limit'), new RegistryError('MANIFEST_INVALID', 'manifest is 9 bytes, over the 8-byte limit', { status: 413 })],
  ['signature limit', new LimitReached('signature', 'manifest x already has 256 signatures'), new RegistryError('DENIED', 'manifest x already has 256 signatures')],
  [
    'chunk out of order',
    new UploadRangeInvalid('chunk starts at 9 but the upload holds 5 bytes', { repository: 'team/app', id: 'u-1', size: 5 }),
    new RegistryError('BLOB_UPLOAD_INVALID', 'chunk starts at 9 but the upload holds 5 bytes', { status: 416, headers: { Range: '0-4', Location: '/v2/team/app/blobs/uploads/u-1' } }),
  ],
];

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

describe('the error model', () => {
  let server: Server;
  let base: string;
  const thrown = new Map<string, unknown>();

  before(async () => {
    server = createServer((request, response) => {
      writeError(response, thrown.get(request.url ?? ''), request.method);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function answer(error: unknown): Promise<Answer> {
    const path = `/${thrown.size}`;
    thrown.set(path, error);
    const response = await fetch(`${base}${path}`);
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'content-length', 'range', 'location']) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { status: response.status, headers, body: await response.text() };
  }

  for (const [what, domain, before] of CASES) {
    it(`${what}: answered exactly as before (${before.code}, ${before.status})`, async () => {
      assert.deepEqual(await answer(domain), await answer(before));
    });
  }

  it('domain errors carry no HTTP: no status, no headers; the table alone gives the code', () => {
    for (const [, domain, before] of CASES) {
      assert.equal('status' in domain, false);
      assert.equal('headers' in domain, false);
      const typed = ociError(domain);
      assert.ok(typed);
      assert.deepEqual([typed.code, typed.status, typed.message, typed.detail], [before.code, before.status, before.message, before.detail]);
    }
  });

  it('an untyped error is an internal one: 500, and its message is not shown', async () => {
    assert.equal(ociError(new Error('secret detail')), null);
    const internal = await answer(new Error('secret detail'));
    assert.equal(internal.status, 500);
    assert.doesNotMatch(internal.body, /secret detail/);
  });
});
