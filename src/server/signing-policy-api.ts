// Signing policies and signature status over HTTP:
//   GET|PUT|DELETE /api/v1/repositories/{name}/-/signing-policy
//   GET|PUT|DELETE /api/v1/organizations/{namespace}/signing-policy   (an organization or a user's namespace)
//   GET            /api/v1/repositories/{name}/-/manifests/{digest}/signatures
// A policy is changed by an administrator of the repository or namespace (it decides what
// everyone may pull); a repository's policy and signature status are readable by whoever
// may pull from it (what is required is no secret to those it binds). PUT takes
// {"mode": "pull" | "pull,tag", "keys": ["-----BEGIN PUBLIC KEY-----…" | "-----BEGIN CERTIFICATE-----…"]}
// (a certificate is a notation trust anchor).
import { sendJson, decodePathPart } from './json-response.ts';
import { RegistryError } from '../core/errors.ts';
import { isDigest } from '../core/digest.ts';
import { validateRepositoryName } from '../core/names.ts';
import type { Principal } from '../core/identity.ts';
import { actorOf, type ActionRecorder } from '../audit/action.ts';
import type { SigningPolicyRecord, SigningPolicyScope } from '../metadata/signing-policy-store.ts';
import type { RegistrySigningPolicy, SigningPolicyInput } from '../trust/registry-signing-policy.ts';
import type { SecurityServices } from './security.ts';
import { routeTable, type RouteCall, type RouteHandler, type RouteMatch, type RouteTable } from './route-table.ts';
import { apiPrincipal, requestContext } from './request-auth.ts';
import { checkApiRequest } from './api-request-guard.ts';
import { readJsonBody } from './management-api.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';
import type { ApiOperation } from './api-operations.ts';

/** The routes this module serves, for the OpenAPI document. */
export const SIGNING_POLICY_OPERATIONS: readonly ApiOperation[] = [
  { operationId: 'getRepositorySigningPolicy', method: 'GET', path: '/api/v1/repositories/{repository}/-/signing-policy', tag: 'signing', summary: "A repository's signing policy (readers)", anonymous: true },
  { operationId: 'setRepositorySigningPolicy', method: 'PUT', path: '/api/v1/repositories/{repository}/-/signing-policy', tag: 'signing', summary: 'Set a repository signing policy: {"mode": "pull" | "pull,tag", "keys": [PEM…]} (admins)', body: true },
  { operationId: 'deleteRepositorySigningPolicy', method: 'DELETE', path: '/api/v1/repositories/{repository}/-/signing-policy', tag: 'signing', summary: 'Remove a repository signing policy (admins)', status: 204 },
  { operationId: 'getNamespaceSigningPolicy', method: 'GET', path: '/api/v1/organizations/{namespace}/signing-policy', tag: 'signing', summary: "A namespace's signing policy (its administrators)" },
  { operationId: 'setNamespaceSigningPolicy', method: 'PUT', path: '/api/v1/organizations/{namespace}/signing-policy', tag: 'signing', summary: 'Set the signing policy of every repository in a namespace (its administrators)', body: true },
  { operationId: 'deleteNamespaceSigningPolicy', method: 'DELETE', path: '/api/v1/organizations/{namespace}/signing-policy', tag: 'signing', summary: 'Remove a namespace signing policy (its administrators)', status: 204 },
  { operationId: 'getManifestSignatures', method: 'GET', path: '/api/v1/repositories/{repository}/-/manifests/{digest}/signatures', tag: 'signing', summary: 'Signatures found for a manifest, each verified against the applicable policies', anonymous: true },
];

const REPOSITORY_POLICY = /^\/api\/v1\/repositories\/(.+)\/-\/signing-policy$/;
const NAMESPACE_POLICY = /^\/api\/v1\/organizations\/([^/]+)\/signing-policy$/;
const SIGNATURES = /^\/api\/v1\/repositories\/(.+)\/-\/manifests\/([^/]+)\/signatures$/;
const NO_STORE = { cacheControl: 'no-store' } as const;

export class SigningPolicyApi implements RouteTable {
  readonly area = 'signing-policy';
  private readonly table: RouteTable;
  private readonly policy: RegistrySigningPolicy;
  private readonly security: SecurityServices | undefined;
  private readonly actions: ActionRecorder;

  constructor(policy: RegistrySigningPolicy, security: SecurityServices | undefined, actions: ActionRecorder = { record: () => {} }) {
    this.policy = policy;
    this.security = security;
    this.actions = actions;
    const policyMethods = (scope: SigningPolicyScope): Record<string, RouteHandler> => {
      const handle = (call: RouteCall): Promise<void> => this.signingPolicy(call, scope);
      return { GET: handle, HEAD: handle, PUT: handle, DELETE: handle };
    };
    const signatures = (call: RouteCall): Promise<void> => this.signatures(call);
    this.table = routeTable(this.area, [
      { name: 'api_manifest_signatures', path: SIGNATURES, methods: { GET: signatures, HEAD: signatures } },
      { name: 'api_signing_policy_repository', path: REPOSITORY_POLICY, methods: policyMethods('repository') },
      { name: 'api_signing_policy_namespace', path: NAMESPACE_POLICY, methods: policyMethods('namespace') },
    ]);
  }

  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
    return this.table.match(request, response, path, query);
  }

  private async signatures({ request, response, method, params: [rawName, rawDigest] }: RouteCall): Promise<void> {
    request.resume();
    const repository = validateRepositoryName(decodePathPart(rawName!));
    const digest = decodePathPart(rawDigest!);
    if (!isDigest(digest)) throw new RegistryError('INVALID_REQUEST', `"${digest.slice(0, 80)}" is not a manifest digest`);
    await this.authorizeRepository(request, repository, 'read');
    // Only manifests of this repository: reading one repository says nothing of others.
    await this.policy.manifestIn(repository, digest);
    const status = await this.policy.signatures(repository, digest);
    sendJson(response, method, 200, {
      repository,
      digest,
      signed: status.signatures.length > 0,
      satisfied: status.satisfied,
      policies: status.policies.map(policyView),
      signatures: status.signatures,
    }, NO_STORE);
  }

  private async signingPolicy({ request, response, method, params: [rawName] }: RouteCall, scope: SigningPolicyScope): Promise<void> {
    if (method !== 'PUT') request.resume();
    const name = decodePathPart(rawName!);
    if (scope === 'repository') validateRepositoryName(name);
    else if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) throw new RegistryError('INVALID_REQUEST', `"${name.slice(0, 80)}" is not a namespace name`);
    const principal = scope === 'repository' ? await this.authorizeRepository(request, name, method === 'GET' || method === 'HEAD' ? 'read' : 'admin') : await this.authorizeNamespace(request, name);
    const label = scope === 'repository' ? name : `namespace ${name}`;
    if (method === 'GET' || method === 'HEAD') {
      const policy = await this.policy.getPolicy(scope, name);
      if (!policy) throw new RegistryError('NOT_FOUND', `${label} has no signing policy`);
      return sendJson(response, method, 200, policyView(policy), NO_STORE);
    }
    if (method === 'DELETE') {
      if (!(await this.policy.deletePolicy(scope, name))) throw new RegistryError('NOT_FOUND', `${label} has no signing policy`);
      this.record(request, principal, scope, name, { signingPolicy: 'removed' });
      response.statusCode = 204;
      response.end();
      return;
    }
    const body = await readJsonBody(request);
    const saved = await this.policy.setPolicy(scope, name, policyInput(body), principal?.kind === 'account' ? principal.account.name : null);
    this.record(request, principal, scope, name, { signingPolicy: 'set', mode: saved.mode, keys: saved.keys.map((key) => key.id) });
    sendJson(response, method, 200, policyView(saved), NO_STORE);
  }

  private record(request: HttpRequest, principal: Principal | null, scope: SigningPolicyScope, name: string, detail: Record<string, unknown>): void {
    const { ip, userAgent } = requestContext(request);
    this.actions.record({
      // A signing policy is a repository (or namespace-wide repository) setting.
      kind: 'repository',
      result: 'success',
      actor: principal ? actorOf(principal) : { kind: 'anonymous' },
      ip,
      userAgent,
      ...(scope === 'repository' ? { repository: name } : { namespace: name }),
      detail,
    });
  }

  /** The caller, when its role on the repository is at least `need`; null with authentication off. */
  private async authorizeRepository(request: HttpRequest, repository: string, need: 'read' | 'admin'): Promise<Principal | null> {
    if (this.security === undefined) return openAccess(request);
    const principal = await apiPrincipal(this.security, request);
    const { role, exists } = await this.security.access.access(principal, repository);
    // A policy may be set before the first push (whoever may create the repository is its
    // admin); reading needs the repository to exist, as pulling does.
    const sufficient = need === 'admin' ? role === 'admin' : role !== null && exists;
    if (sufficient) return principal;
    if (principal.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required');
    throw new RegistryError('DENIED', `${need} access to ${repository} is required`);
  }

  /** The caller, when it administers the namespace: the user itself, an admin team of the
   * organization, or a superuser. */
  private async authorizeNamespace(request: HttpRequest, namespace: string): Promise<Principal | null> {
    if (this.security === undefined) return openAccess(request);
    const principal = await apiPrincipal(this.security, request);
    if (principal.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required');
    const account = principal.account;
    const refuse = (): RegistryError => new RegistryError('DENIED', `only an administrator of namespace "${namespace}" may manage its signing policy`);
    if (account.kind === 'robot' && !account.superuser) throw refuse();
    const owner = await this.security.identity.findAccount(namespace);
    if (account.superuser) {
      if (!owner || owner.kind === 'robot') throw new RegistryError('NOT_FOUND', `namespace "${namespace}" not found`);
      return principal;
    }
    if (!owner || owner.kind === 'robot') throw refuse();
    if (owner.kind === 'user' && owner.id === account.id) return principal;
    if (owner.kind === 'organization') {
      const teams = await this.security.identity.teamsOf(account.id);
      if (teams.some((team) => team.organizationId === owner.id && team.role === 'admin')) return principal;
    }
    throw refuse();
  }
}

function policyInput(body: unknown): SigningPolicyInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RegistryError('INVALID_REQUEST', 'expected {"mode": "pull" | "pull,tag", "keys": [PEM, …]}');
  const { mode, keys, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new RegistryError('INVALID_REQUEST', `unknown field "${unknown[0]!.slice(0, 40)}" (expected mode, keys)`);
  if (!Array.isArray(keys)) throw new RegistryError('INVALID_REQUEST', 'keys must be an array of PEM public keys');
  return { mode: (mode ?? 'pull') as SigningPolicyInput['mode'], keys: keys as string[] };
}

function policyView(policy: SigningPolicyRecord): Record<string, unknown> {
  return {
    scope: policy.scope,
    name: policy.name,
    mode: policy.mode,
    keys: policy.keys.map((key) => ({ id: key.id, format: key.format, publicKey: key.publicKey })),
    revision: policy.revision,
    updatedBy: policy.updatedBy,
    updatedAt: new Date(policy.updatedAt).toISOString(),
  };
}

/** Authentication disabled: everything is allowed, but still not from another site. */
function openAccess(request: HttpRequest): null {
  checkApiRequest(request, undefined);
  return null;
}
