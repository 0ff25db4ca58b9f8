// Whether a signature's claimed identity (critical.identity.docker-reference) names the
// image being verified. The CLI's rule (the policy layer has its own signedIdentity
// forms): with --identity REF, the claim must be REF (a REF without tag matches any tag
// or none of that repository); without it, the claim's repository must be the image's,
// and when both carry a tag the tags must agree. cosign writes the repository alone,
// containers/image the tagged reference, so both are accepted for the right repository.
import { parseReference, type ImageReference } from '../../client/reference.ts';

export interface IdentityRequirement {
  /** The reference the signature must name. */
  readonly reference: ImageReference;
  /** true for --identity: a tag in `reference` must match exactly. */
  readonly explicit: boolean;
}

export function identityMatches(claimed: string, requirement: IdentityRequirement): boolean {
  let signed: ImageReference;
  try {
    signed = parseReference(claimed, { defaultTag: false });
  } catch {
    return false;
  }
  const wanted = requirement.reference;
  if (signed.name !== wanted.name) return false;
  if (signed.digest !== undefined && wanted.digest !== undefined && signed.digest !== wanted.digest) return false;
  if (requirement.explicit) return wanted.tag === undefined || signed.tag === wanted.tag;
  return signed.tag === undefined || wanted.tag === undefined || signed.tag === wanted.tag;
}
