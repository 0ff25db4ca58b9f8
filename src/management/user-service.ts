// Users: who may create, see, change and delete them (superusers; users themselves for
// their own email and password), and the rule that one enabled superuser always remains.
import { randomBytes } from 'node:crypto';
import { RegistryError } from '../core/errors.ts';
import type { Account } from '../core/identity.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { repositoriesDeleted, type Caller, type ManagementContext } from './management-context.ts';
import { checkAccountName, checkEmail, checkPassword, denied, invalid, notFound, shown } from './input-checks.ts';
import { robotView, userView, type CreatedUserView, type RobotView, type UserView } from './views.ts';

export interface NewUserInput {
  readonly name: string;
  readonly email?: string | null;
  /** Omitted: the server generates one and returns it once. */
  readonly password?: string;
  readonly superuser?: boolean;
}

export interface UserChangesInput {
  readonly email?: string | null;
  readonly password?: string;
  /** Required when callers change their own password. */
  readonly currentPassword?: string;
  readonly superuser?: boolean;
  readonly disabled?: boolean;
}

export class UserService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }

  async whoami(caller: Caller): Promise<UserView | RobotView> {
    const account = this.context.account(caller);
    if (account.kind === 'robot') {
      const [token] = await this.context.identity.listCredentials(account.id, 'robot');
      return robotView(account, token);
    }
    return userView(account);
  }

  async createUser(caller: Caller, input: NewUserInput): Promise<CreatedUserView> {
    const name = checkAccountName(input.name, 'user');
    return this.context.change(caller, 'account', { action: 'create', account: name, accountKind: 'user', superuser: input.superuser === true }, async () => {
      this.context.superuser(caller, 'create users');
      const email = checkEmail(input.email);
      const generated = input.password === undefined ? randomBytes(18).toString('base64url') : undefined;
      const password = generated ?? checkPassword(input.password);
      if (input.superuser !== undefined && typeof input.superuser !== 'boolean') throw invalid('superuser must be true or false');
      const account = await this.context.identity.createAccount({ name, kind: 'user', email, passwordHash: await hashPassword(password), superuser: input.superuser === true });
      return { ...userView(account), ...(generated === undefined ? {} : { generatedPassword: generated }) };
    });
  }

  async getUser(caller: Caller, name: string): Promise<UserView> {
    const account = this.context.account(caller);
    if (account.name !== name && !account.superuser) throw denied('only a superuser may see other users');
    const user = await this.context.identity.findAccount(name);
    if (!user || user.kind !== 'user') throw notFound(`user "${shown(name)}" not found`);
    return userView(user);
  }

  async listUsers(caller: Caller): Promise<UserView[]> {
    this.context.superuser(caller, 'list users');
    return (await this.context.identity.listAccounts('user')).map(userView);
  }

  async updateUser(caller: Caller, name: string, changes: UserChangesInput): Promise<UserView> {
    const fields = Object.keys(changes).filter((key) => key !== 'password' && key !== 'currentPassword');
    return this.context.change(caller, 'account', { action: 'update', account: name, fields: [...fields, ...(changes.password !== undefined ? ['password'] : [])] }, async () => {
      const account = this.context.user(caller);
      const self = account.name === name;
      if (!self && !account.superuser) throw denied('only a superuser may change other users');
      if ((changes.superuser !== undefined || changes.disabled !== undefined) && !account.superuser) throw denied('only a superuser may change superuser or disabled');
      const user = await this.context.identity.findAccount(name);
      if (!user || user.kind !== 'user') throw notFound(`user "${shown(name)}" not found`);
      const update: { email?: string | null; passwordHash?: string; superuser?: boolean; disabled?: boolean } = {};
      if (changes.email !== undefined) update.email = checkEmail(changes.email);
      if (changes.superuser !== undefined) {
        if (typeof changes.superuser !== 'boolean') throw invalid('superuser must be true or false');
        update.superuser = changes.superuser;
      }
      if (changes.disabled !== undefined) {
        if (typeof changes.disabled !== 'boolean') throw invalid('disabled must be true or false');
        update.disabled = changes.disabled;
      }
      if (changes.password !== undefined) {
        if (user.ldapDn !== null) throw invalid('the password of an LDAP user is managed by the directory');
        const password = checkPassword(changes.password);
        if (self) {
          // A stolen session or token must not be enough to take the account over.
          const stored = await this.context.identity.passwordHash(user.id);
          if (typeof changes.currentPassword !== 'string' || stored === null || !(await verifyPassword(changes.currentPassword, stored))) {
            throw denied('changing your own password needs your current password (currentPassword)');
          }
        }
        update.passwordHash = await hashPassword(password);
      }
      if (user.superuser && (update.superuser === false || update.disabled === true)) await this.keepASuperuser(user);
      const updated = await this.context.identity.updateAccount(user.id, update);
      if (update.passwordHash !== undefined || update.disabled !== undefined || update.superuser !== undefined) this.context.authenticator.forget();
      return userView(updated);
    });
  }

  private async keepASuperuser(leaving: Account): Promise<void> {
    const others = (await this.context.identity.listAccounts('user')).filter((user) => user.superuser && !user.disabled && user.id !== leaving.id);
    if (others.length === 0) throw new RegistryError('CONFLICT', 'this is the last superuser: make another user superuser first');
  }

  async deleteUser(caller: Caller, name: string): Promise<void> {
    const detail: Record<string, unknown> = { action: 'delete', account: name, accountKind: 'user' };
    await this.context.change(caller, 'account', detail, async () => {
      this.context.superuser(caller, 'delete users');
      const user = await this.context.identity.findAccount(name);
      if (!user || user.kind !== 'user') throw notFound(`user "${shown(name)}" not found`);
      if (user.superuser) await this.keepASuperuser(user);
      Object.assign(detail, repositoriesDeleted(await this.context.identity.deleteAccount(user.id)));
      this.context.authenticator.forget();
    });
  }
}
