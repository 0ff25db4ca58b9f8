// Retention runs: for each repository, the most specific policy (the repository's, else its
// namespace's, else the registry default) judges its tags (retention-policy.ts); a dry run
// lists exactly what would go, a real run deletes those tags through the registry (guards
// hold: an immutable tag stays and is reported), each only while it still points where it
// did when judged. The report goes to the action log (`retention`) and the `retention.run`
// event. Deleted tags stay restorable through the time machine within its window.
import type { ActionRecorder } from '../audit/action.ts';
import { Denied } from '../core/errors.ts';
import type { EventPublisher } from '../core/events.ts';
import { namespaceOf } from '../metadata/namespace-usage.ts';
import type { RetentionScope, RetentionStore, StoredRetentionPolicy } from '../metadata/retention-store.ts';
import type { Registry } from '../registry/registry.ts';
import { judge, parsePolicy, policyJson, type RetentionPolicyJson } from './retention-policy.ts';

export interface RetentionRemoval {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  /** Why it stayed after all, in a real run (an immutable tag, a tag moved meanwhile). */
  readonly skipped?: string | undefined;
}

export interface RetentionReport {
  readonly scope: string;
  readonly dryRun: boolean;
  readonly repositories: number;
  readonly tagsJudged: number;
  readonly removed: RetentionRemoval[];
  readonly durationMs: number;
}

export interface RetentionOptions {
  readonly clock?: () => number;
  readonly events?: EventPublisher | undefined;
  readonly actions?: ActionRecorder | undefined;
}

const SYSTEM = { kind: 'system', name: 'custody' } as const;

export class Retention {
  private readonly registry: Registry;
  private readonly store: RetentionStore;
  private readonly now: () => number;
  private readonly options: RetentionOptions;

  constructor(registry: Registry, store: RetentionStore, options: RetentionOptions = {}) {
    this.registry = registry;
    this.store = store;
    this.now = options.clock ?? Date.now;
    this.options = options;
  }

  async setPolicy(scope: RetentionScope, name: string, json: RetentionPolicyJson, updatedBy: string | null): Promise<StoredRetentionPolicy> {
    const policy = parsePolicy(json); // validates; stored in its normal form
    return this.store.putPolicy(scope, name, JSON.stringify(policyJson(policy)), updatedBy, this.now());
  }

  getPolicy(scope: RetentionScope, name: string): Promise<StoredRetentionPolicy | null> {
    return this.store.getPolicy(scope, name);
  }

  deletePolicy(scope: RetentionScope, name: string): Promise<boolean> {
    return this.store.deletePolicy(scope, name);
  }

  /** Runs over one repository, a namespace's repositories, or all (`registry`). */
  async run(scope: RetentionScope, name: string, dryRun: boolean, signal?: AbortSignal): Promise<RetentionReport> {
    const started = this.now();
    const repositories = scope === 'repository' ? [name] : await this.store.repositories(scope === 'namespace' ? name : undefined);
    const policies = new Map<string, StoredRetentionPolicy | null>();
    const policyOf = async (s: RetentionScope, n: string): Promise<StoredRetentionPolicy | null> => {
      const key = `${s}\u0000${n}`;
      if (!policies.has(key)) policies.set(key, await this.store.getPolicy(s, n));
      return policies.get(key)!;
    };
    const removed: RetentionRemoval[] = [];
    let tagsJudged = 0;
    for (const repository of repositories) {
      if (signal?.aborted) break;
      const stored = (await policyOf('repository', repository)) ?? (await policyOf('namespace', namespaceOf(repository))) ?? (await policyOf('registry', ''));
      if (!stored) continue;
      const tags = await this.store.tags(repository);
      tagsJudged += tags.length;
      const now = this.now();
      const verdict = judge(parsePolicy(JSON.parse(stored.policy) as RetentionPolicyJson), tags, await this.store.indexEdges(repository), now);
      for (const tag of verdict.remove) {
        if (dryRun) {
          removed.push({ repository, tag: tag.tag, digest: tag.digest });
          continue;
        }
        try {
          await this.registry.deleteManifest(repository, tag.tag, SYSTEM, { reason: 'retention', ifDigest: tag.digest });
          removed.push({ repository, tag: tag.tag, digest: tag.digest });
        } catch (error) {
          if (error instanceof Denied) removed.push({ repository, tag: tag.tag, digest: tag.digest, skipped: error.message });
          else if ((error as { code?: unknown }).code === 'NOT_FOUND') removed.push({ repository, tag: tag.tag, digest: tag.digest, skipped: 'moved or deleted meanwhile' });
          else throw error;
        }
      }
    }
    const report: RetentionReport = { scope: scope === 'registry' ? 'registry' : `${scope}:${name}`, dryRun, repositories: repositories.length, tagsJudged, removed, durationMs: this.now() - started };
    if (!dryRun) this.announce(report);
    return report;
  }

  private announce(report: RetentionReport): void {
    const gone = report.removed.filter((entry) => entry.skipped === undefined);
    this.options.events?.publish('retention.run', { scope: report.scope, removed: gone.map((entry) => `${entry.repository}:${entry.tag}@${entry.digest}`), dryRun: false }, SYSTEM);
    this.options.actions?.record({
      kind: 'retention',
      result: 'success',
      actor: SYSTEM,
      ...(report.scope.startsWith('repository:') ? { repository: report.scope.slice('repository:'.length) } : report.scope.startsWith('namespace:') ? { namespace: report.scope.slice('namespace:'.length) } : {}),
      detail: {
        scope: report.scope,
        repositories: report.repositories,
        tagsJudged: report.tagsJudged,
        removed: gone.length,
        skipped: report.removed.length - gone.length,
        tags: gone.slice(0, 20).map((entry) => `${entry.repository}:${entry.tag}`),
      },
    });
  }
}
