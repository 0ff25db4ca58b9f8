// Lifecycle operations of the management API: immutability rules, time-machine windows,
// tag history and restore, tag expiry, quotas. Namespace settings are for the namespace's
// administrators (the user itself, an organization's admins, superusers); quotas are set by
// superusers and read by the namespace's administrators; tag history needs read access to
// the repository, restore and expiry write access. Every change goes to the action log.
import { RegistryError } from '../core/errors.ts';
import type { Account } from '../core/identity.ts';
import { describeFromNow, formatLifetime, parseLifetime } from '../core/lifetime.ts';
import { parseSize } from '../core/size.ts';
import { isTag } from '../core/names.ts';
import { isValidGlob } from '../lifecycle/glob.ts';
import type { Lifecycle } from '../lifecycle/install-lifecycle.ts';
import type { ImmutabilityRule } from '../metadata/lifecycle-store.ts';
import { namespaceOf } from '../metadata/namespace-usage.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { denied, invalid, notFound, shown } from './input-checks.ts';
import { actorOf } from '../audit/action.ts';
import type { EventActor } from '../core/events.ts';
import type { RetentionScope, StoredRetentionPolicy } from '../metadata/retention-store.ts';
import type { RetentionPolicyJson } from '../lifecycle/retention-policy.ts';

function retentionView(stored: StoredRetentionPolicy) {
  return { scope: stored.scope, name: stored.name, policy: JSON.parse(stored.policy) as RetentionPolicyJson, updatedBy: stored.updatedBy, updatedAt: new Date(stored.updatedAt).toISOString() };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function ruleView(rule: ImmutabilityRule) {
  return { id: rule.id, namespace: rule.namespace, repository: rule.repositoryPattern, tag: rule.tagPattern, createdBy: rule.createdBy, createdAt: iso(rule.createdAt)! };
}

function eventActor(caller: Caller): EventActor {
  const actor = actorOf(caller);
  return { kind: actor.kind === 'system' ? 'system' : actor.kind, name: actor.name, address: caller.ip };
}

export class LifecycleService {
  private readonly context: ManagementContext;
  private readonly lifecycle: Lifecycle;
  private readonly now: () => number;

  constructor(context: ManagementContext, lifecycle: Lifecycle, clock: () => number = Date.now) {
    this.context = context;
    this.lifecycle = lifecycle;
    this.now = clock;
  }

  /** The caller administers the namespace: the user itself, an organization's admin, a superuser. */
  private async namespaceAdmin(caller: Caller, namespace: string): Promise<Account> {
    const account = this.context.account(caller);
    if (account.superuser) return account;
    const owner = await this.context.identity.findAccount(namespace);
    if (owner?.kind === 'user' && owner.id === account.id) return account;
    if (owner?.kind === 'organization' && (await this.context.isOrgAdmin(account, owner))) return account;
    throw denied(`only an administrator of namespace "${shown(namespace)}" may do this`);
  }

  // ---- immutability
  async listImmutabilityRules(caller: Caller, namespace: string) {
    await this.namespaceAdmin(caller, namespace);
    return (await this.lifecycle.store.immutabilityRules(namespace)).map(ruleView);
  }

  async addImmutabilityRule(caller: Caller, namespace: string, input: { repository?: string; tag: string }) {
    const account = await this.namespaceAdmin(caller, namespace);
    const repository = input.repository ?? `${namespace}/**`;
    if (!isValidGlob(repository) || !isValidGlob(input.tag)) throw invalid('patterns use letters, digits, . _ - / and the wildcards * ** ?');
    if (repository !== namespace && !repository.startsWith(`${namespace}/`)) throw invalid(`the repository pattern must be within namespace ${namespace} (${namespace}/...)`);
    return this.context.change(caller, 'lifecycle', { what: 'immutability-rule', action: 'add', namespace, repository, tag: input.tag }, async () => {
      const rule = await this.lifecycle.store.addImmutabilityRule({ namespace, repositoryPattern: repository, tagPattern: input.tag, createdBy: account.name, now: this.now() });
      this.lifecycle.immutability.forget();
      return ruleView(rule);
    });
  }

  async removeImmutabilityRule(caller: Caller, namespace: string, id: number): Promise<void> {
    await this.namespaceAdmin(caller, namespace);
    await this.context.change(caller, 'lifecycle', { what: 'immutability-rule', action: 'remove', namespace, id }, async () => {
      if (!(await this.lifecycle.store.removeImmutabilityRule(namespace, id))) throw notFound(`immutability rule ${id} not found in namespace ${shown(namespace)}`);
      this.lifecycle.immutability.forget();
    });
  }

  // ---- time machine
  async getTimeMachine(caller: Caller, namespace: string) {
    await this.namespaceAdmin(caller, namespace);
    return this.windowView(namespace);
  }

  async setTimeMachine(caller: Caller, namespace: string, input: { window: string | null }) {
    await this.namespaceAdmin(caller, namespace);
    const windowMs = input.window === null ? null : parseLifetime(input.window);
    if (windowMs === null && input.window !== null) throw invalid('a window is a duration such as 0s, 1d, 1w, 2w, 4w or 36h');
    return this.context.change(caller, 'lifecycle', { what: 'time-machine', namespace, window: input.window }, async () => {
      await this.lifecycle.timeMachine.setWindow(namespace, windowMs);
      return this.windowView(namespace);
    });
  }

  private async windowView(namespace: string) {
    const { windowMs, isDefault } = await this.lifecycle.timeMachine.window(namespace);
    return { namespace, window: formatLifetime(windowMs), windowSeconds: Math.floor(windowMs / 1000), default: isDefault };
  }

  // ---- tags: history, restore, expiry
  async tagHistory(caller: Caller, repository: string, tag: string | null) {
    await this.context.repositoryRole(caller, repository, 'read');
    if (tag !== null && !isTag(tag)) throw invalid('not a valid tag');
    const entries = await this.lifecycle.timeMachine.history(repository, tag ?? undefined);
    return entries.map((entry) => ({ ...entry, time: iso(entry.time)! }));
  }

  async restoreTag(caller: Caller, repository: string, tag: string, input: { digest: string }) {
    await this.context.repositoryRole(caller, repository, 'write');
    return this.context.change(
      caller,
      'restore',
      { tag, digest: input.digest },
      async () => {
        const result = await this.lifecycle.timeMachine.restore(repository, tag, input.digest, eventActor(caller));
        return { repository, tag, digest: result.digest, changed: result.changed };
      },
      repository,
    );
  }

  async listTagExpiries(caller: Caller, repository: string) {
    await this.context.repositoryRole(caller, repository, 'read');
    const now = this.now();
    const expiries = await this.lifecycle.store.tagExpiries(repository);
    return [...expiries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([tag, at]) => ({ tag, expiresAt: iso(at), expiresIn: describeFromNow(at, now) }));
  }

  /**
   * What the catalog's tag table shows per tag (readers): when it expires ("in 3 days") and
   * the immutability rule holding it, if any. The same store and guard the API and the
   * registry use, so the page and the write path never disagree.
   */
  async tagStates(caller: Caller, repository: string, tags: readonly string[]) {
    await this.context.repositoryRole(caller, repository, 'read');
    const now = this.now();
    const expiries = await this.lifecycle.store.tagExpiries(repository);
    const states = new Map<string, { expiresAt: string | null; expiresIn: string | null; immutableBy: string | null }>();
    for (const tag of tags) {
      const at = expiries.get(tag) ?? null;
      const rule = await this.lifecycle.immutability.ruleFor(repository, tag);
      states.set(tag, { expiresAt: iso(at), expiresIn: at === null ? null : describeFromNow(at, now), immutableBy: rule ? `${rule.repositoryPattern}:${rule.tagPattern}` : null });
    }
    return states;
  }

  async setTagExpiry(caller: Caller, repository: string, tag: string, input: { expiresAt?: string | null; in?: string }) {
    await this.context.repositoryRole(caller, repository, 'write');
    let at: number | null;
    if (input.in !== undefined) {
      const lifetime = parseLifetime(input.in);
      if (lifetime === null) throw invalid('"in" is a duration such as 3d, 12h, 2w or 90s');
      at = this.now() + lifetime;
    } else if (input.expiresAt === undefined) {
      throw invalid('give "in" (a duration) or "expiresAt" (a time, or null for never)');
    } else {
      at = input.expiresAt === null ? null : Date.parse(input.expiresAt);
    }
    return this.context.change(
      caller,
      'tag-expiry',
      { tag, expiresAt: iso(at) },
      async () => {
        if (!(await this.lifecycle.expiry.set(repository, tag, at))) throw notFound(`tag ${shown(tag)} not found in repository ${repository}`);
        return { repository, tag, expiresAt: iso(at), expiresIn: at === null ? null : describeFromNow(at, this.now()) };
      },
      repository,
    );
  }

  // ---- quotas
  async getQuota(caller: Caller, namespace: string) {
    await this.namespaceAdmin(caller, namespace);
    return this.quotaView(namespace);
  }

  async setQuota(caller: Caller, namespace: string, input: { warn?: string | number | null; reject?: string | number | null }) {
    this.context.superuser(caller, 'set quotas');
    const warn = bytes(input.warn, 'warn');
    const reject = bytes(input.reject, 'reject');
    if (warn !== null && reject !== null && warn > reject) throw invalid('the warning threshold must not be above the rejection threshold');
    return this.context.change(caller, 'lifecycle', { what: 'quota', namespace, warn, reject }, async () => {
      await this.lifecycle.quotas.setQuota(namespace, warn, reject, this.now());
      return this.quotaView(namespace);
    });
  }

  async removeQuota(caller: Caller, namespace: string): Promise<void> {
    this.context.superuser(caller, 'remove quotas');
    await this.context.change(caller, 'lifecycle', { what: 'quota', action: 'remove', namespace }, async () => {
      if (!(await this.lifecycle.quotas.removeQuota(namespace))) throw notFound(`namespace ${shown(namespace)} has no quota`);
    });
  }

  // ---- retention
  /** Who may set or run a scope's policy: repository admins, namespace admins, superusers for the registry default. */
  private async retentionScope(caller: Caller, scope: RetentionScope, name: string): Promise<Account> {
    if (scope === 'registry') return this.context.superuser(caller, 'set the registry retention policy');
    if (scope === 'namespace') return this.namespaceAdmin(caller, name);
    await this.context.repositoryRole(caller, name, 'admin');
    return this.context.account(caller);
  }

  async getRetention(caller: Caller, scope: RetentionScope, name: string) {
    await this.retentionScope(caller, scope, name);
    const stored = await this.lifecycle.retention.getPolicy(scope, name);
    if (!stored) throw notFound(`no retention policy for ${scope === 'registry' ? 'the registry' : `${scope} ${shown(name)}`}`);
    return retentionView(stored);
  }

  async setRetention(caller: Caller, scope: RetentionScope, name: string, input: RetentionPolicyJson) {
    const account = await this.retentionScope(caller, scope, name);
    return this.context.change(caller, 'lifecycle', { what: 'retention-policy', scope, name, policy: input }, async () =>
      retentionView(await this.lifecycle.retention.setPolicy(scope, name, input, account.name)),
    );
  }

  async removeRetention(caller: Caller, scope: RetentionScope, name: string): Promise<void> {
    await this.retentionScope(caller, scope, name);
    await this.context.change(caller, 'lifecycle', { what: 'retention-policy', action: 'remove', scope, name }, async () => {
      if (!(await this.lifecycle.retention.deletePolicy(scope, name))) throw notFound(`no retention policy for ${scope === 'registry' ? 'the registry' : `${scope} ${shown(name)}`}`);
    });
  }

  async runRetention(caller: Caller, scope: RetentionScope, name: string, input: { dryRun?: boolean }) {
    await this.retentionScope(caller, scope, name);
    return this.lifecycle.retention.run(scope, name, input.dryRun === true);
  }

  private async quotaView(namespace: string) {
    const quota = await this.lifecycle.quotas.getQuota(namespace);
    return {
      namespace,
      warnBytes: quota?.warnBytes ?? null,
      rejectBytes: quota?.rejectBytes ?? null,
      usedBytes: await this.lifecycle.quotas.usage(namespace),
      reclaimableBytes: await this.lifecycle.quotas.reclaimable(namespace),
    };
  }
}

function bytes(value: string | number | null | undefined, what: string): number | null {
  if (value === undefined || value === null) return null;
  const parsed = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? value : null) : parseSize(value);
  if (parsed === null) throw invalid(`${what}: a size in bytes or with a unit (500MiB, 2GiB)`);
  return parsed;
}

/** The namespace of a repository, for routes that take one. */
export { namespaceOf };

/** When lifecycle is not installed (a server built without it). */
export function lifecycleUnavailable(): RegistryError {
  return new RegistryError('UNSUPPORTED', 'lifecycle features are not enabled on this server');
}
