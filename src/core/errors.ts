// One error model for the whole registry: domain code throws RegistryError with an OCI
// error code; the HTTP layer turns it into the spec's envelope in exactly one place
// (server/error-response.ts). The table below is the single source of statuses.

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

/** A mistake in configuration or command-line input: reported as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
