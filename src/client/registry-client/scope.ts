// Token-auth scopes (`repository:NAME:ACTIONS`) and the canonical key of a scope set.

export type Action = 'pull' | 'push' | 'delete' | '*';

export function repositoryScope(name: string, actions: readonly Action[]): string {
  return `repository:${name}:${actions.join(',')}`;
}

/** Merges scopes on the same resource (`repository:a:pull` + `repository:a:push` → `repository:a:pull,push`). */
export function normalizeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    for (const single of scope.split(' ')) {
      if (single === '') continue;
      const colon = single.lastIndexOf(':');
      if (colon <= 0) {
        if (!byResource.has(single)) byResource.set(single, new Set());
        continue;
      }
      const resource = single.slice(0, colon);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const action of single.slice(colon + 1).split(',')) if (action !== '') actions.add(action);
      byResource.set(resource, actions);
    }
  }
  return [...byResource.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([resource, actions]) => (actions.size === 0 ? resource : `${resource}:${[...actions].sort().join(',')}`));
}

export function scopeKey(scopes: readonly string[]): string {
  return normalizeScopes(scopes).join(' ');
}
