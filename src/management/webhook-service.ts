// Webhooks as the management API sees them. A repository's hooks are its administrators'
// (repository admin role); a namespace's are its owner's or its organization
// administrators'; registry-wide hooks (and those the configuration declares) are
// superusers'. Anyone else is told the hook is not found, whether it exists or not.
import { RegistryError } from '../core/errors.ts';
import { validateRepositoryName } from '../core/names.ts';
import type { WebhookRecord } from '../metadata/webhook-store.ts';
import { webhookView, type DeliveryView, type NewWebhookInput, type Webhooks, type WebhookView } from '../webhooks/webhooks.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { denied, invalid, notFound, shown } from './input-checks.ts';

interface Scope {
  readonly namespace: string | null;
  readonly repository: string | null;
}

export class WebhookService {
  private readonly context: ManagementContext;
  private readonly webhooks: Webhooks | undefined;

  constructor(context: ManagementContext, webhooks: Webhooks | undefined) {
    this.context = context;
    this.webhooks = webhooks;
  }

  private service(): Webhooks {
    if (!this.webhooks) throw new RegistryError('UNSUPPORTED', 'webhooks are not available on this server');
    return this.webhooks;
  }

  /** Whether the caller administers hooks of this scope. */
  private async mayManage(caller: Caller, scope: Scope): Promise<boolean> {
    const account = this.context.account(caller);
    if (account.superuser) return true;
    if (scope.repository !== null) {
      const { role } = await this.context.access.access(caller, scope.repository);
      return role === 'admin';
    }
    if (scope.namespace === null) return false;
    if (account.kind === 'user' && account.name === scope.namespace) return true;
    const owner = await this.context.identity.findAccount(scope.namespace);
    return owner?.kind === 'organization' && account.kind === 'user' && (await this.context.isOrgAdmin(account, owner));
  }

  /** The hook, when the caller administers it; otherwise "not found" either way. */
  private async hook(caller: Caller, id: number): Promise<WebhookRecord> {
    this.context.account(caller);
    const hook = await this.service().store.get(id);
    if (!hook || !(await this.mayManage(caller, hook))) throw notFound(`webhook ${id} not found`);
    return hook;
  }

  private scopeOf(input: { namespace?: unknown; repository?: unknown }): Scope {
    const repository = input.repository ?? null;
    const namespace = input.namespace ?? null;
    if (repository !== null && namespace !== null) throw invalid('give a namespace or a repository, not both');
    if (repository !== null) {
      if (typeof repository !== 'string') throw invalid('repository must be a repository name');
      validateRepositoryName(repository);
      return { namespace: repository.split('/')[0]!, repository };
    }
    if (namespace !== null && (typeof namespace !== 'string' || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(namespace))) throw invalid('namespace must be a user or organization name');
    return { namespace: namespace as string | null, repository: null };
  }

  async createWebhook(caller: Caller, input: NewWebhookInput): Promise<{ webhook: WebhookView; secret: string | null }> {
    const account = this.context.account(caller);
    const scope = this.scopeOf(input);
    const where = scope.repository ?? scope.namespace ?? 'registry';
    return this.context.change(
      caller,
      'webhook',
      { action: 'create', scope: where, format: input.format ?? 'cloudevents', ...(scope.repository === null && scope.namespace !== null ? { account: scope.namespace } : {}) },
      async () => {
        if (!(await this.mayManage(caller, scope))) {
          throw denied(scope.namespace === null ? 'only a superuser may create registry-wide webhooks' : `you may not manage the webhooks of "${shown(where)}"`);
        }
        return this.service().create({ ...input, namespace: scope.namespace, repository: scope.repository }, account.name);
      },
      scope.repository ?? undefined,
    );
  }

  async listWebhooks(caller: Caller, filter: { namespace?: string | undefined; repository?: string | undefined }): Promise<WebhookView[]> {
    const account = this.context.account(caller);
    if (filter.namespace === undefined && filter.repository === undefined) {
      if (!account.superuser) throw invalid('give a namespace or a repository (only superusers list every webhook)');
      return (await this.service().store.list()).map(webhookView);
    }
    const scope = this.scopeOf(filter);
    if (!(await this.mayManage(caller, scope))) throw denied(`you may not manage the webhooks of "${shown(scope.repository ?? scope.namespace ?? '')}"`);
    const hooks = await this.service().store.list(scope.repository !== null ? { repository: scope.repository } : { namespace: scope.namespace ?? '' });
    return hooks.map(webhookView);
  }

  async getWebhook(caller: Caller, id: number): Promise<WebhookView> {
    return webhookView(await this.hook(caller, id));
  }

  async updateWebhook(caller: Caller, id: number, changes: { enabled?: unknown }): Promise<WebhookView> {
    if (typeof changes.enabled !== 'boolean') throw invalid('enabled must be true or false');
    const hook = await this.hook(caller, id);
    return this.context.change(caller, 'webhook', { action: changes.enabled ? 'enable' : 'disable', id }, () => this.service().setEnabled(id, changes.enabled as boolean), hook.repository ?? undefined);
  }

  async deleteWebhook(caller: Caller, id: number): Promise<void> {
    const hook = await this.hook(caller, id);
    if (hook.origin === 'config') throw invalid(`webhook ${id} comes from the configuration (${hook.name}); change the configuration instead`);
    await this.context.change(caller, 'webhook', { action: 'delete', id }, () => this.service().delete(id), hook.repository ?? undefined);
  }

  async testWebhook(caller: Caller, id: number): Promise<DeliveryView> {
    const hook = await this.hook(caller, id);
    return this.context.change(caller, 'webhook', { action: 'test', id }, () => this.service().sendTest(id, this.context.account(caller).name), hook.repository ?? undefined);
  }

  async listDeliveries(caller: Caller, id: number, options: { limit: number; before?: number | undefined }): Promise<DeliveryView[]> {
    await this.hook(caller, id);
    return this.service().deliveries(id, options.limit, options.before);
  }
}
