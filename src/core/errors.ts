// One error model for the whole registry. Stores and the domain throw typed domain errors
// (DomainError below: what went wrong and about what, nothing of HTTP); entry points that
// speak HTTP throw RegistryError, which carries an OCI error code. DOMAIN_ERROR_CODES is
// the one table from the first to the second, and the HTTP layer writes either as the
// spec's envelope in exactly one place (server/error-response.ts). ERROR_CODES is the
// single source of statuses.

export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'INTERNAL_ERROR'
  | 'UNAVAILABLE'
  // Not in the OCI spec (TAG_INVALID is Distribution's): a stalled request body (408)
  // and a full disk (507) still get a code clients can act on.
  | 'TAG_INVALID'
  | 'REQUEST_TIMEOUT'
  | 'INSUFFICIENT_STORAGE'
  // Not OCI codes: the management API's errors, written in the same envelope.
  | 'INVALID_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT';

interface ErrorCodeInfo {
  readonly status: number;
  readonly message: string;
}

/** The one table of OCI error codes: default HTTP status and the spec's message. */
export const ERROR_CODES: Readonly<Record<OciErrorCode, ErrorCodeInfo>> = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'invalid tag' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  INTERNAL_ERROR: { status: 500, message: 'internal server error' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  REQUEST_TIMEOUT: { status: 408, message: 'the request body stalled' },
  INSUFFICIENT_STORAGE: { status: 507, message: 'the registry is out of storage space' },
  INVALID_REQUEST: { status: 400, message: 'the request is invalid' },
  NOT_FOUND: { status: 404, message: 'not found' },
  CONFLICT: { status: 409, message: 'the request conflicts with the current state' },
};

export interface RegistryErrorOptions {
  /** Overrides the table's status where the spec asks for another (413, 416...). */
  readonly status?: number;
  /** Structured detail for the envelope's `detail` field. */
  readonly detail?: unknown;
  /** Extra response headers the spec requires with this error (Range, Content-Range). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** An error a client caused or must know about, carrying its OCI code. */
export class RegistryError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: OciErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof RegistryError;
}

/**
 * True when `error` (or one of its causes) says the disk or quota is full: ENOSPC and
 * EDQUOT from the filesystem, SQLITE_FULL from SQLite, disk_full (53100) from PostgreSQL.
 * The HTTP layer maps these to INSUFFICIENT_STORAGE in one place (error-response.ts).
 */
export function isOutOfSpace(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, errcode } = current as { code?: unknown; errcode?: unknown };
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === '53100') return true;
    // node:sqlite: code ERR_SQLITE_ERROR with SQLite's primary result code in errcode.
    if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number' && (errcode & 0xff) === 13) return true;
  }
  return false;
}

// ---- domain errors ----------------------------------------------------------------------

/** What went wrong, independent of any protocol. */
export type DomainErrorCode = 'NOT_FOUND' | 'CONFLICT' | 'INVALID_INPUT' | 'TOO_LARGE' | 'LIMIT_REACHED' | 'DENIED' | 'UNAVAILABLE';

/** What a domain error is about; with its code it chooses the OCI code (DOMAIN_ERROR_CODES). */
export type ErrorSubject =
  | 'account'
  | 'blob'
  | 'digest'
  | 'manifest'
  /** A blob or child manifest a manifest references. */
  | 'manifest-reference'
  | 'page-size'
  | 'repository'
  | 'signature'
  /** A namespace's storage quota. */
  | 'quota'
  | 'tag'
  | 'team'
  /** Text the database cannot store or compare (a NUL character). */
  | 'text'
  | 'upload'
  /** A registry the pull-through cache fetches from. */
  | 'upstream'
  /** Where a chunk starts in an upload (UploadRangeInvalid). */
  | 'upload-range'
  /** A webhook (management API). */
  | 'webhook';

export interface DomainErrorOptions {
  /** Structured detail a client may act on (the envelope's `detail`). */
  readonly detail?: unknown;
  readonly cause?: unknown;
}

/** An error a store or the domain reports to its caller, typed by code and subject. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly subject: ErrorSubject;
  readonly detail: unknown;

  protected constructor(code: DomainErrorCode, subject: ErrorSubject, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.subject = subject;
    this.detail = options.detail;
  }
}

/** The thing asked for does not exist (or the caller's repository does not hold it). */
export class NotFound extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('NOT_FOUND', subject, message, options);
    this.name = 'NotFound';
  }
}

/** The change collides with what is stored: a name taken, different content under a name. */
export class Conflict extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('CONFLICT', subject, message, options);
    this.name = 'Conflict';
  }
}

/** The caller's input is wrong: malformed, inconsistent with itself or with what is stored. */
export class InvalidInput extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('INVALID_INPUT', subject, message, options);
    this.name = 'InvalidInput';
  }
}

/** Content over a size limit. */
export class TooLarge extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('TOO_LARGE', subject, message, options);
    this.name = 'TooLarge';
  }
}

/** A count limit reached (signatures per manifest): refused however the caller asks. */
export class LimitReached extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('LIMIT_REACHED', subject, message, options);
    this.name = 'LimitReached';
  }
}

/** A rule forbids the change whoever asks (an immutable tag, a quota, a read-only mirror). */
export class Denied extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('DENIED', subject, message, options);
    this.name = 'Denied';
  }
}

/** Something this registry depends on (a pull-through cache's upstream) cannot answer now. */
export class Unavailable extends DomainError {
  constructor(subject: ErrorSubject, message: string, options?: DomainErrorOptions) {
    super('UNAVAILABLE', subject, message, options);
    this.name = 'Unavailable';
  }
}

/**
 * A chunk that does not continue an upload where it stands. The upload is named so that
 * the answer can tell the client where to resume (the spec's 416 with Range and Location).
 */
export class UploadRangeInvalid extends InvalidInput {
  readonly repository: string;
  readonly uploadId: string;
  /** Bytes the upload durably holds: the client resumes there. */
  readonly size: number;

  constructor(message: string, upload: { readonly repository: string; readonly id: string; readonly size: number }) {
    super('upload-range', message);
    this.name = 'UploadRangeInvalid';
    this.repository = upload.repository;
    this.uploadId = upload.id;
    this.size = upload.size;
  }
}

interface OciMapping {
  readonly code: OciErrorCode;
  /** When the spec asks for another status than the code's (ERROR_CODES). */
  readonly status?: number;
}

type SubjectMappings = Readonly<Partial<Record<ErrorSubject, OciMapping>>> & { readonly default: OciMapping };

/**
 * The one table from domain errors to OCI codes: per domain code, the OCI code for a
 * subject, else `default`. Statuses are the OCI code's unless given here.
 */
export const DOMAIN_ERROR_CODES: Readonly<Record<DomainErrorCode, SubjectMappings>> = {
  NOT_FOUND: {
    default: { code: 'NOT_FOUND' },
    blob: { code: 'BLOB_UNKNOWN' },
    upload: { code: 'BLOB_UPLOAD_UNKNOWN' },
    manifest: { code: 'MANIFEST_UNKNOWN' },
    'manifest-reference': { code: 'MANIFEST_BLOB_UNKNOWN' },
    repository: { code: 'NAME_UNKNOWN' },
  },
  CONFLICT: { default: { code: 'CONFLICT' } },
  INVALID_INPUT: {
    default: { code: 'INVALID_REQUEST' },
    digest: { code: 'DIGEST_INVALID' },
    manifest: { code: 'MANIFEST_INVALID' },
    'page-size': { code: 'PAGINATION_NUMBER_INVALID' },
    upload: { code: 'BLOB_UPLOAD_INVALID' },
    'upload-range': { code: 'BLOB_UPLOAD_INVALID', status: 416 },
  },
  TOO_LARGE: {
    default: { code: 'SIZE_INVALID', status: 413 },
    manifest: { code: 'MANIFEST_INVALID', status: 413 },
  },
  LIMIT_REACHED: { default: { code: 'DENIED' } },
  DENIED: { default: { code: 'DENIED' } },
  UNAVAILABLE: { default: { code: 'UNAVAILABLE' } },
};

/** The OCI error a domain error is answered with (headers, if any, are the edge's to add). */
export function registryErrorFor(error: DomainError, headers?: Readonly<Record<string, string>>): RegistryError {
  const table = DOMAIN_ERROR_CODES[error.code];
  const mapping = table[error.subject] ?? table.default;
  return new RegistryError(mapping.code, error.message, { status: mapping.status, detail: error.detail, headers, cause: error });
}

/**
 * The OCI error a thrown error is answered with, when it is typed: a RegistryError as it
 * is, a DomainError through DOMAIN_ERROR_CODES. Null for anything else (an internal failure).
 */
export function ociError(error: unknown): RegistryError | null {
  if (error instanceof RegistryError) return error;
  if (error instanceof DomainError) return registryErrorFor(error);
  return null;
}

/** A mistake in configuration or command-line input: reported as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
