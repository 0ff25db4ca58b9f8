// JSON Schemas of the lifecycle routes' bodies and answers (spread into SCHEMAS).
import { dateTime, nullableDateTime, nullableString, object, string, type JsonSchema } from './schema-builders.ts';

const digest = string({ maxLength: 200, description: 'a digest, sha256:...' });
const size: JsonSchema = { type: ['string', 'integer', 'null'], description: 'bytes, or with a unit: 500MiB, 2GiB; null for none' };

const RULE = { id: { type: 'integer' }, namespace: string(), repository: string(), tag: string(), createdBy: nullableString(), createdAt: dateTime };
const HISTORY = {
  tag: string(),
  time: dateTime,
  digest: nullableString({ description: 'what the tag points at after the change; null when removed' }),
  previousDigest: nullableString(),
  how: { type: 'string', enum: ['push', 'delete', 'expire', 'restore', 'retention'] },
  who: nullableString(),
  restorable: { type: 'boolean', description: 'previousDigest can still be restored (within the window)' },
};

const POLICY = {
  keepLast: { type: ['integer', 'null'], description: 'keep the N most recently pushed tags' },
  keepPushedWithin: nullableString({ maxLength: 32, description: 'keep tags pushed within this duration (30d, 12h, 2w)' }),
  keepPulledWithin: nullableString({ maxLength: 32, description: 'keep tags pulled within this duration' }),
  include: { type: 'array', items: string({ maxLength: 255 }), description: 'tag patterns retention judges (default: every tag)' },
  exclude: { type: 'array', items: string({ maxLength: 255 }), description: 'tag patterns retention never touches' },
};

export const LIFECYCLE_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  ImmutabilityRule: object(RULE, Object.keys(RULE)),
  NewImmutabilityRule: object(
    { repository: string({ maxLength: 255, description: 'glob over the repository name, within the namespace (default NAMESPACE/**)' }), tag: string({ maxLength: 255, description: 'glob over the tag: v*, release-*, *' }) },
    ['tag'],
  ),
  TimeMachine: object({ namespace: string(), window: string({ description: 'e.g. 2w' }), windowSeconds: { type: 'integer' }, default: { type: 'boolean', description: "the registry's default" } }, ['namespace', 'window', 'windowSeconds', 'default']),
  TimeMachineChange: object({ window: nullableString({ maxLength: 32, description: '0s, 1d, 1w, 2w, 4w, any duration; null: the default' }) }, ['window']),
  Quota: object(
    { namespace: string(), warnBytes: { type: ['integer', 'null'] }, rejectBytes: { type: ['integer', 'null'] }, usedBytes: { type: 'integer' }, reclaimableBytes: { type: 'integer', description: 'what garbage collection will reclaim' } },
    ['namespace', 'warnBytes', 'rejectBytes', 'usedBytes', 'reclaimableBytes'],
  ),
  QuotaChange: object({ warn: size, reject: size }),
  TagHistoryEntry: object(HISTORY, Object.keys(HISTORY)),
  TagRestore: object({ digest }, ['digest']),
  RestoredTag: object({ repository: string(), tag: string(), digest: string(), changed: { type: 'boolean' } }, ['repository', 'tag', 'digest', 'changed']),
  TagExpiry: object({ repository: string(), tag: string(), expiresAt: nullableDateTime, expiresIn: nullableString({ description: 'e.g. "in 3 days"' }) }, ['tag', 'expiresAt', 'expiresIn']),
  RetentionPolicyChange: object(POLICY),
  RetentionPolicy: object(
    { scope: { type: 'string', enum: ['repository', 'namespace', 'registry'] }, name: string(), policy: object(POLICY, Object.keys(POLICY)), updatedBy: nullableString(), updatedAt: dateTime },
    ['scope', 'name', 'policy', 'updatedBy', 'updatedAt'],
  ),
  RetentionRun: object({ dryRun: { type: 'boolean', description: 'list what would go, change nothing' } }),
  RetentionReport: object(
    {
      scope: string(),
      dryRun: { type: 'boolean' },
      repositories: { type: 'integer' },
      tagsJudged: { type: 'integer' },
      removed: { type: 'array', items: object({ repository: string(), tag: string(), digest: string(), skipped: string({ description: 'why it stayed after all (immutable, moved meanwhile)' }) }, ['repository', 'tag', 'digest']) },
      durationMs: { type: 'integer' },
    },
    ['scope', 'dryRun', 'repositories', 'tagsJudged', 'removed', 'durationMs'],
  ),
  TagExpiryChange: object({ in: string({ maxLength: 32, description: 'a duration: 3d, 12h, 2w' }), expiresAt: nullableDateTime }),
};
