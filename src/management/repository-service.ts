// Repositories as the management API sees them: created empty where the caller may create
// one (claiming an unowned namespace for a superuser), listed a page at a time, shown to
// readers and changed (visibility, description) by their administrators.
import { RegistryError } from '../core/errors.ts';
import type { Visibility } from '../core/identity.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { checkDescription, checkRepositoryName, checkVisibility, invalid, mayNotCreateRepository, notFound } from './input-checks.ts';
import { repositoryView, type RepositoryView } from './views.ts';

export interface NewRepositoryInput {
  readonly name: string;
  readonly visibility?: Visibility;
  readonly description?: string | null;
}

export class RepositoryService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }


  async createRepository(caller: Caller, input: NewRepositoryInput): Promise<RepositoryView> {
    const name = checkRepositoryName(input.name);
    return this.context.change(
      caller,
      'repository',
      { action: 'create', visibility: input.visibility ?? 'private' },
      async () => {
        const account = this.context.account(caller);
        const visibility = input.visibility === undefined ? 'private' : checkVisibility(input.visibility);
        const description = checkDescription(input.description);
        const before = await this.context.access.access(caller, name);
        // Only those who may see the repository learn that it exists.
        if (before.exists && before.role !== null) throw new RegistryError('CONFLICT', `repository "${name}" exists already`);
        if (before.exists || before.role !== 'admin') throw mayNotCreateRepository(name);
        await this.context.access.claimNamespace(caller, name, { ip: caller.ip, userAgent: caller.userAgent });
        let settings = await this.context.identity.ensureRepository(name, visibility);
        if (description !== null) settings = (await this.context.identity.updateRepository(name, { description })) ?? settings;
        // Like Quay: whoever creates a repository administers it, even when the role that
        // let them create it (a creator team) gives none on existing repositories.
        const after = await this.context.access.access(caller, name);
        if (after.role !== 'admin') await this.context.identity.setPermission(settings.id, { kind: 'account', id: account.id }, 'admin');
        return repositoryView(settings, 'admin');
      },
      name,
    );
  }

  async getRepository(caller: Caller, name: string): Promise<RepositoryView> {
    checkRepositoryName(name);
    const { role } = await this.context.repositoryRole(caller, name, 'read');
    const settings = await this.context.identity.findRepository(name);
    if (!settings) throw notFound(`repository "${name}" not found`);
    return repositoryView(settings, role);
  }

  /** Repositories the caller may read (with content), bytewise after `last`. */
  async listRepositories(caller: Caller, options: { last?: string | undefined; limit: number }): Promise<{ repositories: RepositoryView[]; next: string | null }> {
    this.context.account(caller);
    if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > 1000) throw invalid('n must be an integer from 1 to 1000');
    const names = await this.context.access.readableRepositories(caller, options.last, options.limit + 1);
    const page = names.slice(0, options.limit);
    const repositories: RepositoryView[] = [];
    for (const name of page) {
      const settings = await this.context.identity.findRepository(name);
      if (settings) repositories.push(repositoryView(settings, (await this.context.access.access(caller, name)).role));
    }
    return { repositories, next: names.length > options.limit ? page[page.length - 1]! : null };
  }

  async updateRepository(caller: Caller, name: string, changes: { visibility?: Visibility; description?: string | null }): Promise<RepositoryView> {
    checkRepositoryName(name);
    return this.context.change(
      caller,
      'repository',
      { action: 'update', ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}), fields: Object.keys(changes) },
      async () => {
        await this.context.repositoryRole(caller, name, 'admin');
        const update: { visibility?: Visibility; description?: string | null } = {};
        if (changes.visibility !== undefined) update.visibility = checkVisibility(changes.visibility);
        if (changes.description !== undefined) update.description = checkDescription(changes.description);
        const settings = await this.context.identity.updateRepository(name, update);
        if (!settings) throw notFound(`repository "${name}" not found`);
        return repositoryView(settings, 'admin');
      },
      name,
    );
  }
}
