// Domain events: what happened, after it was committed. The registry and the other domain
// services publish them; audit, quality, webhooks, quotas and replication subscribe. An
// event is a fact about the past, so it never carries a way to veto the change: checks that
// must run before a write are guards inside the domain, not subscribers.

/** Who caused a change, when known (a user, a robot, a token's owner, or the system itself). */
export interface EventActor {
  readonly name?: string | undefined;
  readonly kind?: 'user' | 'robot' | 'system' | 'anonymous' | undefined;
  readonly address?: string | undefined;
  /** How a user or robot proved who it is (password, robot-token...), when known. */
  readonly via?: string | undefined;
  /** The client program that made the request, when it said (audit records it). */
  readonly userAgent?: string | undefined;
}

/** The payload of each event type, keyed by its type name. Features add their own types here. */
export interface DomainEventPayloads {
  /** A manifest was stored (by tag or by digest). `tag` is set when a tag now points at it. */
  'manifest.pushed': { repository: string; digest: string; mediaType: string; size: number; tag?: string | undefined; subject?: string | undefined; artifactType?: string | undefined };
  /** A tag now points at `digest`; `previous` is what it pointed at before, if anything. */
  'tag.moved': { repository: string; tag: string; digest: string; previous?: string | undefined };
  'tag.deleted': { repository: string; tag: string; digest?: string | undefined };
  'manifest.deleted': { repository: string; digest: string };
  /** A repository's link to a blob was removed (DELETE of a blob); the content stays for the collector. */
  'blob.deleted': { repository: string; digest: string };
  'blob.mounted': { repository: string; digest: string; from?: string | undefined; size: number };
  'upload.completed': { repository: string; digest: string; size: number };
  /** A manifest was served by GET (HEAD is not a pull). */
  'manifest.pulled': { repository: string; digest: string; reference: string; mediaType?: string | undefined; size?: number | undefined };
  'scan.completed': { repository: string; digest: string; grade?: string | undefined };
  /** New Critical advisories in a stored image; `grade` is the image's grade now. */
  'vulnerability.found': { repository: string; digest: string; advisories: readonly string[]; grade?: string | undefined; previousGrade?: string | null | undefined };
  'grade.dropped': { repository: string; digest: string; from: string; to: string };
  'signature.added': { repository: string; digest: string; signer?: string | undefined; format: string };
  'quota.warning': { namespace: string; used: number; limit: number };
  'quota.exceeded': { namespace: string; used: number; limit: number; attempted: number };
  'tag.expired': { repository: string; tag: string; digest: string };
  'retention.run': { scope: string; removed: readonly string[]; dryRun: boolean };
  'mirror.sync.started': { repository: string; source: string };
  'mirror.sync.succeeded': { repository: string; source: string; tags: number; bytes: number };
  'mirror.sync.failed': { repository: string; source: string; error: string };
  /** A webhook's "send test event": delivered to that one hook only, never published on the bus. */
  'webhook.test': { webhook: number; namespace?: string | null | undefined; repository?: string | null | undefined; message: string };
}

export type DomainEventType = keyof DomainEventPayloads;

export interface DomainEventOf<T extends DomainEventType> {
  /** Unique id (UUID), so sinks can de-duplicate redeliveries. */
  readonly id: string;
  readonly type: T;
  /** Milliseconds since the epoch, when the change was committed. */
  readonly time: number;
  readonly actor?: EventActor | undefined;
  readonly data: DomainEventPayloads[T];
}

export type DomainEvent = { [T in DomainEventType]: DomainEventOf<T> }[DomainEventType];

/** The narrow side a publisher needs. */
export interface EventPublisher {
  publish<T extends DomainEventType>(type: T, data: DomainEventPayloads[T], actor?: EventActor): void;
}

export type EventHandler = (event: DomainEvent) => void | Promise<void>;

/** The side a subscriber needs: `types` limits what it hears (all when omitted). */
export interface EventSubscriber {
  subscribe(handler: EventHandler, types?: readonly DomainEventType[]): () => void;
}

export interface EventBus extends EventPublisher, EventSubscriber {
  /** Resolves once every handler started so far has finished (tests, shutdown). */
  drain(): Promise<void>;
}

/** A publisher that drops everything: the default where nobody listens. */
export const NO_EVENTS: EventPublisher = { publish() {} };
