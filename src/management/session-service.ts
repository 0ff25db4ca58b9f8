// Login sessions: the refresh tokens docker, podman and skopeo keep after a login
// (`offline_token`), and later the web catalog's sessions. Their users list and revoke
// them; superusers do for any user, and a robot's managers for the robot. Revoking ends
// the refresh token and, through the account's security stamp, the registry tokens
// issued to the account before (clients holding good credentials get new ones).
import { RegistryError } from '../core/errors.ts';
import type { Account, Credential } from '../core/identity.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { sessionView, type SessionView } from './views.ts';

/** Whose sessions: the caller's own, a user's (themselves or superusers), a robot's (its managers). */
export type SessionOwner = { readonly kind: 'self' } | { readonly kind: 'user'; readonly name: string } | { readonly kind: 'robot'; readonly name: string };

export class SessionService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }

  async list(caller: Caller, owner: SessionOwner): Promise<SessionView[]> {
    const account = await this.owner(caller, owner);
    return (await this.live(account)).map(sessionView);
  }

  async revoke(caller: Caller, owner: SessionOwner, id: number): Promise<void> {
    await this.context.change(caller, 'credential', { action: 'revoke', credentialKind: 'refresh', ...this.named(caller, owner), id }, async () => {
      const account = await this.owner(caller, owner);
      if (!Number.isSafeInteger(id) || id <= 0) throw new RegistryError('INVALID_REQUEST', 'a session id is a positive integer');
      const own = await this.context.identity.listCredentials(account.id, 'refresh');
      if (!own.some((credential) => credential.id === id) || !(await this.context.identity.deleteCredential(account.id, id))) {
        throw new RegistryError('NOT_FOUND', `session ${id} not found`);
      }
      this.context.authenticator.forget();
    });
  }

  async revokeAll(caller: Caller, owner: SessionOwner): Promise<{ revoked: number }> {
    return this.context.change(caller, 'credential', { action: 'revoke-all', credentialKind: 'refresh', ...this.named(caller, owner) }, async () => {
      const account = await this.owner(caller, owner);
      const revoked = await this.context.identity.deleteCredentials(account.id, 'refresh');
      this.context.authenticator.forget();
      return { revoked };
    });
  }

  /** The refresh tokens of the account that have not expired, oldest first. */
  private async live(account: Account): Promise<Credential[]> {
    const now = Date.now();
    return (await this.context.identity.listCredentials(account.id, 'refresh')).filter((credential) => credential.expiresAt === null || credential.expiresAt > now);
  }

  /** The account whose sessions are meant, when the caller may manage them. */
  private async owner(caller: Caller, owner: SessionOwner): Promise<Account> {
    if (owner.kind === 'robot') return (await this.context.robot(caller, owner.name)).robot;
    const account = this.context.user(caller);
    if (owner.kind === 'self' || owner.name === account.name) return account;
    if (!account.superuser) throw new RegistryError('DENIED', 'only a superuser may manage the sessions of other users');
    const user = await this.context.identity.findAccount(owner.name);
    if (!user || user.kind !== 'user') throw new RegistryError('NOT_FOUND', `user "${owner.name.slice(0, 80)}" not found`);
    return user;
  }

  /** The account named in the action log entry (its namespace's administrators see it). */
  private named(caller: Caller, owner: SessionOwner): { account?: string } {
    if (owner.kind !== 'self') return { account: owner.name };
    return caller.kind === 'account' ? { account: caller.account.name } : {};
  }
}
