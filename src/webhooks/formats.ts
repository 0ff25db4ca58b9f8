// A delivery's body in its hook's format:
// - `cloudevents`: CloudEvents 1.0, structured content mode (the whole event in the JSON
//   body, `application/cloudevents+json`); `type` is `io.custody.<event type>`, `source`
//   the registry URL (and the repository or namespace), `subject` what changed;
// - `slack`: a Slack-compatible `{"text": …}` (incoming webhooks, Mattermost, Rocket.Chat);
// - `distribution`: CNCF Distribution's notification envelope
//   (`application/vnd.docker.distribution.events.v1+json`, `{"events": [...]}`), so that
//   consumers of Distribution's notifications work unchanged;
// - `quality-notice`: the JSON notice `quality.notifyUrl` has always received.
import { formatBytes } from '../core/size.ts';
import type { DomainEvent, DomainEventOf } from '../core/events.ts';
import type { WebhookFormat } from '../metadata/webhook-store.ts';
import { eventScope } from './event-scope.ts';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';
export const DISTRIBUTION_CONTENT_TYPE = 'application/vnd.docker.distribution.events.v1+json';
/** Distribution reports blobs with this media type. */
const BLOB_MEDIA_TYPE = 'application/octet-stream';

export interface RenderContext {
  /** The registry's external base URL, without a trailing slash. */
  readonly registryUrl: string;
  /** This process, for Distribution's `source.instanceID`. */
  readonly instanceId: string;
}

export interface RenderedBody {
  readonly contentType: string;
  readonly body: string;
}

export function renderEvent(format: WebhookFormat, event: DomainEvent, context: RenderContext): RenderedBody {
  switch (format) {
    case 'cloudevents':
      return { contentType: CLOUDEVENTS_CONTENT_TYPE, body: JSON.stringify(cloudEvent(event, context)) };
    case 'slack':
      return { contentType: 'application/json', body: JSON.stringify({ text: slackText(event) }) };
    case 'distribution':
      return { contentType: DISTRIBUTION_CONTENT_TYPE, body: JSON.stringify({ events: distributionEvents(event, context) }) };
    case 'quality-notice':
      return { contentType: 'application/json', body: JSON.stringify(qualityNotice(event)) };
  }
}

export function cloudEvent(event: DomainEvent, context: RenderContext): Record<string, unknown> {
  const scope = eventScope(event);
  const where = scope.repository ?? scope.namespace;
  return {
    specversion: '1.0',
    id: event.id,
    source: where ? `${context.registryUrl}/${where}` : context.registryUrl,
    type: `io.custody.${event.type}`,
    ...(subjectOf(event) ? { subject: subjectOf(event) } : {}),
    time: new Date(event.time).toISOString(),
    datacontenttype: 'application/json',
    data: { ...event.data, ...(event.actor ? { actor: { name: event.actor.name ?? null, kind: event.actor.kind ?? null } } : {}) },
  };
}

/** What changed, in the source's terms: `repo:tag`, `repo@digest`, or the namespace. */
function subjectOf(event: DomainEvent): string | undefined {
  const data = event.data as { repository?: string; tag?: string; digest?: string; namespace?: string };
  if (data.repository && data.tag) return `${data.repository}:${data.tag}`;
  if (data.repository && data.digest) return `${data.repository}@${data.digest}`;
  return data.repository ?? data.namespace;
}

/** Slack's three control characters, escaped as its API asks (names come from users). */
function slack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function short(digest: string | undefined): string {
  return digest ? digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1…') : '';
}

export function slackText(event: DomainEvent): string {
  const by = event.actor?.name ? ` by ${slack(event.actor.name)}` : '';
  const d = event.data as Record<string, unknown>;
  const repo = slack(String(d.repository ?? ''));
  const tag = typeof d.tag === 'string' ? `:${slack(d.tag)}` : '';
  switch (event.type) {
    case 'manifest.pushed':
      return `Pushed ${repo}${tag} (${short(event.data.digest)}, ${formatBytes(event.data.size)})${by}`;
    case 'tag.moved':
      return `Tag ${repo}${tag} now points at ${short(event.data.digest)}${event.data.previous ? ` (was ${short(event.data.previous)})` : ''}${by}`;
    case 'tag.deleted':
      return `Deleted tag ${repo}${tag}${by}`;
    case 'manifest.deleted':
      return `Deleted ${repo}@${short(event.data.digest)}${by}`;
    case 'manifest.pulled':
      return `Pulled ${repo}:${slack(event.data.reference)}${by}`;
    case 'scan.completed':
      return `Scanned ${repo}@${short(event.data.digest)}${event.data.grade ? `: grade ${slack(event.data.grade)}` : ''}`;
    case 'vulnerability.found':
      return `New Critical vulnerabilities in ${repo}@${short(event.data.digest)}: ${event.data.advisories.map(slack).join(', ')}`;
    case 'grade.dropped':
      return `Grade of ${repo}@${short(event.data.digest)} dropped from ${slack(event.data.from)} to ${slack(event.data.to)}`;
    case 'signature.added':
      return `Signed ${repo}@${short(event.data.digest)} (${slack(event.data.format)}${event.data.signer ? `, ${slack(event.data.signer)}` : ''})`;
    case 'quota.warning':
      return `Namespace ${slack(event.data.namespace)} uses ${formatBytes(event.data.used)} of its ${formatBytes(event.data.limit)} quota`;
    case 'quota.exceeded':
      return `Namespace ${slack(event.data.namespace)} refused ${formatBytes(event.data.attempted)}: quota ${formatBytes(event.data.limit)} (${formatBytes(event.data.used)} used)`;
    case 'tag.expired':
      return `Tag ${repo}${tag} expired (${short(event.data.digest)})`;
    case 'retention.run':
      return `Retention${event.data.dryRun ? ' (dry run)' : ''} on ${slack(event.data.scope)}: ${event.data.removed.length} removed`;
    case 'webhook.test':
      return `Custody test event: ${slack(event.data.message)}`;
    default:
      return `${slack(event.type)}${repo ? ` on ${repo}` : ''}${by}`;
  }
}

interface DistributionTarget {
  mediaType?: string;
  size?: number;
  digest?: string;
  length?: number;
  repository: string;
  url?: string;
  tag?: string;
  fromRepository?: string;
}

/** Distribution's envelope events for one domain event (empty for what it cannot say, e.g. a test). */
export function distributionEvents(event: DomainEvent, context: RenderContext): Record<string, unknown>[] {
  const mapped = distributionAction(event, context.registryUrl);
  if (!mapped) return [];
  const host = hostOf(context.registryUrl);
  return [
    {
      id: event.id,
      timestamp: new Date(event.time).toISOString(),
      action: mapped.action,
      target: mapped.target,
      request: { id: event.id, addr: event.actor?.address ?? '', host, method: mapped.method, useragent: '' },
      actor: { name: event.actor?.name ?? '' },
      source: { addr: host, instanceID: context.instanceId },
    },
  ];
}

function distributionAction(event: DomainEvent, base: string): { action: string; method: string; target: DistributionTarget } | null {
  const manifestUrl = (repository: string, digest: string): string => `${base}/v2/${repository}/manifests/${digest}`;
  const blobUrl = (repository: string, digest: string): string => `${base}/v2/${repository}/blobs/${digest}`;
  switch (event.type) {
    case 'manifest.pushed': {
      const { repository, digest, mediaType, size, tag } = event.data;
      return { action: 'push', method: 'PUT', target: { mediaType, size, digest, length: size, repository, url: manifestUrl(repository, digest), ...(tag ? { tag } : {}) } };
    }
    case 'manifest.pulled': {
      const { repository, digest, reference, mediaType, size } = event.data;
      const tag = reference.includes(':') ? undefined : reference;
      return {
        action: 'pull',
        method: 'GET',
        target: { ...(mediaType ? { mediaType } : {}), ...(size !== undefined ? { size, length: size } : {}), digest, repository, url: manifestUrl(repository, digest), ...(tag ? { tag } : {}) },
      };
    }
    case 'manifest.deleted':
      return { action: 'delete', method: 'DELETE', target: { digest: event.data.digest, repository: event.data.repository } };
    case 'tag.deleted':
      return { action: 'delete', method: 'DELETE', target: { repository: event.data.repository, tag: event.data.tag, ...(event.data.digest ? { digest: event.data.digest } : {}) } };
    case 'upload.completed': {
      const { repository, digest, size } = event.data;
      return { action: 'push', method: 'PUT', target: { mediaType: BLOB_MEDIA_TYPE, size, digest, length: size, repository, url: blobUrl(repository, digest) } };
    }
    case 'blob.mounted': {
      const { repository, digest, size, from } = event.data;
      return { action: 'mount', method: 'POST', target: { mediaType: BLOB_MEDIA_TYPE, size, digest, length: size, repository, url: blobUrl(repository, digest), ...(from ? { fromRepository: from } : {}) } };
    }
    default:
      return null;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** The notice `quality.notifyUrl` receives (unchanged from before webhooks). */
function qualityNotice(event: DomainEvent): Record<string, unknown> {
  const at = new Date(event.time).toISOString();
  if (event.type === 'grade.dropped') {
    const data = (event as DomainEventOf<'grade.dropped'>).data;
    return { event: 'grade-dropped', repository: data.repository, digest: data.digest, grade: data.to, previousGrade: data.from, advisories: [], at };
  }
  if (event.type === 'vulnerability.found') {
    const data = (event as DomainEventOf<'vulnerability.found'>).data;
    return { event: 'new-critical', repository: data.repository, digest: data.digest, grade: data.grade ?? null, previousGrade: data.previousGrade ?? null, advisories: data.advisories, at };
  }
  return { event: event.type === 'webhook.test' ? 'test' : event.type, at, ...(event.data as object) };
}
