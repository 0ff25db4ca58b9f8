// What the action log records: who did what, when, to which repository, and how it
// ended. Producers (the registry API, the token endpoint, the management API) call
// ActionRecorder.record, which must return at once: entries are written in batches off
// the request path.
import type { AuthMethod, Principal } from '../core/identity.ts';

export type ActionKind =
  | 'pull' // manifest fetched (GET)
  | 'push' // manifest stored
  | 'delete' // manifest, tag or blob deleted
  | 'tag' // a tag moved to a new digest (recorded with push)
  | 'mount' // cross-repository blob mount
  | 'login' // credentials checked (token endpoint, basic auth, management API)
  | 'token' // bearer token issued
  | 'robot_token' // a robot token used
  | 'account' // user, organization or robot created, changed or deleted
  | 'team' // team created, changed or deleted
  | 'membership' // team membership changed
  | 'permission' // repository or default permission changed
  | 'repository' // repository visibility or description changed
  | 'credential' // personal access token or robot token created or revoked
  | 'webhook'; // webhook created, enabled, disabled, deleted or tested

export type ActionResult = 'success' | 'denied' | 'failure';

export interface Actor {
  readonly kind: 'user' | 'robot' | 'anonymous';
  readonly name?: string | undefined;
  readonly via?: AuthMethod | undefined;
}

export interface ActionEntry {
  readonly kind: ActionKind;
  readonly result: ActionResult;
  readonly actor: Actor;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly repository?: string | undefined;
  /** The namespace (user or organization) an entry without a repository concerns (a team,
   * membership or robot change), so that namespace's administrators see it. Derived from
   * `repository` when that is set. */
  readonly namespace?: string | undefined;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
  /** Anything else worth keeping (never a secret). */
  readonly detail?: Readonly<Record<string, unknown>> | undefined;
  /** Defaults to the time of the record call. */
  readonly occurredAt?: number | undefined;
}

/** The actor an entry names for a principal. */
export function actorOf(principal: Principal): Actor {
  if (principal.kind === 'anonymous') return { kind: 'anonymous' };
  return { kind: principal.account.kind === 'robot' ? 'robot' : 'user', name: principal.account.name, via: principal.via };
}

export interface ActionRecorder {
  record(entry: ActionEntry): void;
}

/** For tools that log nothing (gc, fsck) and for tests that do not look. */
export const DISCARD_ACTIONS: ActionRecorder = { record: () => {} };
