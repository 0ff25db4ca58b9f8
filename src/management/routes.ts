// The management API's route table: method, path template, parameters, bodies, and the
// service call. The HTTP layer (server/management-api.ts) matches requests against it and
// the OpenAPI document (server/openapi.ts) is generated from it, so they cannot drift.
//
// Repository names contain slashes, so a repository's sub-resources follow a `/-/`
// separator (a `-` alone is never a repository path component), as GitLab does:
//   /api/v1/repositories/acme/tools/app            the repository acme/tools/app
//   /api/v1/repositories/acme/tools/app/-/access   who can do what on it
// A grantee is the path's tail: users and robots by name, teams as ORG/TEAM.
import { RegistryError } from '../core/errors.ts';
import type { Role } from '../core/identity.ts';
import type { Caller, GranteeInput, ManagementService } from './management-service.ts';
import { sessionRoutes } from './session-routes.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { lifecycleRoutes } from './lifecycle-routes.ts';
import type { GranteeKind } from './views.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext {
  readonly caller: Caller;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface QueryParameter {
  readonly name: string;
  readonly description: string;
  readonly schema: { readonly [key: string]: unknown };
}

export interface ManagementRoute {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** OpenAPI path template; parameters in braces (see PATH_PARAMETERS). */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  /** False only for the OpenAPI document itself. */
  readonly auth: boolean;
  readonly query?: readonly QueryParameter[];
  /** Name of the request body's schema in SCHEMAS. */
  readonly body?: string;
  readonly status: 200 | 201 | 204;
  /** Name of the response schema in SCHEMAS; `[Name]` for an array of them. */
  readonly response?: string;
  readonly handle: (service: ManagementService, context: RouteContext) => Promise<unknown>;
}

/** How each path parameter is matched and described. */
export const PATH_PARAMETERS: Readonly<Record<string, { readonly pattern: string; readonly description: string; readonly schema?: { readonly [key: string]: unknown } }>> = {
  name: { pattern: '[^/]+', description: 'a user name' },
  org: { pattern: '[^/]+', description: 'an organization name' },
  team: { pattern: '[^/]+', description: 'a team name within the organization' },
  account: { pattern: '[^/]+', description: 'a user or robot (OWNER+SHORTNAME) name' },
  robot: { pattern: '[^/]+', description: 'a robot name, OWNER+SHORTNAME' },
  id: { pattern: '[0-9]+', description: 'a token, session or webhook id', schema: { type: 'integer' } },
  // Any number of components; never a `-` component (which starts a sub-resource).
  repository: { pattern: '(?!-(?:/|$))[^/]+(?:/(?!-(?:/|$))[^/]+)*', description: 'a repository name; its slashes are sent as they are (or as %2F)' },
  kind: { pattern: 'user|robot|team', description: 'the grantee kind', schema: { type: 'string', enum: ['user', 'robot', 'team'] } },
  namespace: { pattern: '[^/]+', description: 'a namespace: a user or organization name' },
  tag: { pattern: '[A-Za-z0-9_][A-Za-z0-9._-]{0,127}', description: 'a tag' },
  grantee: { pattern: '.+', description: 'a user or robot name, or a team as ORG/TEAM (for organization defaults also the team alone); the rest of the path' },
};

const role = (context: RouteContext): Role => (context.body as { role: Role }).role;
const grantee = (context: RouteContext): GranteeInput => ({ kind: context.params.kind as GranteeKind, name: context.params.grantee! });
const p = (context: RouteContext, name: string): string => context.params[name]!;
const body = <T>(context: RouteContext): T => context.body as T;


function pageSize(query: URLSearchParams): number {
  const raw = query.get('n');
  if (raw === null) return 100;
  if (!/^[0-9]{1,4}$/.test(raw)) throw new RegistryError('INVALID_REQUEST', 'n must be an integer from 1 to 1000');
  return Number(raw);
}

export const MANAGEMENT_ROUTES: readonly ManagementRoute[] = [
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/api/v1/openapi.json',
    tag: 'meta',
    summary: 'This API described as OpenAPI 3.1 (no authentication needed)',
    auth: false,
    status: 200,
    // Served by the HTTP layer, which holds the document.
    handle: async () => {
      throw new Error('served by ManagementApi');
    },
  },

  // ---- the caller -------------------------------------------------------------------------
  { operationId: 'getCurrentUser', method: 'GET', path: '/api/v1/user', tag: 'users', summary: 'The calling user (or robot)', auth: true, status: 200, response: 'Whoami', handle: (s, c) => s.whoami(c.caller) },
  {
    operationId: 'updateCurrentUser',
    method: 'PATCH',
    path: '/api/v1/user',
    tag: 'users',
    summary: 'Change your own email or password (the password change needs currentPassword)',
    auth: true,
    body: 'UserChanges',
    status: 200,
    response: 'User',
    handle: async (s, c) => {
      if (c.caller.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED', 'authentication required');
      return s.updateUser(c.caller, c.caller.account.name, body(c));
    },
  },
  { operationId: 'listTokens', method: 'GET', path: '/api/v1/user/tokens', tag: 'tokens', summary: 'Your personal access tokens (never their secrets)', auth: true, status: 200, response: '[Token]', handle: (s, c) => s.listTokens(c.caller) },
  { operationId: 'createToken', method: 'POST', path: '/api/v1/user/tokens', tag: 'tokens', summary: 'Create a personal access token; the response shows it once', auth: true, body: 'NewToken', status: 201, response: 'CreatedToken', handle: (s, c) => s.createToken(c.caller, body(c)) },
  {
    operationId: 'revokeToken',
    method: 'DELETE',
    path: '/api/v1/user/tokens/{id}',
    tag: 'tokens',
    summary: 'Revoke one of your personal access tokens',
    auth: true,
    status: 204,
    handle: (s, c) => s.revokeToken(c.caller, Number(p(c, 'id'))),
  },

  ...sessionRoutes('/api/v1/user', 'your', 'users, not robots', () => ({ kind: 'self' }), ''),

  // ---- users ------------------------------------------------------------------------------
  { operationId: 'listUsers', method: 'GET', path: '/api/v1/users', tag: 'users', summary: 'All users (superusers only)', auth: true, status: 200, response: '[User]', handle: (s, c) => s.listUsers(c.caller) },
  { operationId: 'createUser', method: 'POST', path: '/api/v1/users', tag: 'users', summary: 'Create a user (superusers only)', auth: true, body: 'NewUser', status: 201, response: 'CreatedUser', handle: (s, c) => s.createUser(c.caller, body(c)) },
  { operationId: 'getUser', method: 'GET', path: '/api/v1/users/{name}', tag: 'users', summary: 'A user (yourself, or any for superusers)', auth: true, status: 200, response: 'User', handle: (s, c) => s.getUser(c.caller, p(c, 'name')) },
  {
    operationId: 'updateUser',
    method: 'PATCH',
    path: '/api/v1/users/{name}',
    tag: 'users',
    summary: 'Change a user: email and password (yourself or superusers), superuser and disabled (superusers)',
    auth: true,
    body: 'UserChanges',
    status: 200,
    response: 'User',
    handle: (s, c) => s.updateUser(c.caller, p(c, 'name'), body(c)),
  },
  { operationId: 'deleteUser', method: 'DELETE', path: '/api/v1/users/{name}', tag: 'users', summary: 'Delete a user with its robots and the repositories of its namespace (superusers only)', auth: true, status: 204, handle: (s, c) => s.deleteUser(c.caller, p(c, 'name')) },
  ...sessionRoutes('/api/v1/users/{name}', "a user's", 'that user, or superusers', (c) => ({ kind: 'user', name: p(c, 'name') }), 'User'),
  { operationId: 'listUserRobots', method: 'GET', path: '/api/v1/users/{name}/robots', tag: 'robots', summary: "A user's robots (that user, or superusers)", auth: true, status: 200, response: '[Robot]', handle: (s, c) => s.listRobots(c.caller, p(c, 'name')) },
  {
    operationId: 'createUserRobot',
    method: 'POST',
    path: '/api/v1/users/{name}/robots',
    tag: 'robots',
    summary: 'Create a robot in your namespace; the response shows its token once',
    auth: true,
    body: 'NewRobot',
    status: 201,
    response: 'CreatedRobot',
    handle: (s, c) => s.createRobot(c.caller, p(c, 'name'), body(c)),
  },

  // ---- organizations ----------------------------------------------------------------------
  { operationId: 'listOrganizations', method: 'GET', path: '/api/v1/organizations', tag: 'organizations', summary: 'Organizations you are a member of (all, for superusers)', auth: true, status: 200, response: '[Organization]', handle: (s, c) => s.listOrganizations(c.caller) },
  {
    operationId: 'createOrganization',
    method: 'POST',
    path: '/api/v1/organizations',
    tag: 'organizations',
    summary: 'Create an organization; you become a member of its "owners" team (role admin)',
    auth: true,
    body: 'NewOrganization',
    status: 201,
    response: 'Organization',
    handle: (s, c) => s.createOrganization(c.caller, body(c)),
  },
  { operationId: 'getOrganization', method: 'GET', path: '/api/v1/organizations/{org}', tag: 'organizations', summary: 'An organization (members)', auth: true, status: 200, response: 'Organization', handle: (s, c) => s.getOrganization(c.caller, p(c, 'org')) },
  {
    operationId: 'updateOrganization',
    method: 'PATCH',
    path: '/api/v1/organizations/{org}',
    tag: 'organizations',
    summary: "Change an organization's email or description (organization admins)",
    auth: true,
    body: 'OrganizationChanges',
    status: 200,
    response: 'Organization',
    handle: (s, c) => s.updateOrganization(c.caller, p(c, 'org'), body(c)),
  },
  { operationId: 'deleteOrganization', method: 'DELETE', path: '/api/v1/organizations/{org}', tag: 'organizations', summary: 'Delete an organization with its teams, robots and repositories (organization admins)', auth: true, status: 204, handle: (s, c) => s.deleteOrganization(c.caller, p(c, 'org')) },
  { operationId: 'listTeams', method: 'GET', path: '/api/v1/organizations/{org}/teams', tag: 'teams', summary: "An organization's teams (members)", auth: true, status: 200, response: '[Team]', handle: (s, c) => s.listTeams(c.caller, p(c, 'org')) },
  { operationId: 'createTeam', method: 'POST', path: '/api/v1/organizations/{org}/teams', tag: 'teams', summary: 'Create a team (organization admins)', auth: true, body: 'NewTeam', status: 201, response: 'Team', handle: (s, c) => s.createTeam(c.caller, p(c, 'org'), body(c)) },
  { operationId: 'getTeam', method: 'GET', path: '/api/v1/organizations/{org}/teams/{team}', tag: 'teams', summary: 'A team (members)', auth: true, status: 200, response: 'Team', handle: (s, c) => s.getTeam(c.caller, p(c, 'org'), p(c, 'team')) },
  {
    operationId: 'updateTeam',
    method: 'PATCH',
    path: '/api/v1/organizations/{org}/teams/{team}',
    tag: 'teams',
    summary: "Change a team's role, description or LDAP group (organization admins)",
    auth: true,
    body: 'TeamChanges',
    status: 200,
    response: 'Team',
    handle: (s, c) => s.updateTeam(c.caller, p(c, 'org'), p(c, 'team'), body(c)),
  },
  { operationId: 'deleteTeam', method: 'DELETE', path: '/api/v1/organizations/{org}/teams/{team}', tag: 'teams', summary: 'Delete a team (organization admins)', auth: true, status: 204, handle: (s, c) => s.deleteTeam(c.caller, p(c, 'org'), p(c, 'team')) },
  {
    operationId: 'listTeamMembers',
    method: 'GET',
    path: '/api/v1/organizations/{org}/teams/{team}/members',
    tag: 'teams',
    summary: "A team's members, users and robots (organization members)",
    auth: true,
    status: 200,
    response: '[Member]',
    handle: (s, c) => s.listTeamMembers(c.caller, p(c, 'org'), p(c, 'team')),
  },
  {
    operationId: 'addTeamMember',
    method: 'PUT',
    path: '/api/v1/organizations/{org}/teams/{team}/members/{account}',
    tag: 'teams',
    summary: "Add a user or one of the organization's robots to a team (organization admins)",
    auth: true,
    status: 200,
    response: 'Member',
    handle: async (s, c) => (await s.addTeamMember(c.caller, p(c, 'org'), p(c, 'team'), p(c, 'account'))).member,
  },
  {
    operationId: 'removeTeamMember',
    method: 'DELETE',
    path: '/api/v1/organizations/{org}/teams/{team}/members/{account}',
    tag: 'teams',
    summary: 'Remove a member from a team (organization admins)',
    auth: true,
    status: 204,
    handle: (s, c) => s.removeTeamMember(c.caller, p(c, 'org'), p(c, 'team'), p(c, 'account')),
  },
  { operationId: 'listOrganizationRobots', method: 'GET', path: '/api/v1/organizations/{org}/robots', tag: 'robots', summary: "An organization's robots (organization admins)", auth: true, status: 200, response: '[Robot]', handle: (s, c) => s.listRobots(c.caller, p(c, 'org')) },
  {
    operationId: 'createOrganizationRobot',
    method: 'POST',
    path: '/api/v1/organizations/{org}/robots',
    tag: 'robots',
    summary: 'Create a robot of the organization (organization admins); the response shows its token once',
    auth: true,
    body: 'NewRobot',
    status: 201,
    response: 'CreatedRobot',
    handle: (s, c) => s.createRobot(c.caller, p(c, 'org'), body(c)),
  },
  {
    operationId: 'listDefaultPermissions',
    method: 'GET',
    path: '/api/v1/organizations/{org}/default-permissions',
    tag: 'permissions',
    summary: "The organization's default permissions: roles on all its repositories (organization admins)",
    auth: true,
    status: 200,
    response: '[Permission]',
    handle: (s, c) => s.listDefaultPermissions(c.caller, p(c, 'org')),
  },
  {
    operationId: 'setDefaultPermission',
    method: 'PUT',
    path: '/api/v1/organizations/{org}/default-permissions/{kind}/{grantee}',
    tag: 'permissions',
    summary: 'Set a default permission for a user, robot or team of the organization (organization admins)',
    auth: true,
    body: 'PermissionChange',
    status: 200,
    response: 'Permission',
    handle: (s, c) => s.setDefaultPermission(c.caller, p(c, 'org'), grantee(c), role(c)),
  },
  {
    operationId: 'deleteDefaultPermission',
    method: 'DELETE',
    path: '/api/v1/organizations/{org}/default-permissions/{kind}/{grantee}',
    tag: 'permissions',
    summary: 'Remove a default permission (organization admins)',
    auth: true,
    status: 204,
    handle: (s, c) => s.deleteDefaultPermission(c.caller, p(c, 'org'), grantee(c)),
  },

  // ---- robots -----------------------------------------------------------------------------
  { operationId: 'getRobot', method: 'GET', path: '/api/v1/robots/{robot}', tag: 'robots', summary: 'A robot (its owner, or organization admins)', auth: true, status: 200, response: 'Robot', handle: (s, c) => s.getRobot(c.caller, p(c, 'robot')) },
  { operationId: 'deleteRobot', method: 'DELETE', path: '/api/v1/robots/{robot}', tag: 'robots', summary: 'Delete a robot', auth: true, status: 204, handle: (s, c) => s.deleteRobot(c.caller, p(c, 'robot')) },
  {
    operationId: 'regenerateRobotToken',
    method: 'POST',
    path: '/api/v1/robots/{robot}/token',
    tag: 'robots',
    summary: "Replace a robot's token (the old one stops working); the response shows the new one once",
    auth: true,
    status: 201,
    response: 'CreatedRobot',
    handle: (s, c) => s.regenerateRobotToken(c.caller, p(c, 'robot')),
  },

  ...sessionRoutes('/api/v1/robots/{robot}', "a robot's", 'its owner, or organization admins', (c) => ({ kind: 'robot', name: p(c, 'robot') }), 'Robot'),

  // ---- repositories -----------------------------------------------------------------------
  {
    operationId: 'listRepositories',
    method: 'GET',
    path: '/api/v1/repositories',
    tag: 'repositories',
    summary: 'Repositories you may read that hold content, in name order',
    auth: true,
    query: [
      { name: 'n', description: 'page size, 1 to 1000 (default 100)', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
      { name: 'last', description: "the previous page's `next`", schema: { type: 'string' } },
    ],
    status: 200,
    response: 'RepositoryList',
    handle: (s, c) => s.listRepositories(c.caller, { last: c.query.get('last') ?? undefined, limit: pageSize(c.query) }),
  },
  {
    operationId: 'createRepository',
    method: 'POST',
    path: '/api/v1/repositories',
    tag: 'repositories',
    summary: 'Create an empty repository where you may create one; you administer it',
    auth: true,
    body: 'NewRepository',
    status: 201,
    response: 'Repository',
    handle: (s, c) => s.createRepository(c.caller, body(c)),
  },
  { operationId: 'getRepository', method: 'GET', path: '/api/v1/repositories/{repository}', tag: 'repositories', summary: 'A repository and your role on it (readers)', auth: true, status: 200, response: 'Repository', handle: (s, c) => s.getRepository(c.caller, p(c, 'repository')) },
  {
    operationId: 'updateRepository',
    method: 'PATCH',
    path: '/api/v1/repositories/{repository}',
    tag: 'repositories',
    summary: "Change a repository's visibility or description (repository admins)",
    auth: true,
    body: 'RepositoryChanges',
    status: 200,
    response: 'Repository',
    handle: (s, c) => s.updateRepository(c.caller, p(c, 'repository'), body(c)),
  },
  {
    operationId: 'listPermissions',
    method: 'GET',
    path: '/api/v1/repositories/{repository}/-/permissions',
    tag: 'permissions',
    summary: "A repository's permissions as set (repository admins)",
    auth: true,
    status: 200,
    response: '[Permission]',
    handle: (s, c) => s.listPermissions(c.caller, p(c, 'repository')),
  },
  {
    operationId: 'setPermission',
    method: 'PUT',
    path: '/api/v1/repositories/{repository}/-/permissions/{kind}/{grantee}',
    tag: 'permissions',
    summary: 'Give a user, robot or team of the namespace a role on the repository (repository admins)',
    auth: true,
    body: 'PermissionChange',
    status: 200,
    response: 'Permission',
    handle: (s, c) => s.setPermission(c.caller, p(c, 'repository'), grantee(c), role(c)),
  },
  {
    operationId: 'deletePermission',
    method: 'DELETE',
    path: '/api/v1/repositories/{repository}/-/permissions/{kind}/{grantee}',
    tag: 'permissions',
    summary: 'Remove a permission (repository admins)',
    auth: true,
    status: 204,
    handle: (s, c) => s.deletePermission(c.caller, p(c, 'repository'), grantee(c)),
  },
  {
    operationId: 'getRepositoryAccess',
    method: 'GET',
    path: '/api/v1/repositories/{repository}/-/access',
    tag: 'permissions',
    summary: 'Who can do what: every principal with a role on the repository and where the role comes from (repository admins)',
    auth: true,
    status: 200,
    response: 'RepositoryAccess',
    handle: (s, c) => s.repositoryAccess(c.caller, p(c, 'repository')),
  },
  ...webhookRoutes(),
  ...lifecycleRoutes(),

  // ---- repository mirrors (superusers) ------------------------------------------------------
  { operationId: 'listMirrors', method: 'GET', path: '/api/v1/mirrors', tag: 'mirrors', summary: 'Every mirrored repository with its last sync (superusers)', auth: true, status: 200, response: '[Mirror]', handle: (s, c) => s.mirrors.list(c.caller) },
  { operationId: 'createMirror', method: 'POST', path: '/api/v1/mirrors', tag: 'mirrors', summary: 'Make a repository follow a remote one; it becomes read-only to users (superusers)', auth: true, body: 'NewMirror', status: 201, response: 'Mirror', handle: (s, c) => s.mirrors.create(c.caller, body(c)) },
  { operationId: 'getMirror', method: 'GET', path: '/api/v1/repositories/{repository}/-/mirror', tag: 'mirrors', summary: "A repository's mirror settings and last sync (superusers)", auth: true, status: 200, response: 'Mirror', handle: (s, c) => s.mirrors.get(c.caller, p(c, 'repository')) },
  { operationId: 'deleteMirror', method: 'DELETE', path: '/api/v1/repositories/{repository}/-/mirror', tag: 'mirrors', summary: 'Stop mirroring; the content stays and the repository is writable again (superusers)', auth: true, status: 204, handle: (s, c) => s.mirrors.delete(c.caller, p(c, 'repository')) },
  { operationId: 'syncMirror', method: 'POST', path: '/api/v1/repositories/{repository}/-/mirror/sync', tag: 'mirrors', summary: 'Sync the mirror now and answer with the run (superusers)', auth: true, status: 200, response: 'MirrorRun', handle: (s, c) => s.mirrors.sync(c.caller, p(c, 'repository')) },
  { operationId: 'listMirrorRuns', method: 'GET', path: '/api/v1/repositories/{repository}/-/mirror/runs', tag: 'mirrors', summary: "The mirror's sync history, newest first (superusers)", auth: true, status: 200, response: '[MirrorRun]', handle: (s, c) => s.mirrors.runs(c.caller, p(c, 'repository')) },
];

/** A compiled path template: its regular expression and parameter names in order. */
export interface CompiledPath {
  readonly template: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export function compilePath(template: string): CompiledPath {
  const names: string[] = [];
  const source = template.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{(\w+)\}/g, (_whole, name: string) => {
    const parameter = PATH_PARAMETERS[name];
    if (!parameter) throw new Error(`route ${template}: no PATH_PARAMETERS entry for {${name}}`);
    names.push(name);
    return `(${parameter.pattern})`;
  });
  return { template, regex: new RegExp(`^${source}$`), names };
}
