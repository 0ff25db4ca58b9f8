// containers-policy.json(5): the trust policy skopeo, podman and Custody share. Parsed as
// strictly as containers/image's policy_config.go parses it: every object's fields are
// known, required fields present, duplicates refused (strict-json.ts), and each error
// names the JSON path it is about, because a policy that is silently misread is a policy
// that does not protect. The file is found where skopeo finds it.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseReference } from '../../client/reference.ts';
import { jsonPath, parseStrictJson, StrictJsonError } from './strict-json.ts';
import { invalidScope } from './scopes.ts';

export type SignedIdentity =
  | { readonly type: 'matchExact' }
  | { readonly type: 'matchRepoDigestOrExact' }
  | { readonly type: 'matchRepository' }
  | { readonly type: 'exactReference'; readonly dockerReference: string }
  | { readonly type: 'exactRepository'; readonly dockerRepository: string }
  | { readonly type: 'remapIdentity'; readonly prefix: string; readonly signedPrefix: string };

/** Public keys given by files or inline; `described` says which, for messages ("keyPath /etc/key.pub"). */
export interface KeySet {
  readonly paths: readonly string[];
  readonly data: readonly Buffer[];
  readonly described: string;
}

export interface FulcioConfig {
  readonly caPath?: string;
  readonly caData?: Buffer;
  readonly oidcIssuer: string;
  readonly subjectEmail: string;
}

export interface PkiConfig {
  readonly caRootsPath?: string;
  readonly caRootsData?: Buffer;
  readonly caIntermediatesPath?: string;
  readonly caIntermediatesData?: Buffer;
  readonly subjectEmail?: string;
  readonly subjectHostname?: string;
}

export type SignedByKeyType = 'GPGKeys' | 'signedByGPGKeys' | 'X509Certificates' | 'signedByX509CAs';

export type PolicyRequirement =
  | { readonly type: 'insecureAcceptAnything' }
  | { readonly type: 'reject' }
  | { readonly type: 'signedBy'; readonly keyType: SignedByKeyType; readonly keys: KeySet; readonly signedIdentity: SignedIdentity }
  | {
      readonly type: 'sigstoreSigned';
      /** Undefined with fulcio or pki. */
      readonly keys: KeySet | undefined;
      readonly fulcio: FulcioConfig | undefined;
      readonly pki: PkiConfig | undefined;
      readonly rekorPublicKeys: KeySet | undefined;
      readonly signedIdentity: SignedIdentity;
    };

/** Scope → requirements, for one transport; "" is the transport's default. */
export type TransportScopes = ReadonlyMap<string, readonly PolicyRequirement[]>;

export interface Policy {
  readonly default: readonly PolicyRequirement[];
  readonly transports: ReadonlyMap<string, TransportScopes>;
}

export class PolicyFormatError extends Error {
  override readonly name = 'PolicyFormatError';
}

/** Where skopeo looks when --policy is not given: the user's file, else the system's. */
export function defaultPolicyPaths(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  return [join(env.HOME ?? homedir(), '.config/containers/policy.json'), '/etc/containers/policy.json'];
}

/**
 * What Custody applies when no policy file exists anywhere. skopeo fails then ("open
 * /etc/containers/policy.json: no such file"); Custody accepts anything instead, which is
 * what the file Debian and Fedora install says, so a machine without containers-common
 * copies as before. `custody inspect --verify` says when this built-in default was used.
 */
export const BUILT_IN_POLICY: Policy = { default: [{ type: 'insecureAcceptAnything' }], transports: new Map() };

export interface LoadedPolicy {
  readonly policy: Policy;
  /** The file read; undefined when none exists and BUILT_IN_POLICY applies. */
  readonly path: string | undefined;
}

/** `--policy FILE` (which must exist), else the first of defaultPolicyPaths that exists, else BUILT_IN_POLICY. */
export function loadPolicy(options: { readonly path?: string | undefined; readonly env?: Readonly<Record<string, string | undefined>> } = {}): LoadedPolicy {
  const path = options.path ?? defaultPolicyPaths(options.env).find((candidate) => existsSync(candidate));
  if (path === undefined) return { policy: BUILT_IN_POLICY, path: undefined };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyFormatError(`reading the policy ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return { policy: parsePolicy(text, path), path };
}

/** Parses policy.json text; `where` (the file) prefixes every message. */
export function parsePolicy(text: string, where = 'policy.json'): Policy {
  let json: unknown;
  try {
    json = parseStrictJson(text);
  } catch (error) {
    if (error instanceof StrictJsonError) throw new PolicyFormatError(`invalid policy in ${where}: ${error.message}`);
    throw error;
  }
  try {
    return policy(json);
  } catch (error) {
    if (error instanceof FieldError) throw new PolicyFormatError(`invalid policy in ${where}: ${error.path || '(top level)'}: ${error.message}`);
    throw error;
  }
}

/** A problem at a JSON path; parsePolicy turns it into the one-line message. */
class FieldError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

type Json = Readonly<Record<string, unknown>>;

/** The object at `path` with only `known` fields; `required` fields must be present. */
function object(value: unknown, path: string, known: readonly string[], required: readonly string[] = []): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FieldError(path, `expected an object, got ${kind(value)}`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new FieldError(jsonPath(path, key), `unknown field "${key}"${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
  }
  for (const key of required) {
    if (!(key in value)) throw new FieldError(path, `missing field "${key}"`);
  }
  return value as Json;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new FieldError(path, `expected a string, got ${kind(value)}`);
  return value;
}

function nonEmptyString(value: unknown, path: string): string {
  const text = string(value, path);
  if (text === '') throw new FieldError(path, 'must not be empty');
  return text;
}

/** Go's []byte in JSON: standard base64. */
function base64(value: unknown, path: string): Buffer {
  const text = string(value, path);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new FieldError(path, 'expected base64 data');
  return Buffer.from(text, 'base64');
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new FieldError(path, `expected an array of strings, got ${kind(value)}`);
  if (value.length === 0) throw new FieldError(path, 'must not be empty');
  return value.map((item, index) => nonEmptyString(item, jsonPath(path, index)));
}

function policy(value: unknown): Policy {
  const top = object(value, '', ['default', 'transports'], ['default']);
  const transports = new Map<string, TransportScopes>();
  if (top.transports !== undefined) {
    const all = object(top.transports, '.transports', Object.keys(top.transports ?? {}));
    for (const [transport, scopesValue] of Object.entries(all)) {
      const transportPath = jsonPath('.transports', transport);
      const scopesObject = object(scopesValue, transportPath, Object.keys(scopesValue ?? {}));
      const scopes = new Map<string, readonly PolicyRequirement[]>();
      for (const [scope, requirementsValue] of Object.entries(scopesObject)) {
        const scopePath = jsonPath(transportPath, scope);
        const problem = invalidScope(transport, scope);
        if (problem !== undefined) throw new FieldError(scopePath, `invalid scope "${scope}": ${problem}`);
        scopes.set(scope, requirements(requirementsValue, scopePath));
      }
      transports.set(transport, scopes);
    }
  }
  return { default: requirements(top.default, '.default'), transports };
}

function requirements(value: unknown, path: string): PolicyRequirement[] {
  if (!Array.isArray(value)) throw new FieldError(path, `expected an array of requirements, got ${kind(value)}`);
  if (value.length === 0) throw new FieldError(path, 'the list of requirements must not be empty');
  return value.map((item, index) => requirement(item, jsonPath(path, index)));
}

const REQUIREMENT_TYPES = ['insecureAcceptAnything', 'reject', 'signedBy', 'sigstoreSigned'];

function requirement(value: unknown, path: string): PolicyRequirement {
  const type = object(value, path, Object.keys(value ?? {}), ['type']).type;
  const typePath = jsonPath(path, 'type');
  switch (string(type, typePath)) {
    case 'insecureAcceptAnything':
      object(value, path, ['type']);
      return { type: 'insecureAcceptAnything' };
    case 'reject':
      object(value, path, ['type']);
      return { type: 'reject' };
    case 'signedBy':
      return signedBy(object(value, path, ['type', 'keyType', 'keyPath', 'keyPaths', 'keyData', 'signedIdentity'], ['keyType']), path);
    case 'sigstoreSigned':
      return sigstoreSigned(
        object(value, path, ['type', 'keyPath', 'keyPaths', 'keyData', 'keyDatas', 'fulcio', 'pki', 'rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas', 'signedIdentity']),
        path,
      );
    default:
      throw new FieldError(typePath, `unknown requirement type "${type as string}" (known: ${REQUIREMENT_TYPES.join(', ')})`);
  }
}

const KEY_TYPES: readonly SignedByKeyType[] = ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'];

/** The one key source among `fields` that is present, as a KeySet; undefined when none is. */
function keySet(json: Json, path: string, fields: { path?: string; paths?: string; data?: string; datas?: string }, what: string): KeySet | undefined {
  const present = Object.values(fields).filter((field) => json[field] !== undefined);
  if (present.length > 1) throw new FieldError(path, `${present.map((field) => `"${field}"`).join(' and ')} are exclusive: give one ${what}`);
  if (fields.path !== undefined && json[fields.path] !== undefined) {
    const file = nonEmptyString(json[fields.path], jsonPath(path, fields.path));
    return { paths: [file], data: [], described: `${fields.path} ${file}` };
  }
  if (fields.paths !== undefined && json[fields.paths] !== undefined) {
    const files = stringList(json[fields.paths], jsonPath(path, fields.paths));
    return { paths: files, data: [], described: `${fields.paths} ${files.join(', ')}` };
  }
  if (fields.data !== undefined && json[fields.data] !== undefined) {
    return { paths: [], data: [base64(json[fields.data], jsonPath(path, fields.data))], described: fields.data };
  }
  if (fields.datas !== undefined && json[fields.datas] !== undefined) {
    const listPath = jsonPath(path, fields.datas);
    const list = json[fields.datas];
    if (!Array.isArray(list) || list.length === 0) throw new FieldError(listPath, 'expected a non-empty array of base64 data');
    return { paths: [], data: list.map((item, index) => base64(item, jsonPath(listPath, index))), described: fields.datas };
  }
  return undefined;
}

function signedBy(json: Json, path: string): PolicyRequirement {
  const keyType = string(json.keyType, jsonPath(path, 'keyType'));
  if (!KEY_TYPES.includes(keyType as SignedByKeyType)) throw new FieldError(jsonPath(path, 'keyType'), `unknown key type "${keyType}" (known: ${KEY_TYPES.join(', ')})`);
  const keys = keySet(json, path, { path: 'keyPath', paths: 'keyPaths', data: 'keyData' }, 'key source');
  if (keys === undefined) throw new FieldError(path, 'one of "keyPath", "keyPaths" and "keyData" must be given');
  return { type: 'signedBy', keyType: keyType as SignedByKeyType, keys, signedIdentity: signedIdentity(json.signedIdentity, jsonPath(path, 'signedIdentity')) };
}

function sigstoreSigned(json: Json, path: string): PolicyRequirement {
  const keys = keySet(json, path, { path: 'keyPath', paths: 'keyPaths', data: 'keyData', datas: 'keyDatas' }, 'key source');
  const fulcio = json.fulcio === undefined ? undefined : fulcioConfig(json.fulcio, jsonPath(path, 'fulcio'));
  const pki = json.pki === undefined ? undefined : pkiConfig(json.pki, jsonPath(path, 'pki'));
  const sources = [keys, fulcio, pki].filter((source) => source !== undefined).length;
  if (sources !== 1) throw new FieldError(path, 'exactly one of "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio" and "pki" must be given');
  const rekorPublicKeys = keySet(json, path, { path: 'rekorPublicKeyPath', paths: 'rekorPublicKeyPaths', data: 'rekorPublicKeyData', datas: 'rekorPublicKeyDatas' }, 'Rekor key source');
  if (fulcio !== undefined && rekorPublicKeys === undefined) {
    throw new FieldError(path, 'with "fulcio", one of "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData" and "rekorPublicKeyDatas" must be given');
  }
  return { type: 'sigstoreSigned', keys, fulcio, pki, rekorPublicKeys, signedIdentity: signedIdentity(json.signedIdentity, jsonPath(path, 'signedIdentity')) };
}

function fulcioConfig(value: unknown, path: string): FulcioConfig {
  const json = object(value, path, ['caPath', 'caData', 'oidcIssuer', 'subjectEmail'], ['oidcIssuer', 'subjectEmail']);
  if ((json.caPath === undefined) === (json.caData === undefined)) throw new FieldError(path, 'exactly one of "caPath" and "caData" must be given');
  return {
    ...(json.caPath === undefined ? {} : { caPath: nonEmptyString(json.caPath, jsonPath(path, 'caPath')) }),
    ...(json.caData === undefined ? {} : { caData: base64(json.caData, jsonPath(path, 'caData')) }),
    oidcIssuer: nonEmptyString(json.oidcIssuer, jsonPath(path, 'oidcIssuer')),
    subjectEmail: nonEmptyString(json.subjectEmail, jsonPath(path, 'subjectEmail')),
  };
}

function pkiConfig(value: unknown, path: string): PkiConfig {
  const json = object(value, path, ['caRootsPath', 'caRootsData', 'caIntermediatesPath', 'caIntermediatesData', 'subjectEmail', 'subjectHostname']);
  if ((json.caRootsPath === undefined) === (json.caRootsData === undefined)) throw new FieldError(path, 'exactly one of "caRootsPath" and "caRootsData" must be given');
  if (json.caIntermediatesPath !== undefined && json.caIntermediatesData !== undefined) throw new FieldError(path, '"caIntermediatesPath" and "caIntermediatesData" are exclusive');
  if (json.subjectEmail === undefined && json.subjectHostname === undefined) throw new FieldError(path, 'at least one of "subjectEmail" and "subjectHostname" must be given');
  const optional = (field: string, read: (value: unknown, path: string) => unknown): Record<string, unknown> => (json[field] === undefined ? {} : { [field]: read(json[field], jsonPath(path, field)) });
  return {
    ...optional('caRootsPath', nonEmptyString),
    ...optional('caRootsData', base64),
    ...optional('caIntermediatesPath', nonEmptyString),
    ...optional('caIntermediatesData', base64),
    ...optional('subjectEmail', nonEmptyString),
    ...optional('subjectHostname', nonEmptyString),
  } as PkiConfig;
}

const IDENTITY_TYPES = ['matchExact', 'matchRepoDigestOrExact', 'matchRepository', 'exactReference', 'exactRepository', 'remapIdentity'];

/** A signedIdentity; absent means matchRepoDigestOrExact, as containers-policy.json(5) says. */
function signedIdentity(value: unknown, path: string): SignedIdentity {
  if (value === undefined) return { type: 'matchRepoDigestOrExact' };
  const type = object(value, path, Object.keys(value ?? {}), ['type']).type;
  const typePath = jsonPath(path, 'type');
  switch (string(type, typePath)) {
    case 'matchExact':
    case 'matchRepoDigestOrExact':
    case 'matchRepository':
      object(value, path, ['type']);
      return { type: type as 'matchExact' | 'matchRepoDigestOrExact' | 'matchRepository' };
    case 'exactReference': {
      const json = object(value, path, ['type', 'dockerReference'], ['dockerReference']);
      const field = jsonPath(path, 'dockerReference');
      const reference = parsed(string(json.dockerReference, field), field);
      if (reference.tag === undefined && reference.digest === undefined) throw new FieldError(field, `"${json.dockerReference as string}" has neither a tag nor a digest`);
      return { type: 'exactReference', dockerReference: json.dockerReference as string };
    }
    case 'exactRepository': {
      const json = object(value, path, ['type', 'dockerRepository'], ['dockerRepository']);
      const field = jsonPath(path, 'dockerRepository');
      parsed(string(json.dockerRepository, field), field);
      return { type: 'exactRepository', dockerRepository: json.dockerRepository as string };
    }
    case 'remapIdentity': {
      const json = object(value, path, ['type', 'prefix', 'signedPrefix'], ['prefix', 'signedPrefix']);
      const prefix = remapPrefix(json.prefix, jsonPath(path, 'prefix'));
      const signedPrefix = remapPrefix(json.signedPrefix, jsonPath(path, 'signedPrefix'));
      return { type: 'remapIdentity', prefix, signedPrefix };
    }
    default:
      throw new FieldError(typePath, `unknown signedIdentity type "${type as string}" (known: ${IDENTITY_TYPES.join(', ')})`);
  }
}

function parsed(value: string, path: string): ReturnType<typeof parseReference> {
  try {
    return parseReference(value, { defaultTag: false });
  } catch (error) {
    throw new FieldError(path, (error as Error).message);
  }
}

/** A host[:port], or a fully expanded repository name without tag or digest (docker.io/library/busybox). */
const HOST = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

function remapPrefix(value: unknown, path: string): string {
  const prefix = nonEmptyString(value, path);
  if (HOST.test(prefix)) return prefix;
  try {
    const reference = parseReference(prefix, { defaultTag: false });
    if (reference.tag === undefined && reference.digest === undefined && reference.name === prefix) return prefix;
  } catch {
    // reported below
  }
  throw new FieldError(path, `"${prefix}" is neither a host[:port] nor a fully expanded repository name (e.g. docker.io/library/busybox)`);
}
