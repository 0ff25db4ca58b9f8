// The one error type of the registry client. It carries the registry's OCI error code
// and message when the registry sent an error envelope, or a client-side code for
// failures that never reached one (TLS, network, digest verification, credentials).
import type { OciErrorCode } from '../../core/errors.ts';

export type ClientErrorCode =
  | OciErrorCode
  /** The bytes received do not hash to the expected digest. */
  | 'DIGEST_MISMATCH'
  /** The server's certificate could not be verified. */
  | 'TLS_CERTIFICATE'
  /** The connection failed or dropped and retries were exhausted. */
  | 'NETWORK'
  /** The registry answered something the protocol does not allow. */
  | 'PROTOCOL'
  /** The registry answered an error without a (recognised) OCI error envelope. */
  | 'UNEXPECTED_STATUS';

export interface RegistryErrorEntry {
  readonly code: string;
  readonly message: string;
  readonly detail?: unknown;
}

export interface RegistryClientErrorOptions {
  readonly status?: number;
  /** Every entry of the registry's error envelope. */
  readonly errors?: readonly RegistryErrorEntry[];
  readonly cause?: unknown;
}

export class RegistryClientError extends Error {
  readonly code: ClientErrorCode | string;
  /** HTTP status of the failing response; 0 when there was none. */
  readonly status: number;
  readonly errors: readonly RegistryErrorEntry[];

  constructor(code: ClientErrorCode | string, message: string, options: RegistryClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryClientError';
    this.code = code;
    this.status = options.status ?? 0;
    this.errors = options.errors ?? [];
  }
}

export function isRegistryClientError(error: unknown, code?: string): error is RegistryClientError {
  return error instanceof RegistryClientError && (code === undefined || error.code === code);
}

/** Parses the OCI error envelope `{"errors":[{code,message,detail}]}`; [] when the body is not one. */
export function parseErrorEnvelope(body: Buffer | string): RegistryErrorEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { errors?: unknown }).errors)) return [];
  const entries: RegistryErrorEntry[] = [];
  for (const entry of (parsed as { errors: unknown[] }).errors) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { code, message, detail } = entry as Record<string, unknown>;
    if (typeof code !== 'string') continue;
    entries.push({ code, message: typeof message === 'string' ? message : '', ...(detail === undefined ? {} : { detail }) });
  }
  return entries;
}

const STATUS_CODES: Readonly<Record<number, OciErrorCode>> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  405: 'UNSUPPORTED',
  416: 'RANGE_INVALID',
  429: 'TOOMANYREQUESTS',
  503: 'UNAVAILABLE',
};

/** Builds the error for a failed response from its status and (possibly empty) body. */
export function errorFromResponse(what: string, status: number, body: Buffer): RegistryClientError {
  const errors = parseErrorEnvelope(body);
  const first = errors[0];
  if (first !== undefined) {
    const text = errors.map((entry) => `${entry.code.toLowerCase()}: ${entry.message || '(no message)'}`).join('; ');
    return new RegistryClientError(first.code, `${what}: ${text}`, { status, errors });
  }
  const code = STATUS_CODES[status] ?? 'UNEXPECTED_STATUS';
  const snippet = body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  const label = code === 'UNEXPECTED_STATUS' ? `unexpected HTTP status ${status}` : `${code.toLowerCase()}: HTTP ${status}`;
  return new RegistryClientError(code, `${what}: ${label}${snippet ? ` (${snippet})` : ''}`, { status });
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

export function isTlsCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && TLS_CODES.has(code);
}
