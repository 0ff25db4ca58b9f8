// The one place that writes the OCI error envelope: {"errors":[{code,message,detail}]}.
// Typed errors from below (DomainError) are answered through the one table of
// core/errors.ts (DOMAIN_ERROR_CODES); this adds only the headers the spec asks for.
import { RegistryError, ERROR_CODES, isOutOfSpace, ociError, registryErrorFor, UploadRangeInvalid } from '../core/errors.ts';
import { uploadLocation, uploadRange } from '../registry/registry.ts';
import type { HttpResponse } from './http-types.ts';

export interface ErrorWriteResult {
  readonly status: number;
  readonly code: string;
  /** The underlying error when it was not a typed one (an internal failure). */
  readonly internal?: unknown;
}

export function toRegistryError(error: unknown): { error: RegistryError; internal?: unknown } {
  // Where the client resumes: the spec's 416 carries the upload's Range and Location.
  if (error instanceof UploadRangeInvalid) {
    return { error: registryErrorFor(error, { Range: uploadRange(error.size), Location: uploadLocation(error.repository, error.uploadId) }) };
  }
  const typed = ociError(error);
  if (typed) return { error: typed };
  // Still internal (the operator must hear of it), but the client learns why: a full disk
  // is not a bug, and a retry later may succeed.
  if (isOutOfSpace(error)) {
    return { error: new RegistryError('INSUFFICIENT_STORAGE', 'the registry is out of storage space: what this request sent was not stored; retry once space is freed'), internal: error };
  }
  return { error: new RegistryError('INTERNAL_ERROR', ERROR_CODES.INTERNAL_ERROR.message), internal: error };
}

export function writeError(response: HttpResponse, thrown: unknown, method?: string): ErrorWriteResult {
  const { error, internal } = toRegistryError(thrown);
  if (response.headersSent) {
    // Too late for an envelope: cut the connection so the client sees a failure, not a
    // short body it could mistake for complete content.
    response.destroy();
    return { status: error.status, code: error.code, ...(internal === undefined ? {} : { internal }) };
  }
  const body = JSON.stringify({
    errors: [{ code: error.code, message: error.message, ...(error.detail === undefined ? {} : { detail: error.detail }) }],
  });
  for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  // A 401 carries only the challenge its component chose (Bearer from the registry gate,
  // Basic from the token endpoint). None from /api/: a Basic challenge there would make
  // browsers prompt for credentials and then send them to the API from any page.
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.writeHead(error.status);
  response.end(method === 'HEAD' ? undefined : body);
  return { status: error.status, code: error.code, ...(internal === undefined ? {} : { internal }) };
}
