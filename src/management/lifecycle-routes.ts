// The lifecycle part of the management route table (routes.ts spreads it in): immutability
// rules, time-machine windows and quotas per namespace; tag history, restore and expiry per
// repository. `custody admin`, `custody tag` and the OpenAPI document come from these.
import type { ManagementRoute, RouteContext } from './routes.ts';

const p = (context: RouteContext, name: string): string => context.params[name]!;
const body = <T>(context: RouteContext): T => context.body as T;

type Scope = 'repository' | 'namespace' | 'registry';

/** GET, PUT, DELETE and run of the retention policy at `path`, for one scope. */
function retentionRoutes(scope: Scope, path: string, suffix: string, who: string, name: (context: RouteContext) => string): ManagementRoute[] {
  const what = scope === 'registry' ? 'The registry default retention policy' : `A ${scope}'s retention policy`;
  return [
    { operationId: `get${suffix}Retention`, method: 'GET', path, tag: 'lifecycle', summary: `${what} (${who})`, auth: true, status: 200, response: 'RetentionPolicy', handle: (s, c) => s.lifecycle.getRetention(c.caller, scope, name(c)) },
    {
      operationId: `set${suffix}Retention`,
      method: 'PUT',
      path,
      tag: 'lifecycle',
      summary: `Set ${what.charAt(0).toLowerCase()}${what.slice(1)}: keep the N most recent tags, tags pushed or pulled within a duration, include/exclude tag patterns; signed tags and what kept indexes reference always stay (${who})`,
      auth: true,
      body: 'RetentionPolicyChange',
      status: 200,
      response: 'RetentionPolicy',
      handle: (s, c) => s.lifecycle.setRetention(c.caller, scope, name(c), body(c)),
    },
    { operationId: `remove${suffix}Retention`, method: 'DELETE', path, tag: 'lifecycle', summary: `Remove ${what.charAt(0).toLowerCase()}${what.slice(1)} (${who})`, auth: true, status: 204, handle: (s, c) => s.lifecycle.removeRetention(c.caller, scope, name(c)) },
    {
      operationId: `run${suffix}Retention`,
      method: 'POST',
      path: `${path}/run`,
      tag: 'lifecycle',
      summary: `Apply retention now (${scope === 'registry' ? 'every repository' : scope === 'namespace' ? "the namespace's repositories" : 'the repository'}, each by its most specific policy); dryRun lists exactly what would go (${who})`,
      auth: true,
      body: 'RetentionRun',
      status: 200,
      response: 'RetentionReport',
      handle: (s, c) => s.lifecycle.runRetention(c.caller, scope, name(c), body(c)),
    },
  ];
}

export function lifecycleRoutes(): ManagementRoute[] {
  const ns = '/api/v1/namespaces/{namespace}';
  const repo = '/api/v1/repositories/{repository}/-';
  return [
    { operationId: 'listImmutabilityRules', method: 'GET', path: `${ns}/immutability`, tag: 'lifecycle', summary: "A namespace's immutability rules (namespace administrators)", auth: true, status: 200, response: '[ImmutabilityRule]', handle: (s, c) => s.lifecycle.listImmutabilityRules(c.caller, p(c, 'namespace')) },
    {
      operationId: 'addImmutabilityRule',
      method: 'POST',
      path: `${ns}/immutability`,
      tag: 'lifecycle',
      summary: 'Make matching tags immutable: they can be created but never moved or deleted (namespace administrators)',
      auth: true,
      body: 'NewImmutabilityRule',
      status: 201,
      response: 'ImmutabilityRule',
      handle: (s, c) => s.lifecycle.addImmutabilityRule(c.caller, p(c, 'namespace'), body(c)),
    },
    { operationId: 'removeImmutabilityRule', method: 'DELETE', path: `${ns}/immutability/{id}`, tag: 'lifecycle', summary: 'Remove an immutability rule (namespace administrators)', auth: true, status: 204, handle: (s, c) => s.lifecycle.removeImmutabilityRule(c.caller, p(c, 'namespace'), Number(p(c, 'id'))) },
    { operationId: 'getTimeMachine', method: 'GET', path: `${ns}/time-machine`, tag: 'lifecycle', summary: "A namespace's time-machine window (namespace administrators)", auth: true, status: 200, response: 'TimeMachine', handle: (s, c) => s.lifecycle.getTimeMachine(c.caller, p(c, 'namespace')) },
    {
      operationId: 'setTimeMachine',
      method: 'PUT',
      path: `${ns}/time-machine`,
      tag: 'lifecycle',
      summary: 'Set how long deleted and moved tags can be restored: 0s, 1d, 1w, 2w, 4w or any duration; null for the registry default (namespace administrators)',
      auth: true,
      body: 'TimeMachineChange',
      status: 200,
      response: 'TimeMachine',
      handle: (s, c) => s.lifecycle.setTimeMachine(c.caller, p(c, 'namespace'), body(c)),
    },
    { operationId: 'getQuota', method: 'GET', path: `${ns}/quota`, tag: 'lifecycle', summary: "A namespace's quota, usage and what garbage collection will reclaim (namespace administrators)", auth: true, status: 200, response: 'Quota', handle: (s, c) => s.lifecycle.getQuota(c.caller, p(c, 'namespace')) },
    { operationId: 'setQuota', method: 'PUT', path: `${ns}/quota`, tag: 'lifecycle', summary: 'Set the warning and rejection thresholds (superusers)', auth: true, body: 'QuotaChange', status: 200, response: 'Quota', handle: (s, c) => s.lifecycle.setQuota(c.caller, p(c, 'namespace'), body(c)) },
    { operationId: 'removeQuota', method: 'DELETE', path: `${ns}/quota`, tag: 'lifecycle', summary: "Remove a namespace's quota (superusers)", auth: true, status: 204, handle: (s, c) => s.lifecycle.removeQuota(c.caller, p(c, 'namespace')) },
    {
      operationId: 'getTagHistory',
      method: 'GET',
      path: `${repo}/tag-history`,
      tag: 'lifecycle',
      summary: "Changes of the repository's tags, newest first: time, digest, who and how (push, delete, expire, restore); ?tag= for one (readers)",
      auth: true,
      query: [{ name: 'tag', description: 'only this tag', schema: { type: 'string' } }],
      status: 200,
      response: '[TagHistoryEntry]',
      handle: (s, c) => s.lifecycle.tagHistory(c.caller, p(c, 'repository'), c.query.get('tag')),
    },
    {
      operationId: 'restoreTag',
      method: 'POST',
      path: `${repo}/tags/{tag}/restore`,
      tag: 'lifecycle',
      summary: 'Point a tag back at a digest it held within the time-machine window, even after it was deleted or expired (writers)',
      auth: true,
      body: 'TagRestore',
      status: 200,
      response: 'RestoredTag',
      handle: (s, c) => s.lifecycle.restoreTag(c.caller, p(c, 'repository'), p(c, 'tag'), body(c)),
    },
    { operationId: 'listTagExpiries', method: 'GET', path: `${repo}/tag-expiries`, tag: 'lifecycle', summary: 'Tags that will expire, with when (readers)', auth: true, status: 200, response: '[TagExpiry]', handle: (s, c) => s.lifecycle.listTagExpiries(c.caller, p(c, 'repository')) },
    {
      operationId: 'setTagExpiry',
      method: 'PUT',
      path: `${repo}/tags/{tag}/expiry`,
      tag: 'lifecycle',
      summary: 'Expire a tag after a duration ("in": "3d") or at a time ("expiresAt"), or never ("expiresAt": null) (writers)',
      auth: true,
      body: 'TagExpiryChange',
      status: 200,
      response: 'TagExpiry',
      handle: (s, c) => s.lifecycle.setTagExpiry(c.caller, p(c, 'repository'), p(c, 'tag'), body(c)),
    },
    ...retentionRoutes('namespace', `${ns}/retention`, 'Namespace', 'namespace administrators', (c) => p(c, 'namespace')),
    ...retentionRoutes('repository', `${repo}/retention`, 'Repository', 'repository admins', (c) => p(c, 'repository')),
    ...retentionRoutes('registry', '/api/v1/retention', 'Registry', 'superusers', () => ''),
  ];
}
