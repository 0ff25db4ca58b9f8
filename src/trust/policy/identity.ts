// signedIdentity matching (containers-policy.json(5)): whether the identity a signature
// claims (its `docker-reference`) is acceptable for the image being used, with the same
// answers as containers/image's policy_reference_match.go. References are compared after
// Docker Hub normalisation (busybox = docker.io/library/busybox) and without adding a
// default tag: a signature must name a tag or digest, as an image reference does.
import { parseReference, type ImageReference } from '../../client/reference.ts';
import type { SignedIdentity } from './policy-file.ts';

function parse(value: string): ImageReference | undefined {
  let reference: ImageReference;
  try {
    reference = parseReference(value, { defaultTag: false });
  } catch {
    return undefined;
  }
  // containers/image's reference grammar knows no registry named only by capitals
  // ("UPPERCASE/foo" is an invalid Docker Hub name there): a signature naming one matches nothing.
  if (!/[.:]/.test(reference.registry) && reference.registry !== 'localhost' && reference.registry !== reference.registry.toLowerCase()) return undefined;
  return reference;
}

/** containers/image's reference.ParseNamed: a reference only if already in canonical (fully expanded) form. */
function parseCanonical(value: string): ImageReference | undefined {
  const reference = parse(value);
  return reference !== undefined && reference.toString() === value ? reference : undefined;
}

const nameOnly = (reference: ImageReference): boolean => reference.tag === undefined && reference.digest === undefined;

function exactMatch(intended: ImageReference, signed: ImageReference): boolean {
  return !nameOnly(intended) && !nameOnly(signed) && intended.toString() === signed.toString();
}

/** A tag reference needs the same tag; a digest reference accepts any signature for the repository (the digest is checked against the manifest separately). */
function repoDigestOrExact(intended: ImageReference, signed: ImageReference): boolean {
  if (nameOnly(signed)) return false;
  if (intended.tag !== undefined) return signed.toString() === intended.toString();
  if (intended.digest !== undefined) return signed.name === intended.name;
  return false;
}

/** Whether `name` is `prefix` or lies under it (host[:port] or repository namespace; only "/" separates). */
export function matchesPrefix(name: string, prefix: string): boolean {
  return name === prefix || (name.startsWith(prefix) && name[prefix.length] === '/');
}

/**
 * The image's reference with `prefix` replaced by `signedPrefix` when it lies under
 * `prefix`; undefined when the result is not a valid canonical reference (so nothing
 * matches it, as containers/image refuses it).
 */
export function remapReference(reference: ImageReference, prefix: string, signedPrefix: string): ImageReference | undefined {
  if (!matchesPrefix(reference.name, prefix)) return reference;
  return parseCanonical(signedPrefix + reference.toString().slice(prefix.length));
}

/**
 * Whether a signature claiming `signedReference` is acceptable under `identity` for an
 * image used as `intended` (undefined: the transport has no Docker reference, e.g. dir:,
 * which only exactReference and exactRepository can accept).
 */
export function identityMatches(identity: SignedIdentity, intended: ImageReference | undefined, signedReference: string): boolean {
  const signed = parse(signedReference);
  if (signed === undefined) return false;
  switch (identity.type) {
    case 'matchExact':
      return intended !== undefined && exactMatch(intended, signed);
    case 'matchRepoDigestOrExact':
      return intended !== undefined && repoDigestOrExact(intended, signed);
    case 'matchRepository':
      return intended !== undefined && intended.name === signed.name;
    case 'exactReference': {
      const wanted = parse(identity.dockerReference);
      return wanted !== undefined && exactMatch(wanted, signed);
    }
    case 'exactRepository': {
      const wanted = parse(identity.dockerRepository);
      return wanted !== undefined && wanted.name === signed.name;
    }
    case 'remapIdentity': {
      if (intended === undefined) return false;
      const remapped = remapReference(intended, identity.prefix, identity.signedPrefix);
      return remapped !== undefined && repoDigestOrExact(remapped, signed);
    }
  }
}

/** The identity rule in words, for messages. */
export function describeIdentity(identity: SignedIdentity): string {
  switch (identity.type) {
    case 'exactReference':
      return `exactReference ${identity.dockerReference}`;
    case 'exactRepository':
      return `exactRepository ${identity.dockerRepository}`;
    case 'remapIdentity':
      return `remapIdentity ${identity.prefix} → ${identity.signedPrefix}`;
    default:
      return identity.type;
  }
}
