// Settings for those allowed: a repository's visibility, description and permissions, and
// a user's personal access tokens (created and shown once, revoked). Every change goes
// through the management services, which authorise and record it: the pages decide nothing.
import { RegistryError } from '../../core/errors.ts';
import type { Role, Visibility } from '../../core/identity.ts';
import type { CatalogService } from '../../catalog/catalog-service.ts';
import type { ManagementService } from '../../management/management-service.ts';
import type { CreatedTokenView, GranteeKind } from '../../management/views.ts';
import { requestContext } from '../../server/request-auth.ts';
import { html, type Html } from '../html.ts';
import { card, repositoryPath } from '../layout.ts';
import type { WebAuth } from '../web-auth.ts';
import { redirect } from '../web-response.ts';
import type { PageRequest } from '../ui-pages.ts';
import { button, csrf } from './forms.ts';
import { quotaCard, webhookAction, webhooksCard, type WebhookOutcome } from './lifecycle-settings.ts';
import { namespaceOf } from '../../management/lifecycle-service.ts';

const ROLES: readonly Role[] = ['read', 'write', 'admin'];
const GRANTEE_KINDS: readonly GranteeKind[] = ['user', 'team', 'robot'];


export class SettingsPages {
  private readonly catalog: CatalogService;
  private readonly auth: WebAuth;
  private readonly management: ManagementService | undefined;

  constructor(catalog: CatalogService, auth: WebAuth, management: ManagementService | undefined) {
    this.catalog = catalog;
    this.auth = auth;
    this.management = management;
  }

  private require(context: PageRequest): ManagementService {
    if (!this.management || context.caller.principal.kind !== 'account') throw new RegistryError('NOT_FOUND', 'settings need a login');
    return this.management;
  }

  private caller(context: PageRequest) {
    return { ...context.caller.principal, ...requestContext(context.request) };
  }

  /** /settings/tokens: list, create (shown once), revoke. */
  async account(context: PageRequest): Promise<boolean> {
    if (context.path !== '/settings/tokens') return false;
    if (context.caller.principal.kind !== 'account') {
      redirect(context.response, '/login?next=/settings/tokens', context.caller.cookies);
      return true;
    }
    const management = this.require(context);
    const caller = this.caller(context);
    let created: CreatedTokenView | null = null;
    let problem: string | null = null;
    if (context.method === 'POST') {
      const form = await context.readForm();
      this.auth.checkCsrf(context.caller, context.request, form);
      try {
        if (form.get('action') === 'revoke') {
          await management.tokens.revokeToken(caller, Number(form.get('id')));
          await this.auth.keepAfterOwnRevocation(context.caller);
          redirect(context.response, '/settings/tokens');
          return true;
        }
        const days = Number(form.get('days') ?? '');
        created = await management.tokens.createToken(caller, { name: form.get('name') ?? '', expiresAt: Number.isFinite(days) && days > 0 ? new Date(Date.now() + days * 86_400_000).toISOString() : null });
      } catch (error) {
        if (!(error instanceof RegistryError) && !(error as { code?: string }).code) throw error;
        problem = (error as Error).message;
      }
    } else context.request.resume();
    const tokens = await management.tokens.listTokens(caller);
    const shown = created
      ? html`<div class="pf-v6-c-alert pf-m-success pf-m-inline" role="status"><p class="pf-v6-c-alert__title">Token "${created.name}" created. Copy it now: it is shown only once.</p>
          <div class="pf-v6-c-alert__description"><div class="custody-command"><code id="new-token">${created.token}</code><button class="pf-v6-c-button pf-m-secondary pf-m-small" type="button" data-copy="new-token"><span class="pf-v6-c-button__text">Copy</span></button></div>
          <p>Use it as the password: <code>podman login -u ${context.viewer.name ?? ''} ${context.host}</code>, or <code>Authorization: Bearer …</code> with /api/v1.</p></div></div>`
      : '';
    const list = tokens.length === 0
      ? html`<p class="custody-muted">No personal access tokens.</p>`
      : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Personal access tokens"><thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="pf-v6-screen-reader">Actions</span></th></tr></thead><tbody>
${tokens.map((token) => html`<tr><td>${token.name}</td><td>${token.createdAt.slice(0, 10)}</td><td>${token.expiresAt?.slice(0, 10) ?? 'never'}</td><td>${token.lastUsedAt?.slice(0, 16).replace('T', ' ') ?? 'never'}</td>
<td><form method="post" action="/settings/tokens">${csrf(context.caller.csrfToken)}<input type="hidden" name="action" value="revoke"><input type="hidden" name="id" value="${token.id}"><button class="pf-v6-c-button pf-m-danger pf-m-small" type="submit" aria-label="Revoke ${token.name}"><span class="pf-v6-c-button__text">Revoke</span></button></form></td></tr>`)}
</tbody></table></div>`;
    const form = html`<form method="post" action="/settings/tokens" class="custody-filters custody-row">${csrf(context.caller.csrfToken)}<input type="hidden" name="action" value="create">
  <div class="custody-grow"><label for="token-name">Name</label><input id="token-name" type="text" name="name" required maxlength="100" placeholder="CI on build host"></div>
  <div><label for="token-days">Expires after</label><select id="token-days" name="days"><option value="30">30 days</option><option value="90" selected>90 days</option><option value="365">1 year</option><option value="">never</option></select></div>
  <div>${button('Create token')}</div></form>`;
    context.send(problem ? 400 : created ? 201 : 200, 'Personal access tokens', html`<h1 class="pf-v6-c-title pf-m-2xl">Personal access tokens</h1>
${problem ? html`<div class="pf-v6-c-alert pf-m-danger pf-m-inline" role="alert"><p class="pf-v6-c-alert__title">${problem}</p></div>` : ''}${shown}
${card('Create a token', form)}${card('Your tokens', list)}`);
    return true;
  }

  /** /r/<name>/-/settings: visibility, description, permissions, webhooks, the namespace's quota (admins only). */
  async repository(context: PageRequest, repository: string): Promise<boolean> {
    const management = this.require(context);
    if (!(await this.catalog.mayAdminister(context.caller.principal, repository))) throw new RegistryError('DENIED', `administering ${repository} is required`);
    const caller = this.caller(context);
    let problem: string | null = null;
    let outcome: WebhookOutcome | null = null;
    if (context.method === 'POST') {
      const form = await context.readForm();
      this.auth.checkCsrf(context.caller, context.request, form);
      try {
        const action = form.get('action');
        outcome = await webhookAction(management, caller, repository, form);
        // A new hook's secret and a test's result are shown once, on this answer: no redirect.
        if (outcome?.created || outcome?.tested) {
          // fall through to the page
        } else if (outcome) {
          redirect(context.response, `${repositoryPath(repository)}/-/settings#webhooks`);
          return true;
        } else if (action === 'repository') {
          const visibility = form.get('visibility') as Visibility;
          const description = (form.get('description') ?? '').replace(/\r\n/g, '\n');
          await management.repositories.updateRepository(caller, repository, { visibility, description: description.trim() === '' ? null : description });
        } else if (action === 'grant') {
          await management.permissions.setPermission(caller, repository, { kind: form.get('kind') as GranteeKind, name: form.get('name') ?? '' }, form.get('role') as Role);
        } else if (action === 'revoke') {
          await management.permissions.deletePermission(caller, repository, { kind: form.get('kind') as GranteeKind, name: form.get('name') ?? '' });
        }
        if (!outcome) {
          redirect(context.response, `${repositoryPath(repository)}/-/settings`);
          return true;
        }
      } catch (error) {
        if (!(error instanceof RegistryError) && !(error as { code?: string }).code) throw error;
        problem = (error as Error).message;
      }
    } else context.request.resume();
    const settings = await management.repositories.getRepository(caller, repository);
    const permissions = await management.permissions.listPermissions(caller, repository);
    const token = context.caller.csrfToken;
    const [webhooks, quota] = await Promise.all([webhooksCard(management, caller, repository, token, outcome), quotaCard(management, caller, namespaceOf(repository))]);
    const general = html`<form class="pf-v6-c-form" method="post" action="${repositoryPath(repository)}/-/settings">${csrf(token)}<input type="hidden" name="action" value="repository">
  <fieldset class="custody-filters"><legend>Visibility</legend>
    <label><input type="radio" name="visibility" value="public"${settings.visibility === 'public' ? html` checked` : ''}> Public: anyone who may pull anonymously sees and pulls it</label>
    <label><input type="radio" name="visibility" value="private"${settings.visibility === 'private' ? html` checked` : ''}> Private: only those with a permission</label></fieldset>
  <div class="custody-filters"><label for="description">Description (Markdown)</label><span class="pf-v6-c-form-control"><textarea id="description" name="description" rows="8">${settings.description ?? ''}</textarea></span></div>
  <div>${button('Save')}</div></form>`;
    const rows = permissions.map((p) => html`<tr><td>${p.grantee.kind}</td><td>${p.grantee.name}</td><td>${p.role}</td><td><form method="post" action="${repositoryPath(repository)}/-/settings">${csrf(token)}<input type="hidden" name="action" value="revoke"><input type="hidden" name="kind" value="${p.grantee.kind}"><input type="hidden" name="name" value="${p.grantee.name}"><button class="pf-v6-c-button pf-m-danger pf-m-small" type="submit" aria-label="Remove ${p.grantee.name}"><span class="pf-v6-c-button__text">Remove</span></button></form></td></tr>`);
    const grant = html`<form method="post" action="${repositoryPath(repository)}/-/settings" class="custody-filters custody-row">${csrf(token)}<input type="hidden" name="action" value="grant">
  <div><label for="g-kind">Kind</label><select id="g-kind" name="kind">${GRANTEE_KINDS.map((kind) => html`<option>${kind}</option>`)}</select></div>
  <div class="custody-grow"><label for="g-name">Name</label><input id="g-name" type="text" name="name" required placeholder="alice, acme/owners, acme+ci"></div>
  <div><label for="g-role">Role</label><select id="g-role" name="role">${ROLES.map((role) => html`<option>${role}</option>`)}</select></div>
  <div>${button('Grant', 'secondary')}</div></form>`;
    context.send(problem ? 400 : outcome?.created ? 201 : 200, `Settings of ${repository}`, html`<h1 class="pf-v6-c-title pf-m-2xl">Settings of <a href="${repositoryPath(repository)}">${repository}</a></h1>
${problem ? html`<div class="pf-v6-c-alert pf-m-danger pf-m-inline" role="alert"><p class="pf-v6-c-alert__title">${problem}</p></div>` : ''}
${card('General', general)}
${card('Permissions', html`${permissions.length === 0 ? html`<p class="custody-muted">No explicit permissions: owners and organization defaults apply.</p>` : html`<div class="custody-table-wrap"><table class="pf-v6-c-table pf-m-compact" aria-label="Permissions"><thead><tr><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col"><span class="pf-v6-screen-reader">Actions</span></th></tr></thead><tbody>${rows}</tbody></table></div>`}${grant}`)}
${webhooks ? html`<div id="webhooks">${webhooks}</div>` : ''}
${quota ?? ''}`);
    return true;
  }
}
