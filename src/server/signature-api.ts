// The registry signature extension (what OpenShift's integrated registry and Quay serve,
// and what containers/image uses when /v2/ answers `X-Registry-Supports-Signatures: 1`):
//   GET /extensions/v2/<name>/signatures/<digest>
//     → 200 {"signatures":[{"schemaVersion":2,"type":"atomic","name":"<digest>@<id>","content":"<base64>"}]}
//   PUT /extensions/v2/<name>/signatures/<digest>   body: one such signature object
//     → 201 (also 201 when the same content is already stored: clients re-send on every copy)
// GET needs pull on the repository, PUT needs push; the manifest must be in the
// repository. The registry cannot judge trust (it has no keyring), but it refuses what
// is not a simple signing signature for this very manifest, so the store holds no junk.
import { sendJson, decodePathPart } from './json-response.ts';
import { randomBytes } from 'node:crypto';
import { RegistryError } from '../core/errors.ts';
import { isDigest } from '../core/digest.ts';
import { validateRepositoryName } from '../core/names.ts';
import { actorOf, type ActionRecorder } from '../audit/action.ts';
import type { SignatureStore } from '../metadata/signature-store.ts';
import { readUnverifiedMessage } from '../trust/gpg/verify.ts';
import { parseSimpleSigningPayload } from '../trust/gpg/simple-signing.ts';
import { bodyTooLarge, readLimitedBody } from './request-body.ts';
import { routeTable, type RouteCall, type RouteMatch, type RouteTable } from './route-table.ts';
import type { RegistryGate } from './registry-gate.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';

const PATH = /^\/extensions\/v2\/(.+)\/signatures\/([^/]+)$/;

/** containers/image's extensionSignatureSchemaVersion and extensionSignatureTypeAtomic. */
export const EXTENSION_SCHEMA_VERSION = 2;
export const EXTENSION_TYPE_ATOMIC = 'atomic';

const MAX_SIGNATURE_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 4 * MAX_SIGNATURE_BYTES;
const NAME_SUFFIX = /^[A-Za-z0-9._-]{1,128}$/;

export interface ExtensionSignature {
  readonly schemaVersion: number;
  readonly type: string;
  readonly name: string;
  /** base64 (Go's []byte JSON encoding). */
  readonly content: string;
}

export class SignatureApi implements RouteTable {
  readonly area = 'signatures';
  private readonly table: RouteTable;
  private readonly store: SignatureStore;
  private readonly gate: RegistryGate;
  private readonly actions: ActionRecorder;

  constructor(store: SignatureStore, gate: RegistryGate, actions: ActionRecorder) {
    this.store = store;
    this.gate = gate;
    this.actions = actions;
    const serve = (call: RouteCall): Promise<void> => this.serve(call);
    this.table = routeTable(this.area, [{ name: 'signatures', path: PATH, methods: { GET: serve, HEAD: serve, PUT: serve } }]);
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  private async serve({ request, response, method, params: found }: RouteCall): Promise<void> {
    let repository: string;
    let digest: string;
    try {
      repository = validateRepositoryName(decodePathPart(found[0]!));
      digest = decodePathPart(found[1]!);
    } catch (error) {
      request.resume();
      throw error;
    }
    if (!isDigest(digest)) {
      request.resume();
      throw new RegistryError('DIGEST_INVALID', `"${digest.slice(0, 80)}" is not a manifest digest`);
    }
    let caller;
    try {
      caller = await this.gate.authorize(request, { kind: 'repository', repository, actions: method === 'PUT' ? ['pull', 'push'] : ['pull'] });
    } catch (error) {
      request.resume();
      throw error;
    }
    if (method !== 'PUT') {
      request.resume();
      const signatures = await this.store.list(repository, digest);
      const body: { signatures: ExtensionSignature[] } = {
        signatures: signatures.map((signature) => ({
          schemaVersion: EXTENSION_SCHEMA_VERSION,
          type: EXTENSION_TYPE_ATOMIC,
          name: signature.name,
          content: signature.content.toString('base64'),
        })),
      };
      sendJson(response, method, 200, body);
      return;
    }
    const raw = await readLimitedBody(request, MAX_BODY_BYTES, bodyTooLarge('the signature body', MAX_BODY_BYTES));
    const incoming = await parsePutBody(raw, digest);
    let created = 0;
    for (const signature of incoming) {
      const result = await this.store.add(repository, digest, { name: signature.name, kind: 'simple-signing', content: signature.content });
      if (result.created) {
        created += 1;
        this.actions.record({
          kind: 'push',
          result: 'success',
          actor: actorOf(caller.principal),
          ip: caller.ip,
          userAgent: caller.userAgent,
          repository,
          digest,
          detail: { object: 'signature', name: result.name, format: 'simple-signing' },
        });
      }
    }
    response.setHeader('Content-Length', 0);
    response.setHeader('X-Signatures-Created', String(created));
    response.writeHead(201);
    response.end();
  }
}

/** One signature object (what containers/image PUTs), or {"signatures":[…]} for several. */
async function parsePutBody(raw: Buffer, digest: string): Promise<{ name: string; content: Buffer }[]> {
  let document: unknown;
  try {
    document = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RegistryError('INVALID_REQUEST', 'the signature body is not JSON');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new RegistryError('INVALID_REQUEST', 'the signature body is not a JSON object');
  const list = (document as { signatures?: unknown }).signatures;
  const items: unknown[] = Array.isArray(list) ? list : [document];
  if (items.length === 0 || items.length > 16) throw new RegistryError('INVALID_REQUEST', 'send between 1 and 16 signatures at a time');
  return Promise.all(items.map((item) => parseOne(item, digest)));
}

async function parseOne(item: unknown, digest: string): Promise<{ name: string; content: Buffer }> {
  if (typeof item !== 'object' || item === null) throw new RegistryError('INVALID_REQUEST', 'a signature is not a JSON object');
  const { schemaVersion, type, name, content } = item as Partial<Record<keyof ExtensionSignature, unknown>>;
  if (schemaVersion !== EXTENSION_SCHEMA_VERSION) throw new RegistryError('INVALID_REQUEST', `signature schemaVersion must be ${EXTENSION_SCHEMA_VERSION}`);
  if (type !== EXTENSION_TYPE_ATOMIC) throw new RegistryError('INVALID_REQUEST', `signature type must be "${EXTENSION_TYPE_ATOMIC}"`);
  let signatureName: string;
  if (name === undefined || name === '') {
    signatureName = `${digest}@${randomBytes(16).toString('hex')}`;
  } else {
    if (typeof name !== 'string' || !name.startsWith(`${digest}@`) || !NAME_SUFFIX.test(name.slice(digest.length + 1))) {
      throw new RegistryError('INVALID_REQUEST', `signature name must be "${digest}@<id>"`);
    }
    signatureName = name;
  }
  if (typeof content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw new RegistryError('INVALID_REQUEST', 'signature content must be base64');
  const bytes = Buffer.from(content, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_SIGNATURE_BYTES) throw new RegistryError('INVALID_REQUEST', `signature content must be 1 to ${MAX_SIGNATURE_BYTES} bytes`);
  let signedDigest: string;
  try {
    const message = await readUnverifiedMessage(bytes);
    signedDigest = parseSimpleSigningPayload(message.content).critical.image['docker-manifest-digest'];
  } catch (error) {
    throw new RegistryError('INVALID_REQUEST', `not a simple signing signature: ${(error as Error).message}`);
  }
  if (signedDigest !== digest) throw new RegistryError('INVALID_REQUEST', `the signature is for ${signedDigest}, not ${digest}`);
  return { name: signatureName, content: bytes };
}

