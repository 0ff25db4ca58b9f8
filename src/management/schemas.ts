// JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the management API's bodies. The
// same objects validate requests (validate.ts) and describe them (server/openapi.ts), so
// the document cannot drift from what the server accepts.
import { REFRESH_TOKEN_SOURCES, ROLES, TEAM_ROLES } from '../core/identity.ts';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/webhooks.ts';
import { LIFECYCLE_SCHEMAS } from './lifecycle-schemas.ts';

import { dateTime, nullableDateTime, nullableString, object, ref, string, type JsonSchema } from './schema-builders.ts';

export type { JsonSchema };

const ROLE: JsonSchema = { type: 'string', enum: [...ROLES], description: 'read < write < admin; each includes the ones before it' };
const TEAM_ROLE: JsonSchema = { type: 'string', enum: [...TEAM_ROLES], description: 'member: what permissions say; creator: may also create repositories; admin: administers the organization' };
const VISIBILITY: JsonSchema = { type: 'string', enum: ['public', 'private'] };
const DESCRIPTION = nullableString({ maxLength: 1024 });
const EMAIL = nullableString({ maxLength: 254, description: 'an email address' });
const GRANTEE: JsonSchema = object({ kind: { type: 'string', enum: ['user', 'robot', 'team'] }, name: string({ description: 'user or robot name; a team as ORG/TEAM' }) }, ['kind', 'name']);

const WEBHOOK_FORMAT: JsonSchema = {
  type: 'string',
  enum: ['cloudevents', 'slack', 'distribution', 'quality-notice'],
  description: 'cloudevents (CloudEvents 1.0 structured JSON, default), slack ({"text"}), distribution (CNCF Distribution notification envelope), quality-notice (the quality.notifyUrl JSON)',
};
const WEBHOOK_EVENT: JsonSchema = { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] };
const WEBHOOK_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'integer' },
  name: string(),
  namespace: nullableString(),
  repository: nullableString(),
  url: string(),
  format: WEBHOOK_FORMAT,
  events: { type: 'array', items: WEBHOOK_EVENT },
  signed: { type: 'boolean', description: 'requests carry a Custody-Signature header' },
  enabled: { type: 'boolean' },
  failures: { type: 'integer', description: 'failed attempts in a row' },
  disabledReason: nullableString(),
  origin: { type: 'string', enum: ['api', 'config'] },
  createdBy: nullableString(),
  createdAt: dateTime,
};
const DELIVERY_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'integer' },
  event: string(),
  eventId: string(),
  status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
  attempts: { type: 'integer' },
  responseCode: { type: ['integer', 'null'] },
  latencyMs: { type: ['integer', 'null'] },
  error: nullableString(),
  createdAt: dateTime,
  updatedAt: dateTime,
  nextAttemptAt: nullableDateTime,
};

const USER_PROPERTIES: Record<string, JsonSchema> = {
  name: string(),
  kind: { const: 'user' },
  email: EMAIL,
  superuser: { type: 'boolean' },
  disabled: { type: 'boolean' },
  ldap: { type: 'boolean', description: 'provisioned from LDAP: the directory checks the password' },
  createdAt: dateTime,
};

const MIRROR_PROPERTIES: Record<string, JsonSchema> = {
  repository: string(),
  remoteRegistry: string(),
  remoteRepository: string(),
  include: { type: 'array', items: string() },
  exclude: { type: 'array', items: string() },
  intervalMs: { type: 'integer' },
  username: nullableString(),
  hasSecret: { type: 'boolean', description: 'a password or token is stored (never shown)' },
  enabled: { type: 'boolean' },
  createdAt: dateTime,
  lastRunAt: nullableDateTime,
  lastStatus: { type: ['string', 'null'], enum: ['running', 'succeeded', 'failed', null] },
  lastError: nullableString(),
};

const MIRROR_RUN_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'integer' },
  startedAt: dateTime,
  finishedAt: nullableDateTime,
  status: { type: 'string', enum: ['running', 'succeeded', 'failed'] },
  tagsCopied: { type: 'integer' },
  bytes: { type: 'integer' },
  error: nullableString(),
};

const ROBOT_PROPERTIES: Record<string, JsonSchema> = {
  name: string({ description: 'OWNER+SHORTNAME' }),
  owner: string(),
  shortName: string(),
  description: DESCRIPTION,
  createdAt: dateTime,
  tokenCreatedAt: nullableDateTime,
  lastUsedAt: nullableDateTime,
};

const TOKEN_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'integer' },
  name: string(),
  createdAt: dateTime,
  expiresAt: nullableDateTime,
  lastUsedAt: nullableDateTime,
};

const SESSION_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'integer' },
  kind: { const: 'refresh-token' },
  createdAt: dateTime,
  lastUsedAt: nullableDateTime,
  expiresAt: nullableDateTime,
  userAgent: nullableString({ description: 'the client that logged in, as its User-Agent said' }),
  ip: nullableString({ description: 'the address it logged in from' }),
  mintedFrom: { type: ['string', 'null'], enum: [...REFRESH_TOKEN_SOURCES, null], description: 'what the login used; the session ends with it' },
  fromTokenId: { type: ['integer', 'null'], description: 'the personal access token or robot token the login used' },
};

/** Every named schema: request bodies (New*, *Changes, PermissionChange) and responses. */
export const SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  Error: object(
    {
      errors: {
        type: 'array',
        items: object({ code: string({ description: 'e.g. INVALID_REQUEST, UNAUTHORIZED, DENIED, NOT_FOUND, CONFLICT' }), message: string(), detail: {} }, ['code', 'message']),
      },
    },
    ['errors'],
    { description: 'The error envelope of every failure (the OCI distribution format)' },
  ),
  User: object(USER_PROPERTIES, Object.keys(USER_PROPERTIES)),
  CreatedUser: object({ ...USER_PROPERTIES, generatedPassword: string({ description: 'only when the request had no password: shown this once' }) }, Object.keys(USER_PROPERTIES)),
  NewUser: object(
    {
      name: string({ pattern: '^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*$', maxLength: 64 }),
      email: EMAIL,
      password: string({ minLength: 8, description: 'omitted: the server generates one and returns it once' }),
      superuser: { type: 'boolean' },
    },
    ['name'],
  ),
  UserChanges: object({
    email: EMAIL,
    password: string({ minLength: 8 }),
    currentPassword: string({ description: 'required to change your own password' }),
    superuser: { type: 'boolean', description: 'superusers only' },
    disabled: { type: 'boolean', description: 'superusers only' },
  }),
  Organization: object(
    { name: string(), kind: { const: 'organization' }, email: EMAIL, description: DESCRIPTION, createdAt: dateTime },
    ['name', 'kind', 'email', 'description', 'createdAt'],
  ),
  NewOrganization: object({ name: string({ pattern: '^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*$', maxLength: 64 }), email: EMAIL, description: DESCRIPTION }, ['name']),
  OrganizationChanges: object({ email: EMAIL, description: DESCRIPTION }),
  Team: object(
    { organization: string(), name: string(), role: TEAM_ROLE, description: DESCRIPTION, ldapGroup: nullableString(), createdAt: dateTime },
    ['organization', 'name', 'role', 'description', 'ldapGroup', 'createdAt'],
  ),
  NewTeam: object({ name: string({ pattern: '^[a-z][a-z0-9_-]{0,63}$' }), role: TEAM_ROLE, description: DESCRIPTION, ldapGroup: nullableString({ maxLength: 1024, description: 'an LDAP group whose members this team mirrors' }) }, ['name']),
  TeamChanges: object({ role: TEAM_ROLE, description: DESCRIPTION, ldapGroup: nullableString({ maxLength: 1024 }) }),
  Member: object({ name: string(), kind: { type: 'string', enum: ['user', 'robot'] }, synced: { type: 'boolean', description: 'added by LDAP group synchronisation' } }, ['name', 'kind', 'synced']),
  Robot: object(ROBOT_PROPERTIES, Object.keys(ROBOT_PROPERTIES)),
  CreatedRobot: object({ ...ROBOT_PROPERTIES, token: string({ description: 'the robot token: shown once, never again' }) }, [...Object.keys(ROBOT_PROPERTIES), 'token']),
  NewRobot: object({ name: string({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'the short name; the robot is OWNER+NAME' }), description: DESCRIPTION }, ['name']),
  Repository: object(
    { name: string(), namespace: nullableString(), visibility: VISIBILITY, description: DESCRIPTION, createdAt: dateTime, role: { type: ['string', 'null'], enum: [...ROLES, null], description: "the caller's role" } },
    ['name', 'namespace', 'visibility', 'description', 'createdAt', 'role'],
  ),
  RepositoryList: object({ repositories: { type: 'array', items: ref('Repository') }, next: nullableString({ description: 'pass as `last` for the next page' }) }, ['repositories', 'next']),
  NewRepository: object({ name: string({ maxLength: 255 }), visibility: VISIBILITY, description: DESCRIPTION }, ['name']),
  RepositoryChanges: object({ visibility: VISIBILITY, description: DESCRIPTION }),
  Permission: object({ grantee: GRANTEE, role: ROLE }, ['grantee', 'role']),
  PermissionChange: object({ role: ROLE }, ['role']),
  RepositoryAccess: object(
    {
      repository: string(),
      visibility: VISIBILITY,
      entries: {
        type: 'array',
        items: object(
          {
            principal: object({ kind: { type: 'string', enum: ['user', 'robot', 'anonymous', 'authenticated'] }, name: nullableString() }, ['kind', 'name']),
            role: ROLE,
            sources: {
              type: 'array',
              items: object({ via: { type: 'string', enum: ['superuser', 'owner', 'admin-team', 'direct', 'team', 'default', 'public'] }, role: ROLE, team: string() }, ['via', 'role']),
            },
          },
          ['principal', 'role', 'sources'],
        ),
      },
    },
    ['repository', 'visibility', 'entries'],
  ),
  Mirror: object(MIRROR_PROPERTIES, Object.keys(MIRROR_PROPERTIES)),
  NewMirror: object(
    {
      repository: string({ maxLength: 255, description: 'the local repository; read-only to users once it is a mirror' }),
      remoteRegistry: string({ maxLength: 255, description: 'host[:port] (HTTPS), or http(s)://host[:port]' }),
      remoteRepository: string({ maxLength: 255 }),
      include: { type: 'array', items: string({ maxLength: 128 }), description: 'tag globs (* and ?); default every tag' },
      exclude: { type: 'array', items: string({ maxLength: 128 }), description: 'tag globs left out' },
      intervalMs: { type: 'integer', description: 'milliseconds between syncs (at least 1000; default one hour)' },
      username: string({ maxLength: 255, description: 'a robot or user of the remote registry' }),
      password: string({ maxLength: 4096, description: 'its password or token: stored encrypted, never shown' }),
      enabled: { type: 'boolean', description: 'synced on schedule (default true)' },
    },
    ['repository', 'remoteRegistry', 'remoteRepository'],
  ),
  MirrorRun: object(MIRROR_RUN_PROPERTIES, Object.keys(MIRROR_RUN_PROPERTIES)),
  Token: object(TOKEN_PROPERTIES, Object.keys(TOKEN_PROPERTIES)),
  CreatedToken: object({ ...TOKEN_PROPERTIES, token: string({ description: 'the token: shown once, never again' }) }, [...Object.keys(TOKEN_PROPERTIES), 'token']),
  NewToken: object({ name: string({ minLength: 1, maxLength: 100 }), expiresAt: { ...nullableDateTime, description: 'omitted or null: never expires' } }, ['name']),
  Whoami: { oneOf: [ref('User'), ref('Robot')] },
  Session: object(SESSION_PROPERTIES, Object.keys(SESSION_PROPERTIES)),
  RevokedSessions: object({ revoked: { type: 'integer', description: 'how many sessions ended' } }, ['revoked']),
  NewWebhook: object(
    {
      name: string({ maxLength: 200 }),
      namespace: nullableString({ description: 'a user or organization: the hook hears its repositories and namespace events (give this or repository; neither: registry-wide, superusers only)' }),
      repository: nullableString({ description: 'one repository' }),
      url: string({ maxLength: 2048, description: 'http(s) URL the events are POSTed to' }),
      format: WEBHOOK_FORMAT,
      events: { type: 'array', items: WEBHOOK_EVENT, maxItems: 32, description: 'the event types it hears; empty or omitted: all but manifest.pulled (pulls are opt-in)' },
      secret: string({ maxLength: 256, description: 'HMAC-SHA256 key for the Custody-Signature header (16+ characters); omitted: generated and shown once; empty: unsigned' }),
    },
    ['url'],
  ),
  Webhook: object(WEBHOOK_PROPERTIES, Object.keys(WEBHOOK_PROPERTIES)),
  CreatedWebhook: object({ webhook: ref('Webhook'), secret: nullableString({ description: 'the signing secret: shown once, never again' }) }, ['webhook', 'secret']),
  WebhookChanges: object({ enabled: { type: 'boolean', description: 'true re-enables a hook (resetting its failure count) and resumes its pending deliveries' } }, ['enabled']),
  WebhookDelivery: object(DELIVERY_PROPERTIES, Object.keys(DELIVERY_PROPERTIES)),
  ...LIFECYCLE_SCHEMAS,
};
