// The composition root's second half: the services that decide who may do what, the
// action log (recording the registry's push, delete and mount events, its retention a
// job on the root's scheduler), and the routes outside /v2/ (token endpoint, management
// API, action log API). Chooses the concrete directory (LDAP) and forwarders.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { ActionLog } from '../audit/action-log.ts';
import { SqlActionLogStore } from '../audit/sql-action-log-store.ts';
import { createForwarders } from '../audit/forwarders.ts';
import { parseHeaderList } from '../config/config.ts';
import type { Webhooks } from '../webhooks/webhooks.ts';
import { AccessControl } from '../auth/access-control.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { LoginThrottle } from '../auth/login-throttle.ts';
import { SqlLoginAttemptStore } from '../metadata/sql-login-attempt-store.ts';
import { hashPassword } from '../auth/passwords.ts';
import { TokenService } from '../auth/token-service.ts';
import { LdapDirectory } from '../auth/ldap-directory.ts';
import { OidcSignOn } from '../auth/oidc-sign-on.ts';
import { SqlOidcIdentityStore } from '../metadata/identity/sql-oidc-identity-store.ts';
import { ManagementService } from '../management/management-service.ts';
import type { MirrorAdministration } from '../management/mirror-management.ts';
import { ManagementApi } from '../server/management-api.ts';
import { ActionLogApi } from '../server/action-log-api.ts';
import { TokenEndpoint } from '../server/token-endpoint.ts';
import type { RouteTable } from '../server/route-table.ts';
import type { SecurityServices } from '../server/security.ts';
import type { IdentityStore } from '../metadata/identity-store.ts';
import type { OpenedStores } from './open-stores.ts';
import type { JobScheduler } from '../jobs/job-scheduler.ts';
import { recordRegistryActions } from '../audit/registry-actions.ts';

export interface OpenedSecurity {
  /** Absent when auth.enabled is false: every request is then allowed. */
  readonly security: SecurityServices | undefined;
  readonly actionLog: ActionLog;
  /** Token endpoint and action log API first; the management API (which answers 404
   * for any other /api/v1 path) must come after routes that share its prefix. */
  readonly routes: readonly RouteTable[];
  readonly managementRoutes: readonly RouteTable[];
  /** The management domain, for features the composition root adds (lifecycle, the web catalog's settings). */
  readonly management: ManagementService;
  close(): Promise<void>;
}

export interface OpenSecurityOptions {
  readonly config: Config;
  readonly stores: OpenedStores;
  readonly scheduler: JobScheduler;
  /** The webhook domain the management API serves (/api/v1/webhooks). */
  readonly webhooks?: Webhooks | undefined;
  readonly logger: Logger;
  /** Repository mirroring, for its management routes. */
  readonly mirrors?: MirrorAdministration | undefined;
}

export async function openSecurity({ config, stores, scheduler, logger, webhooks, mirrors }: OpenSecurityOptions): Promise<OpenedSecurity> {
  const actionLog = new ActionLog({
    store: new SqlActionLogStore(stores.sql),
    logger,
    flushIntervalMs: config.audit.flushIntervalMs,
    retentionMs: config.audit.retentionMs,
    forwarders: createForwarders({ ...config.audit, forwardHeaders: config.audit.forwardHeaders === undefined ? undefined : parseHeaderList(config.audit.forwardHeaders) }, logger),
    scheduler,
  });
  const stopRecording = recordRegistryActions(stores.events, actionLog);
  const identity = stores.identity;
  await bootstrapAdministrator(identity, config, logger);
  const directory = config.ldap ? new LdapDirectory(config.ldap, identity, logger) : undefined;
  const access = new AccessControl(identity, { anonymousPull: config.auth.anonymousPull, actions: actionLog });
  const authenticator = new Authenticator({
    store: identity,
    throttle: new LoginThrottle(new SqlLoginAttemptStore(stores.sql), config.auth.throttle),
    actions: actionLog,
    directory,
    broadcast: stores.broadcast,
    onBroadcastError: (error) => logger.warn('could not tell the other replicas to forget credentials', { error }),
  });
  const tokens = await TokenService.open(identity, { issuer: config.auth.service, lifetimeSeconds: Math.max(1, Math.round(config.auth.tokenLifetimeMs / 1000)) });
  const security: SecurityServices = {
    identity,
    access,
    authenticator,
    tokens,
    service: config.auth.service,
    publicUrl: config.auth.publicUrl,
    refreshTokenLifetimeMs: config.auth.refreshTokenLifetimeMs,
    oidc: config.oidc ? new OidcSignOn(config.oidc, identity, new SqlOidcIdentityStore(stores.sql), logger, actionLog) : undefined,
  };
  const management = new ManagementService({ identity, access, actions: actionLog, authenticator, webhooks, mirrors });
  const routes: RouteTable[] = [new TokenEndpoint(security, actionLog), new ActionLogApi(actionLog, security)];
  const managementRoutes: RouteTable[] = [new ManagementApi(management, security)];
  if (!config.auth.enabled) logger.warn('authentication is disabled (auth.enabled=false): anyone who can reach the registry may push, pull and delete');
  return {
    security: config.auth.enabled ? security : undefined,
    actionLog,
    routes,
    managementRoutes,
    management,
    async close() {
      // Events of the last requests are recorded before the log writes its queue out.
      await stores.events.drain();
      stopRecording();
      await actionLog.close();
      await directory?.close();
    },
  };
}

/**
 * First start: with no user at all, creates the administrator (a superuser) with the
 * configured password, or a generated one printed once on stderr, never logged.
 */
export async function bootstrapAdministrator(identity: IdentityStore, config: Config, logger: Logger): Promise<void> {
  if ((await identity.countAccounts('user')) > 0) return;
  const generated = config.admin.password === undefined;
  const password = config.admin.password ?? randomBytes(18).toString('base64url');
  try {
    await identity.createAccount({ name: config.admin.username, kind: 'user', superuser: true, passwordHash: await hashPassword(password) });
  } catch (error) {
    // Another replica created it first.
    if ((error as { code?: string }).code === 'CONFLICT') return;
    throw error;
  }
  logger.info('administrator created', { username: config.admin.username, passwordFrom: generated ? 'generated' : 'admin.password' });
  if (generated) process.stderr.write(`custody: created the administrator "${config.admin.username}" with password ${password}\ncustody: it is shown once; change it or set CUSTODY_ADMIN_PASSWORD on a fresh data directory\n`);
}
