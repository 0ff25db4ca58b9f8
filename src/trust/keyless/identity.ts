// Who a keyless (Fulcio) certificate must name, as cosign asks it:
// --certificate-identity / --certificate-identity-regexp (the certificate's subject
// alternative name: an e-mail, a URI such as a CI workflow) and
// --certificate-oidc-issuer / --certificate-oidc-issuer-regexp (the OIDC issuer Fulcio
// recorded in its extension). Exact values compare whole strings; a regular expression
// is unanchored, as Go's regexp.MatchString in cosign (anchor it with ^…$ to be strict).
import { UsageError } from '../../core/errors.ts';

export type Matcher = { readonly exact: string } | { readonly pattern: RegExp };

export interface CertificateIdentity {
  readonly subject: Matcher;
  readonly issuer: Matcher;
}

/** Both halves are required: a certificate from any issuer or for anyone proves nothing. */
export function certificateIdentity(values: {
  identity?: string | undefined;
  identityRegexp?: string | undefined;
  issuer?: string | undefined;
  issuerRegexp?: string | undefined;
}): CertificateIdentity {
  return {
    subject: matcher('certificate-identity', values.identity, values.identityRegexp),
    issuer: matcher('certificate-oidc-issuer', values.issuer, values.issuerRegexp),
  };
}

function matcher(flag: string, exact: string | undefined, pattern: string | undefined): Matcher {
  if (exact !== undefined && pattern !== undefined) throw new UsageError(`give one of --${flag} and --${flag}-regexp`);
  if (exact !== undefined) {
    if (exact === '') throw new UsageError(`--${flag} must not be empty`);
    return { exact };
  }
  if (pattern === undefined) throw new UsageError(`keyless verification needs --${flag} or --${flag}-regexp`);
  try {
    return { pattern: new RegExp(pattern) };
  } catch (error) {
    throw new UsageError(`--${flag}-regexp: ${(error as Error).message}`);
  }
}

export function matches(matcher: Matcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return 'exact' in matcher ? matcher.exact === value : matcher.pattern.test(value);
}

export function describeMatcher(matcher: Matcher): string {
  return 'exact' in matcher ? `"${matcher.exact}"` : `/${matcher.pattern.source}/`;
}
