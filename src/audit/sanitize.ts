// Turns a producer's ActionEntry into the row the action log stores: strings capped,
// the namespace derived, and the free-form detail stripped of anything that could be a
// secret. A log of who did what must never become a place where credentials leak.
import type { ActionEntry, ActionKind, ActionResult, Actor } from './action.ts';
import type { ActionRow } from './action-log-store.ts';
import { namespaceOf } from '../core/names.ts';
import { SECRET_PREFIX } from '../core/identity.ts';

export const LIMITS = {
  actorName: 256,
  ip: 64,
  userAgent: 512,
  repository: 512,
  tag: 256,
  digest: 256,
  detailString: 1024,
  detailKeys: 32,
  detailDepth: 4,
  detailJson: 8192,
} as const;

const KINDS: ReadonlySet<string> = new Set<ActionKind>(['pull', 'push', 'delete', 'tag', 'mount', 'login', 'token', 'robot_token', 'account', 'team', 'membership', 'permission', 'repository', 'credential', 'webhook']);
const RESULTS: ReadonlySet<string> = new Set<ActionResult>(['success', 'denied', 'failure']);
const ACTOR_KINDS: ReadonlySet<string> = new Set<Actor['kind']>(['user', 'robot', 'anonymous']);

export const ACTION_KINDS: readonly ActionKind[] = [...KINDS] as ActionKind[];
export const ACTION_RESULTS: readonly ActionResult[] = [...RESULTS] as ActionResult[];

export function isActionKind(value: string): value is ActionKind {
  return KINDS.has(value);
}

export function isActionResult(value: string): value is ActionResult {
  return RESULTS.has(value);
}

/** Detail keys whose values are never kept, whatever they hold. */
const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|api[-_]?key|private[-_]?key|bearer|signature|^auth)$/i;
/** Values that look like credentials, wherever they appear. */
const SECRET_VALUE = new RegExp(
  [
    ...Object.values(SECRET_PREFIX).map((prefix) => `${prefix}[A-Za-z0-9_-]{8,}`),
    // A JWT (three base64url parts, the first a JSON header).
    'eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    // An Authorization header value.
    '\\b(?:Basic|Bearer)\\s+[A-Za-z0-9+/=._~-]{8,}',
  ].join('|'),
  'g',
);
export const REDACTED = '[redacted]';

/** Removes anything that looks like a credential from free text. */
export function scrub(text: string): string {
  SECRET_VALUE.lastIndex = 0;
  return SECRET_VALUE.test(text) ? text.replace(SECRET_VALUE, REDACTED) : text;
}

function cap(value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'string' ? value : String(value);
  if (text === '') return null;
  // Control characters never reach a log line or a table cell.
  // eslint-disable-next-line no-control-regex
  const clean = scrub(text).replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

function cleanDetail(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return cap(value, LIMITS.detailString) ?? '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= LIMITS.detailDepth) return '[…]';
  if (Array.isArray(value)) return value.slice(0, LIMITS.detailKeys).map((item) => cleanDetail(item, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    let count = 0;
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (count++ >= LIMITS.detailKeys) break;
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      const name = key.slice(0, 64);
      out[name] = SECRET_KEY.test(name) ? REDACTED : cleanDetail(item, depth + 1);
    }
    return out;
  }
  return null;
}

function sanitizeDetail(detail: ActionEntry['detail']): Record<string, unknown> | null {
  if (detail === undefined || detail === null || typeof detail !== 'object') return null;
  const clean = cleanDetail(detail, 0) as Record<string, unknown>;
  if (Object.keys(clean).length === 0) return null;
  if (JSON.stringify(clean).length > LIMITS.detailJson) return { truncated: true, keys: Object.keys(clean).slice(0, LIMITS.detailKeys) };
  return clean;
}

/** The stored row for `entry`; `now` when the entry carries no time. Throws on nothing. */
export function sanitizeEntry(entry: ActionEntry, now: number): ActionRow {
  const kind = typeof entry.kind === 'string' && KINDS.has(entry.kind) ? entry.kind : ('account' as ActionKind);
  const result = typeof entry.result === 'string' && RESULTS.has(entry.result) ? entry.result : 'failure';
  const actorKind = entry.actor && ACTOR_KINDS.has(entry.actor.kind) ? entry.actor.kind : 'anonymous';
  const actorName = actorKind === 'anonymous' ? null : cap(entry.actor?.name, LIMITS.actorName);
  const via = cap(entry.actor?.via, 32);
  const actor: Actor = { kind: actorKind, ...(actorName === null ? {} : { name: actorName }), ...(via === null ? {} : { via: via as Actor['via'] }) };
  const repository = cap(entry.repository, LIMITS.repository);
  const occurredAt = typeof entry.occurredAt === 'number' && Number.isFinite(entry.occurredAt) ? Math.floor(entry.occurredAt) : now;
  return {
    occurredAt,
    kind,
    result,
    actor,
    ip: cap(entry.ip, LIMITS.ip),
    userAgent: cap(entry.userAgent, LIMITS.userAgent),
    // The first path component; null for a top-level name (only superusers own those).
    namespace: repository === null ? cap(entry.namespace, LIMITS.actorName) : namespaceOf(repository),
    repository,
    tag: cap(entry.tag, LIMITS.tag),
    digest: cap(entry.digest, LIMITS.digest),
    detail: sanitizeDetail(entry.detail),
  };
}
