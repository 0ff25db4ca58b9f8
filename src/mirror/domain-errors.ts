// Recognising the registry's typed errors by code (instanceof breaks across module copies).
import { DomainError, type DomainErrorCode } from '../core/errors.ts';

export function isDomainError(error: unknown, code: DomainErrorCode): boolean {
  return error instanceof DomainError ? error.code === code : (error as { code?: unknown } | null)?.code === code;
}
