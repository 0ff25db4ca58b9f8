// Immutability: a tag matched by a rule of its namespace may be created, but never moved to
// another digest nor deleted (directly, or by deleting the manifest it points at). Pushing
// by digest is always allowed. A write guard, so every path (HTTP, restore, expiry,
// retention) is held to it. Rules are read through a short cache: a rule added on another
// replica applies within RULE_CACHE_MS; one added here applies at once (forget()).
import { Denied } from '../core/errors.ts';
import type { LifecycleStore, ImmutabilityRule } from '../metadata/lifecycle-store.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { namespaceOf } from '../metadata/namespace-usage.ts';
import type { ManifestRemoval, ManifestWrite, WriteGuard } from '../registry/write-guard.ts';
import { globMatches } from './glob.ts';
import type { Digest } from '../core/digest.ts';

const RULE_CACHE_MS = 2000;

export class ImmutabilityGuard implements WriteGuard {
  private readonly store: LifecycleStore;
  private readonly metadata: MetadataStore;
  private readonly cache = new Map<string, { rules: ImmutabilityRule[]; until: number }>();

  constructor(store: LifecycleStore, metadata: MetadataStore) {
    this.store = store;
    this.metadata = metadata;
  }

  /** Drops cached rules (after a rule changed in this process). */
  forget(): void {
    this.cache.clear();
  }

  /** The first rule making `repository:tag` immutable, if any. */
  async ruleFor(repository: string, tag: string): Promise<ImmutabilityRule | undefined> {
    const rules = await this.rules(namespaceOf(repository));
    return rules.find((rule) => globMatches(rule.repositoryPattern, repository) && globMatches(rule.tagPattern, tag));
  }

  async beforeManifestWrite(write: ManifestWrite): Promise<void> {
    if (write.tag === undefined) return;
    const rule = await this.ruleFor(write.repository, write.tag);
    if (!rule) return;
    const current = await this.metadata.headManifestByTag(write.repository, write.tag);
    if (current && current.digest !== write.digest) throw immutable(write.tag, rule, 'moved');
  }

  async beforeManifestRemoval(removal: ManifestRemoval): Promise<void> {
    if (removal.tag !== undefined) {
      const rule = await this.ruleFor(removal.repository, removal.tag);
      if (rule) throw immutable(removal.tag, rule, 'deleted');
      return;
    }
    if (removal.digest === undefined) return;
    const rules = await this.rules(namespaceOf(removal.repository));
    if (rules.length === 0) return;
    for (const tag of await this.store.tagsPointingAt(removal.repository, removal.digest as Digest)) {
      const rule = await this.ruleFor(removal.repository, tag);
      if (rule) throw immutable(tag, rule, 'deleted');
    }
  }

  private async rules(namespace: string): Promise<ImmutabilityRule[]> {
    const now = Date.now();
    const cached = this.cache.get(namespace);
    if (cached && cached.until > now) return cached.rules;
    const rules = await this.store.immutabilityRules(namespace);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(namespace, { rules, until: now + RULE_CACHE_MS });
    return rules;
  }
}

export function describeRule(rule: ImmutabilityRule): string {
  return `rule ${rule.id}: ${rule.repositoryPattern}:${rule.tagPattern}`;
}

function immutable(tag: string, rule: ImmutabilityRule, what: 'moved' | 'deleted'): Denied {
  return new Denied('tag', `tag ${tag} is immutable (${describeRule(rule)}); it cannot be ${what}`, { detail: { tag, rule: { id: rule.id, repository: rule.repositoryPattern, tag: rule.tagPattern } } });
}
