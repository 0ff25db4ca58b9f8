// A retention policy and its judgement of a repository's tags, pure. A tag is a candidate
// when it matches `include` (every tag when empty) and no `exclude` pattern. A candidate
// goes when the policy has a keep rule and none keeps it: the N most recent, pushed within,
// pulled within. Whatever the rules say, a signed tag stays, and so does a tag whose
// manifest a kept index references. Cosign's attachment tags (sha256-….sig/.att/.sbom)
// belong to what they sign and are never judged on their own.
import { InvalidInput } from '../core/errors.ts';
import type { Digest } from '../core/digest.ts';
import { formatLifetime, parseLifetime } from '../core/lifetime.ts';
import type { RetentionTag } from '../metadata/retention-store.ts';
import { globMatches, isValidGlob } from './glob.ts';

export interface RetentionPolicy {
  readonly keepLast?: number | undefined;
  /** Milliseconds. */
  readonly keepPushedWithinMs?: number | undefined;
  readonly keepPulledWithinMs?: number | undefined;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** The policy as the API shows and takes it. */
export interface RetentionPolicyJson {
  keepLast?: number | null;
  keepPushedWithin?: string | null;
  keepPulledWithin?: string | null;
  include?: string[];
  exclude?: string[];
}

const ATTACHMENT_TAG = /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/;

export function parsePolicy(json: RetentionPolicyJson): RetentionPolicy {
  const duration = (value: string | null | undefined, what: string): number | undefined => {
    if (value === undefined || value === null) return undefined;
    const ms = parseLifetime(value);
    if (ms === null) throw new InvalidInput('repository', `${what}: a duration such as 30d, 12h, 2w`);
    return ms;
  };
  const patterns = (value: string[] | undefined, what: string): string[] => {
    for (const pattern of value ?? []) if (!isValidGlob(pattern)) throw new InvalidInput('repository', `${what}: "${pattern.slice(0, 80)}" is not a tag pattern`);
    return [...(value ?? [])];
  };
  if (json.keepLast !== undefined && json.keepLast !== null && (!Number.isSafeInteger(json.keepLast) || json.keepLast < 0)) throw new InvalidInput('repository', 'keepLast: a whole number of tags');
  return {
    keepLast: json.keepLast ?? undefined,
    keepPushedWithinMs: duration(json.keepPushedWithin, 'keepPushedWithin'),
    keepPulledWithinMs: duration(json.keepPulledWithin, 'keepPulledWithin'),
    include: patterns(json.include, 'include'),
    exclude: patterns(json.exclude, 'exclude'),
  };
}

export function policyJson(policy: RetentionPolicy): RetentionPolicyJson {
  return {
    keepLast: policy.keepLast ?? null,
    keepPushedWithin: policy.keepPushedWithinMs === undefined ? null : formatLifetime(policy.keepPushedWithinMs),
    keepPulledWithin: policy.keepPulledWithinMs === undefined ? null : formatLifetime(policy.keepPulledWithinMs),
    include: [...policy.include],
    exclude: [...policy.exclude],
  };
}

export interface Verdict {
  readonly remove: RetentionTag[];
  readonly keep: number;
}

/** Which tags go. `edges`: (index, child) pairs among the repository's manifests. */
export function judge(policy: RetentionPolicy, tags: readonly RetentionTag[], edges: ReadonlyArray<{ parent: Digest; child: Digest }>, now: number): Verdict {
  const hasKeepRule = policy.keepLast !== undefined || policy.keepPushedWithinMs !== undefined || policy.keepPulledWithinMs !== undefined;
  if (!hasKeepRule) return { remove: [], keep: tags.length };
  const candidates: RetentionTag[] = [];
  const kept = new Set<Digest>();
  const filtered = policy.include.length > 0 || policy.exclude.length > 0;
  for (const tag of tags) {
    const candidate =
      !(tag.tag.startsWith('sha256-') && ATTACHMENT_TAG.test(tag.tag)) &&
      (!filtered || ((policy.include.length === 0 || policy.include.some((p) => globMatches(p, tag.tag))) && !policy.exclude.some((p) => globMatches(p, tag.tag))));
    if (candidate) candidates.push(tag);
    else kept.add(tag.digest);
  }
  // Newest first; ties by name so runs are repeatable.
  candidates.sort((a, b) => b.pushedAt - a.pushedAt || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const doomed: RetentionTag[] = [];
  candidates.forEach((tag, rank) => {
    const keep =
      tag.signed ||
      (policy.keepLast !== undefined && rank < policy.keepLast) ||
      (policy.keepPushedWithinMs !== undefined && tag.pushedAt >= now - policy.keepPushedWithinMs) ||
      (policy.keepPulledWithinMs !== undefined && tag.pulledAt !== null && tag.pulledAt >= now - policy.keepPulledWithinMs);
    if (keep) kept.add(tag.digest);
    else doomed.push(tag);
  });
  // What a kept index references stays (to any depth).
  const children = new Map<Digest, Digest[]>();
  for (const edge of edges) children.set(edge.parent, [...(children.get(edge.parent) ?? []), edge.child]);
  const pending = [...kept];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()!) ?? []) {
      if (!kept.has(child)) {
        kept.add(child);
        pending.push(child);
      }
    }
  }
  const remove = doomed.filter((tag) => !kept.has(tag.digest));
  return { remove, keep: tags.length - remove.length };
}
