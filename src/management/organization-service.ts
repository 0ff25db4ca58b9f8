// Organizations: created by any user (who joins its owners team), seen by members,
// changed and deleted by their administrators.
import { Conflict, RegistryError } from '../core/errors.ts';
import { UNOWNED_REPOSITORIES } from '../metadata/identity-store.ts';
import { repositoriesDeleted, type Caller, type ManagementContext } from './management-context.ts';
import { checkAccountName, checkDescription, checkEmail } from './input-checks.ts';
import { organizationView, type OrganizationView } from './views.ts';

export class OrganizationService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }

  async createOrganization(caller: Caller, input: { name: string; email?: string | null; description?: string | null }): Promise<OrganizationView> {
    const name = checkAccountName(input.name, 'organization');
    return this.context.change(caller, 'account', { action: 'create', account: name, accountKind: 'organization' }, async () => {
      const account = this.context.user(caller);
      const email = checkEmail(input.email);
      const description = checkDescription(input.description);
      try {
        // Like Quay: the creator administers the new organization through its owners team.
        // Repositories left in a namespace without an account are adopted only by a
        // superuser's decision; anyone else just finds the name taken.
        return organizationView(await this.context.identity.createOrganization({ name, email, description }, account.id, { adopt: account.superuser }));
      } catch (error) {
        if (!account.superuser && error instanceof Conflict && (error.detail as { reason?: string } | undefined)?.reason === UNOWNED_REPOSITORIES) {
          throw new RegistryError('CONFLICT', `the name "${name}" is taken`);
        }
        throw error;
      }
    });
  }

  async getOrganization(caller: Caller, name: string): Promise<OrganizationView> {
    const { org } = await this.context.memberOf(caller, name);
    return organizationView(org);
  }

  /** All organizations for a superuser; otherwise those the caller is a member of. */
  async listOrganizations(caller: Caller): Promise<OrganizationView[]> {
    const account = this.context.account(caller);
    if (account.superuser) return (await this.context.identity.listAccounts('organization')).map(organizationView);
    const ids = new Set((await this.context.identity.teamsOf(account.id)).map((team) => team.organizationId));
    const orgs: OrganizationView[] = [];
    for (const id of ids) {
      const org = await this.context.identity.findAccountById(id);
      if (org) orgs.push(organizationView(org));
    }
    return orgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async updateOrganization(caller: Caller, name: string, changes: { email?: string | null; description?: string | null }): Promise<OrganizationView> {
    return this.context.change(caller, 'account', { action: 'update', account: name, accountKind: 'organization', fields: Object.keys(changes) }, async () => {
      const { org } = await this.context.adminOf(caller, name);
      const update: { email?: string | null; description?: string | null } = {};
      if (changes.email !== undefined) update.email = checkEmail(changes.email);
      if (changes.description !== undefined) update.description = checkDescription(changes.description);
      return organizationView(await this.context.identity.updateAccount(org.id, update));
    });
  }

  async deleteOrganization(caller: Caller, name: string): Promise<void> {
    const detail: Record<string, unknown> = { action: 'delete', account: name, accountKind: 'organization' };
    await this.context.change(caller, 'account', detail, async () => {
      const { org } = await this.context.adminOf(caller, name);
      Object.assign(detail, repositoriesDeleted(await this.context.identity.deleteAccount(org.id)));
      this.context.authenticator.forget();
    });
  }
}
