// The action log's view of the registry's domain events: a push, a delete or a mount is
// recorded because the registry announced it, whatever the entry point, not because an
// HTTP handler remembered to. The entries are the ones the handlers wrote before (same
// kind, actor, address, tag or digest, detail). Pulls are still recorded by the HTTP
// layer: only it knows whether a signing policy then refused to serve what was read.
import type { DomainEvent, EventActor, EventSubscriber } from '../core/events.ts';
import type { AuthMethod } from '../core/identity.ts';
import type { ActionEntry, ActionRecorder, Actor } from './action.ts';

const RECORDED = ['manifest.pushed', 'manifest.deleted', 'tag.deleted', 'blob.deleted', 'blob.mounted'] as const;

/** Records the registry's push, delete and mount events in `actions`; returns the unsubscribe. */
export function recordRegistryActions(events: EventSubscriber, actions: ActionRecorder): () => void {
  return events.subscribe((event) => {
    const entry = actionFor(event);
    if (entry) actions.record(entry);
  }, RECORDED);
}

/** The action log entry for one event, or null for what the log does not keep. */
export function actionFor(event: DomainEvent): ActionEntry | null {
  // A change with no actor (or the system's own) was made by the registry itself on a
  // request that was recorded already, such as an SBOM attached by the quality API.
  const actor = event.actor ? actorFrom(event.actor) : null;
  if (!actor) return null;
  const base = { result: 'success' as const, actor, ip: event.actor?.address, userAgent: event.actor?.userAgent, occurredAt: event.time };
  switch (event.type) {
    case 'manifest.pushed':
      return event.data.tag === undefined
        ? { ...base, kind: 'push', repository: event.data.repository, digest: event.data.digest }
        : { ...base, kind: 'push', repository: event.data.repository, tag: event.data.tag, detail: { digest: event.data.digest } };
    case 'manifest.deleted':
      return { ...base, kind: 'delete', repository: event.data.repository, digest: event.data.digest };
    case 'tag.deleted':
      return { ...base, kind: 'delete', repository: event.data.repository, tag: event.data.tag };
    case 'blob.deleted':
      return { ...base, kind: 'delete', repository: event.data.repository, digest: event.data.digest, detail: { object: 'blob' } };
    case 'blob.mounted':
      return { ...base, kind: 'mount', repository: event.data.repository, digest: event.data.digest, ...(event.data.from === undefined ? {} : { detail: { from: event.data.from } }) };
    default:
      return null;
  }
}

function actorFrom(actor: EventActor): Actor | null {
  if (actor.kind === 'anonymous') return { kind: 'anonymous' };
  if (actor.kind !== 'user' && actor.kind !== 'robot') return null;
  return { kind: actor.kind, name: actor.name, via: actor.via as AuthMethod | undefined };
}
