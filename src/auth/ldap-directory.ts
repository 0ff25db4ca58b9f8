// LDAP as a directory of users (ldapts): a user logs in with the directory password, is
// provisioned as a local account on first login, and their LDAP groups are mirrored to
// the teams that name them (Team.ldapGroup).
//
// One login, step by step:
//  1. The username is lowercased and must be a valid account name (it becomes one). LDAP
//     uids usually match case-insensitively, so "Alice" and "alice" are the same
//     directory user and the same local account, "alice". An empty password is refused
//     before anything is sent: in LDAP it is an unauthenticated bind, which servers answer
//     with success.
//  2. A service connection (bound as ldap.bindDn, or anonymous) searches ldap.userBase
//     with ldap.userFilter, {username} escaped per RFC 4515. Exactly one entry, else null.
//  3. A second, fresh connection binds as that entry's DN with the password. Every login
//     has its own connections, so binds never interleave on a shared connection. Wrong
//     password: null.
//  4. The local account is created (kind user, ldapDn set, email from
//     ldap.emailAttribute, no local password) or its ldapDn and email are refreshed. A
//     local account of the same name that did not come from LDAP (or is not a user) is
//     never taken over: null, and a warning.
//  5. Groups: the service connection searches ldap.groupBase (default: the parent of
//     ldap.userBase) with ldap.groupFilter ({dn} and {username} escaped; {username} is
//     the entry's uid as the directory spells it, since memberUid matches case-exactly,
//     or the lowercased login name when the entry has no such uid). The user is
//     added, as a synced member, to every team whose ldapGroup is one of those groups (DNs
//     compared case-insensitively, whitespace and escapes normalised), and removed from
//     synced teams whose group no longer holds them. Memberships added by hand
//     (synced = false) are never removed here, and a hand-added member stays hand-added.
//
// Errors reaching or speaking to the directory throw (the authenticator answers 503);
// failed group searches throw too rather than being taken as "no groups", which would
// strip memberships. Passwords are never logged.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { createRequire } from 'node:module';
import type { Client } from 'ldapts';

// Loaded on the first LDAP login: a registry without LDAP never pays for the library.
type Ldapts = typeof import('ldapts');
let ldapts: Ldapts | undefined;
const ldapLibrary = (): Ldapts => (ldapts ??= createRequire(import.meta.url)('ldapts') as Ldapts);
import { Conflict } from '../core/errors.ts';
import { ACCOUNT_NAME, MAX_ACCOUNT_NAME_LENGTH, type Account, type Team } from '../core/identity.ts';
import type { LdapConfig } from '../config/config.ts';
import type { AccountStore, TeamStore } from '../metadata/identity-store.ts';
import { OIDC_GROUP_PREFIX } from './oidc-sign-on.ts';
import type { Logger } from '../observability/logger.ts';
import type { DirectoryLogin } from './authenticator.ts';
import { fillFilter, normalizeDn, parentDn } from './ldap-names.ts';

export interface LdapDirectoryOptions {
  /** TCP (and TLS) connection timeout; default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Timeout of each LDAP operation; default 10 s. */
  readonly operationTimeoutMs?: number;
  /** Deadline of a whole login (all connections and operations); default 30 s. */
  readonly loginTimeoutMs?: number;
}

// Result codes that mean "this user may not log in" rather than "the directory is
// broken": invalidCredentials (49, also what most servers answer for locked or expired
// accounts), inappropriateAuthentication (48), insufficientAccessRights (50),
// unwillingToPerform (53, e.g. a disabled account).
const REJECTED_BIND_CODES = new Set([48, 49, 50, 53]);
const SIZE_LIMIT_EXCEEDED = 4;

export class LdapDirectory implements DirectoryLogin {
  private readonly config: LdapConfig;
  private readonly store: AccountStore & TeamStore;
  private readonly logger: Logger;
  private readonly url: URL;
  private readonly tls: ConnectionOptions;
  private readonly groupBase: string;
  private readonly connectTimeoutMs: number;
  private readonly operationTimeoutMs: number;
  private readonly loginTimeoutMs: number;
  private readonly open = new Set<Client>();
  private closed = false;

  constructor(config: LdapConfig, store: AccountStore & TeamStore, logger: Logger, options: LdapDirectoryOptions = {}) {
    this.config = config;
    this.store = store;
    this.logger = logger.child({ component: 'ldap' });
    this.url = new URL(config.url);
    if (this.url.protocol !== 'ldap:' && this.url.protocol !== 'ldaps:') throw new Error(`ldap.url: expected ldap:// or ldaps://, got ${config.url}`);
    if (this.url.protocol === 'ldaps:' && config.startTls) throw new Error('ldap.startTls applies to ldap:// URLs; ldaps:// is TLS already');
    const host = this.hostname();
    // A CA file is read once, at start: a missing or unreadable file is a configuration
    // mistake to report then, not at the first login.
    this.tls = {
      ...(config.caFile !== undefined ? { ca: readFileSync(config.caFile, 'utf8') } : {}),
      host,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    };
    this.groupBase = config.groupBase ?? parentDn(config.userBase) ?? config.userBase;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
    this.loginTimeoutMs = options.loginTimeoutMs ?? 30_000;
  }

  async login(username: string, password: string): Promise<Account | null> {
    if (this.closed) throw new Error('the LDAP directory is closed');
    // Never an anonymous or unauthenticated bind (RFC 4513 §5.1.2): refuse before any I/O.
    if (typeof password !== 'string' || password.length === 0) return null;
    const name = username.toLowerCase();
    if (name.length === 0 || name.length > MAX_ACCOUNT_NAME_LENGTH || !ACCOUNT_NAME.test(name)) return null;

    const clients: Client[] = [];
    const connect = async (): Promise<Client> => {
      const client = new (ldapLibrary().Client)({
        url: this.config.url,
        connectTimeout: this.connectTimeoutMs,
        timeout: this.operationTimeoutMs,
        ...(this.url.protocol === 'ldaps:' ? { tlsOptions: this.tls } : {}),
      });
      clients.push(client);
      this.open.add(client);
      if (this.config.startTls) await client.startTLS({ ...this.tls });
      return client;
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`LDAP login did not finish within ${this.loginTimeoutMs} ms`)), this.loginTimeoutMs);
    });
    try {
      return await Promise.race([this.loginSteps(name, password, connect), deadline]);
    } catch (error) {
      // The authenticator answers 503 without saying why: the operator learns it here.
      this.logger.error('LDAP login failed: the directory cannot be used', { user: name, url: this.config.url, error: (error as Error).message });
      throw error;
    } finally {
      clearTimeout(timer);
      await Promise.all(clients.map((client) => this.release(client)));
    }
  }

  /** Closes connections of logins in progress; later logins throw. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.open].map((client) => this.release(client)));
  }

  private async loginSteps(name: string, password: string, connect: () => Promise<Client>): Promise<Account | null> {
    const service = await connect();
    if (this.config.bindDn !== undefined) {
      try {
        await service.bind(this.config.bindDn, this.config.bindPassword ?? '');
      } catch (error) {
        // The service account's own credentials are wrong: a configuration problem, not the user's.
        throw describe(`LDAP service bind as ${this.config.bindDn}`, error);
      }
    }

    // 2. Find the user's entry.
    const filter = fillFilter(this.config.userFilter, { username: name });
    let entries;
    try {
      ({ searchEntries: entries } = await service.search(this.config.userBase, {
        scope: 'sub',
        filter,
        sizeLimit: 2,
        attributes: [this.config.emailAttribute, 'uid'],
      }));
    } catch (error) {
      if (error instanceof ldapLibrary().ResultCodeError && error.code === SIZE_LIMIT_EXCEEDED) entries = [{ dn: '' }, { dn: '' }];
      else throw describe(`LDAP user search under ${this.config.userBase}`, error);
    }
    if (entries.length !== 1) {
      if (entries.length > 1) this.logger.warn('LDAP login refused: several directory entries match the user', { user: name, filter });
      else this.logger.debug('LDAP login: no directory entry for the user', { user: name });
      // A bind a real user would cost, so an unknown name answers no faster than a wrong
      // password (that would tell which names exist). Its outcome does not matter.
      if (entries.length === 0) {
        const decoy = await connect().catch(() => undefined);
        await decoy?.bind(`cn=${randomBytes(12).toString('hex')},${this.config.userBase}`, password).catch(() => {});
      }
      return null;
    }
    const entry = entries[0]!;
    const dn = entry.dn;
    if (dn.trim() === '') return null;

    // 3. Bind as the user, on a connection of its own.
    const userClient = await connect();
    try {
      await userClient.bind(dn, password);
    } catch (error) {
      if (error instanceof ldapLibrary().InvalidCredentialsError || (error instanceof ldapLibrary().ResultCodeError && REJECTED_BIND_CODES.has(error.code))) {
        this.logger.debug('LDAP login: bind refused', { user: name, dn, code: (error as import('ldapts').ResultCodeError).code });
        return null;
      }
      throw describe(`LDAP bind as ${dn}`, error);
    }
    void this.release(userClient);

    // 4. The local account.
    const email = firstValue(entry[this.config.emailAttribute]);
    const account = await this.provision(name, dn, email);
    if (!account) return null;
    if (account.disabled) return account;

    // 5. Teams mirroring LDAP groups.
    // {username} in the group filter is the uid as the directory spells it: memberUid
    // matches case-exactly (RFC 2307), so "Carol" must not become "carol" there.
    const directoryName = values(entry.uid).find((uid) => uid.toLowerCase() === name) ?? name;
    await this.synchronizeGroups(service, account, dn, name, directoryName);
    return account;
  }

  private async provision(name: string, dn: string, email: string | null): Promise<Account | null> {
    let account = await this.store.findAccount(name);
    if (!account) {
      try {
        account = await this.store.createAccount({ name, kind: 'user', ldapDn: dn, email, passwordHash: null });
        this.logger.info('LDAP user provisioned', { user: name, dn });
        return account;
      } catch (error) {
        // Two first logins at once: the other one created it; check it like any existing one.
        if (!(error instanceof Conflict)) throw error;
        account = await this.store.findAccount(name);
        if (!account) {
          // The name is a namespace whose repositories belong to no account: whoever got
          // the name would administer them, so the directory does not hand it out.
          this.logger.warn('LDAP login refused: the name is taken', { user: name, dn, reason: error.message });
          return null;
        }
      }
    }
    if (account.kind !== 'user' || account.ldapDn === null) {
      this.logger.warn('LDAP login refused: a local account of that name exists and is not an LDAP user', { user: name, dn, kind: account.kind });
      return null;
    }
    if (account.ldapDn !== dn || account.email !== email) {
      if (account.ldapDn !== dn) this.logger.info('LDAP user moved in the directory', { user: name, from: account.ldapDn, to: dn });
      account = await this.store.updateAccount(account.id, { ldapDn: dn, email });
    }
    return account;
  }

  private async synchronizeGroups(service: Client, account: Account, dn: string, name: string, directoryName: string): Promise<void> {
    // Teams mirroring an OIDC group (oidc:<group>) are synced at OIDC logins, not here.
    const synced = (await this.store.listLdapSyncedTeams()).filter((team) => !team.ldapGroup?.startsWith(OIDC_GROUP_PREFIX));
    if (synced.length === 0) return;
    let searchEntries;
    try {
      ({ searchEntries } = await service.search(this.groupBase, {
        scope: 'sub',
        filter: fillFilter(this.config.groupFilter, { dn, username: directoryName }),
        attributes: ['1.1'],
      }));
    } catch (error) {
      throw describe(`LDAP group search under ${this.groupBase}`, error);
    }
    const groups = new Set(searchEntries.map((group) => normalizeDn(group.dn)).filter((key): key is string => key !== null));
    const current = new Set((await this.store.teamsOf(account.id)).map((team) => team.id));
    const added: string[] = [];
    const removed: string[] = [];
    for (const team of synced) {
      const key = team.ldapGroup === null ? null : normalizeDn(team.ldapGroup);
      const wanted = key !== null && groups.has(key);
      if (wanted && !current.has(team.id)) {
        if (await this.store.addTeamMember(team.id, account.id, true)) added.push(teamName(team));
      } else if (!wanted && current.has(team.id)) {
        const membership = (await this.store.listTeamMembers(team.id)).find((member) => member.account.id === account.id);
        if (membership?.synced && (await this.store.removeTeamMember(team.id, account.id))) removed.push(teamName(team));
      }
    }
    if (added.length > 0 || removed.length > 0) this.logger.info('LDAP groups synchronised', { user: name, added, removed });
  }

  private hostname(): string {
    // URL keeps IPv6 literals in brackets; TLS wants them bare.
    return this.url.hostname.replace(/^\[(.*)\]$/, '$1');
  }

  private async release(client: Client): Promise<void> {
    if (!this.open.delete(client)) return;
    try {
      await client.unbind();
    } catch {
      // The connection is gone already.
    }
  }
}

/** An error saying which step failed (ldapts's own messages are often just a result code). */
function describe(step: string, error: unknown): Error {
  const code = error instanceof ldapLibrary().ResultCodeError ? ` (result code ${error.code})` : '';
  return new Error(`${step} failed${code}: ${(error as Error).message || (error as Error).name}`, { cause: error });
}

function values(value: Buffer | Buffer[] | string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => (Buffer.isBuffer(item) ? item.toString('utf8') : item));
}

function firstValue(value: Buffer | Buffer[] | string[] | string | undefined): string | null {
  const text = values(value)[0]?.trim();
  return text === undefined || text === '' ? null : text;
}

function teamName(team: Team): string {
  return `${team.organization}/${team.name}`;
}
