// The client commands' side of the policy: the --policy and --insecure-policy flags, and
// the check `custody copy`, `pull` and `inspect --verify` run on each source image before
// reading its blobs, with skopeo's wording ("Source image rejected: ...").
import { UsageError } from '../../core/errors.ts';
import type { ManifestStep } from '../../client/copy.ts';
import type { ImageSource } from '../../client/transports/index.ts';
import { enforcePolicy, evaluatePolicy, type PolicyDecision, type SignatureVerifiers } from './evaluate.ts';
import { loadPolicy, PolicyFormatError, type LoadedPolicy } from './policy-file.ts';
import { policyImage, sourceIdentity } from './policy-image.ts';
import type { SourceSignatures } from './source-signatures.ts';

export const POLICY_FLAGS = {
  policy: { type: 'string' },
  'insecure-policy': { type: 'boolean' },
} as const;

export const POLICY_FLAGS_USAGE = [
  '  --policy FILE            the trust policy (containers-policy.json); default ~/.config/containers/policy.json,',
  '                           else /etc/containers/policy.json, else accept anything (no policy file at all)',
  '  --insecure-policy        do not check the trust policy',
].join('\n');

/** The policy the flags select; undefined with --insecure-policy. Format errors are usage errors (exit 2). */
export function policyFromFlags(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>> = process.env): LoadedPolicy | undefined {
  const path = values.policy as string | undefined;
  if (values['insecure-policy'] === true) {
    if (path !== undefined) throw new UsageError('--policy and --insecure-policy contradict each other: give one');
    return undefined;
  }
  try {
    return loadPolicy({ path, env });
  } catch (error) {
    if (error instanceof PolicyFormatError) throw new UsageError(error.message);
    throw error;
  }
}

/** Evaluates the policy for one manifest of the source (after the source has read its top-level manifest). */
// The OpenPGP and sigstore code loads only when a requirement verifies a signature: a
// copy under insecureAcceptAnything (the usual default) starts without it.
const LAZY_VERIFIERS: SignatureVerifiers = {
  verifySigstore: async (signature, keys, rekor) => (await import('./verifiers.ts')).realVerifiers.verifySigstore(signature, keys, rekor),
  verifySigstoreFulcio: async (signature, fulcio) => (await import('./verifiers.ts')).realVerifiers.verifySigstoreFulcio(signature, fulcio),
  verifySimpleSigning: async (message, keyring) => (await import('./verifiers.ts')).realVerifiers.verifySimpleSigning(message, keyring),
};

export async function evaluateSource(
  loaded: LoadedPolicy,
  source: ImageSource,
  signatures: SourceSignatures,
  step: Pick<ManifestStep, 'source' | 'sourceInstance'>,
  options: { readonly enforce: boolean; readonly verifiers?: SignatureVerifiers },
): Promise<PolicyDecision> {
  const image = policyImage(sourceIdentity(source), step.source, signatures.for(step.source.digest, step.sourceInstance));
  const verifiers = options.verifiers ?? LAZY_VERIFIERS;
  return options.enforce ? enforcePolicy(loaded.policy, image, verifiers) : evaluatePolicy(loaded.policy, image, verifiers);
}
