// LDAP directory login (stub: being implemented; replace wholesale).
import type { Account } from '../core/identity.ts';
import type { LdapConfig } from '../config/config.ts';
import type { IdentityStore } from '../metadata/identity-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { DirectoryLogin } from './authenticator.ts';

export class LdapDirectory implements DirectoryLogin {
  constructor(config: LdapConfig, store: IdentityStore, logger: Logger) {
    void config;
    void store;
    void logger;
  }
  async login(username: string, password: string): Promise<Account | null> {
    void username;
    void password;
    return null;
  }
  async close(): Promise<void> {}
}
