// Where a domain event belongs: the repository and namespace a webhook's scope is matched
// against, and the queue its deliveries wait in (one repository's events are delivered in
// the order they happened; namespace-level events queue per namespace).
import type { DomainEvent, DomainEventType } from '../core/events.ts';
import type { WebhookFormat } from '../metadata/webhook-store.ts';

export interface EventScope {
  readonly namespace: string | null;
  readonly repository: string | null;
  readonly orderKey: string;
}

export function namespaceOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash < 0 ? repository : repository.slice(0, slash);
}

export function eventScope(event: DomainEvent): EventScope {
  const data = event.data as { repository?: unknown; namespace?: unknown; scope?: unknown };
  if (typeof data.repository === 'string' && data.repository !== '') {
    return { namespace: namespaceOf(data.repository), repository: data.repository, orderKey: `repository:${data.repository}` };
  }
  if (typeof data.namespace === 'string' && data.namespace !== '') return { namespace: data.namespace, repository: null, orderKey: `namespace:${data.namespace}` };
  // A retention run's scope names a repository (with a slash), a namespace, or the registry.
  if (typeof data.scope === 'string' && data.scope !== '' && data.scope !== 'registry') {
    const name = data.scope.replace(/^(repository|namespace):/, '');
    if (name.includes('/')) return { namespace: namespaceOf(name), repository: name, orderKey: `repository:${name}` };
    return { namespace: name, repository: null, orderKey: `namespace:${name}` };
  }
  return { namespace: null, repository: null, orderKey: 'registry' };
}

/** What each format can say: Distribution's envelope speaks only of registry content. */
const FORMAT_TYPES: Partial<Record<WebhookFormat, ReadonlySet<DomainEventType>>> = {
  distribution: new Set(['manifest.pushed', 'manifest.pulled', 'manifest.deleted', 'tag.deleted', 'blob.mounted', 'upload.completed']),
  'quality-notice': new Set(['grade.dropped', 'vulnerability.found']),
};

/** Event types a hook hears when it names none: all but pulls, which are opt-in. */
export function hears(hook: { readonly format: WebhookFormat; readonly events: readonly DomainEventType[] }, type: DomainEventType): boolean {
  if (type === 'webhook.test') return false;
  const expressible = FORMAT_TYPES[hook.format];
  if (expressible && !expressible.has(type)) return false;
  if (hook.events.length === 0) return type !== 'manifest.pulled';
  return hook.events.includes(type);
}
