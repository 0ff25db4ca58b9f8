// Personal access tokens: a user's own API and registry credentials, named, optionally
// expiring, shown once when created.
import { generateSecret, hashSecret } from '../auth/secrets.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { invalid, notFound } from './input-checks.ts';
import { tokenView, type CreatedTokenView, type TokenView } from './views.ts';

const MAX_TOKEN_NAME = 100;

export class PersonalTokenService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }


  async createToken(caller: Caller, input: { name: string; expiresAt?: string | null }): Promise<CreatedTokenView> {
    return this.context.change(caller, 'credential', { action: 'create', credentialKind: 'personal', name: typeof input.name === 'string' ? input.name.slice(0, MAX_TOKEN_NAME) : null }, async () => {
      const account = this.context.user(caller);
      if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > MAX_TOKEN_NAME || /[\u0000-\u001f\u007f]/.test(input.name)) {
        throw invalid(`a token needs a name of 1 to ${MAX_TOKEN_NAME} printable characters`);
      }
      let expiresAt: number | null = null;
      if (input.expiresAt !== undefined && input.expiresAt !== null) {
        expiresAt = typeof input.expiresAt === 'string' ? Date.parse(input.expiresAt) : NaN;
        if (!Number.isFinite(expiresAt)) throw invalid('expiresAt must be an RFC 3339 date and time');
        if (expiresAt <= Date.now()) throw invalid('expiresAt must be in the future');
      }
      const token = generateSecret('personal');
      const credential = await this.context.identity.addCredential({ accountId: account.id, kind: 'personal', name: input.name, secretHash: hashSecret(token), expiresAt });
      return { ...tokenView(credential), token };
    });
  }

  async listTokens(caller: Caller): Promise<TokenView[]> {
    const account = this.context.user(caller);
    return (await this.context.identity.listCredentials(account.id, 'personal')).map(tokenView);
  }

  async revokeToken(caller: Caller, id: number): Promise<void> {
    await this.context.change(caller, 'credential', { action: 'revoke', credentialKind: 'personal', id }, async () => {
      const account = this.context.user(caller);
      if (!Number.isSafeInteger(id) || id <= 0) throw invalid('a token id is a positive integer');
      const own = await this.context.identity.listCredentials(account.id, 'personal');
      if (!own.some((credential) => credential.id === id) || !(await this.context.identity.deleteCredential(account.id, id))) throw notFound(`token ${id} not found`);
      this.context.authenticator.forget();
    });
  }
}
