// The client commands' side of the policy: the --policy and --insecure-policy flags, and
// the check `custody copy`, `pull` and `inspect --verify` run on each source image before
// reading its blobs, with skopeo's wording ("Source image rejected: ...").
import { UsageError } from '../../core/errors.ts';
import type { ManifestStep } from '../../client/copy.ts';
import type { ImageSource } from '../../image/transport.ts';
import { DockerImageSource } from '../../client/transports/index.ts';
import { enforcePolicy, evaluatePolicy, PolicyRejectedError, type PolicyDecision, type SignatureVerifiers } from './evaluate.ts';
import { loadPolicy, PolicyFormatError, type LoadedPolicy } from './policy-file.ts';
import { policyImage, sourceIdentity } from './policy-image.ts';
import type { SourceSignatures } from './source-signatures.ts';

export const POLICY_FLAGS = {
  policy: { type: 'string' },
  'insecure-policy': { type: 'boolean' },
  'notation-trust-policy': { type: 'string' },
  'trust-store': { type: 'string' },
} as const;

/** notation's trust policy, required of docker:// sources besides policy.json (--notation-trust-policy). */
export interface NotationRequirement {
  readonly policyPath: string;
  readonly trustStore: string | undefined;
}

/** What the client enforces on a source: containers-policy.json, and notation's trust policy when asked. */
export type ClientPolicy = LoadedPolicy & { readonly notation?: NotationRequirement };

export const POLICY_FLAGS_USAGE = [
  '  --policy FILE            the trust policy (containers-policy.json); default ~/.config/containers/policy.json,',
  '                           else /etc/containers/policy.json, else accept anything (no policy file at all)',
  '  --insecure-policy        do not check the trust policy',
  '  --notation-trust-policy FILE  also require what notation\'s trustpolicy.json asks of the image\'s repository',
  '                           (notation signatures, checked against --trust-store DIR, default',
  '                           ~/.config/notation/truststore)',
].join('\n');

/** The policy the flags select; undefined with --insecure-policy. Format errors are usage errors (exit 2). */
export function policyFromFlags(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>> = process.env): ClientPolicy | undefined {
  const path = values.policy as string | undefined;
  const notationPolicy = values['notation-trust-policy'] as string | undefined;
  const trustStore = values['trust-store'] as string | undefined;
  if (trustStore !== undefined && notationPolicy === undefined) throw new UsageError('--trust-store goes with --notation-trust-policy');
  if (values['insecure-policy'] === true) {
    if (path !== undefined || notationPolicy !== undefined) throw new UsageError('--insecure-policy contradicts --policy and --notation-trust-policy: give one');
    return undefined;
  }
  try {
    const loaded = loadPolicy({ path, env });
    return notationPolicy === undefined ? loaded : { ...loaded, notation: { policyPath: notationPolicy, trustStore } };
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
  loaded: ClientPolicy,
  source: ImageSource,
  signatures: SourceSignatures,
  step: Pick<ManifestStep, 'source' | 'sourceInstance'>,
  options: { readonly enforce: boolean; readonly verifiers?: SignatureVerifiers },
): Promise<PolicyDecision> {
  const image = policyImage(sourceIdentity(source), step.source, signatures.for(step.source.digest, step.sourceInstance));
  const verifiers = options.verifiers ?? LAZY_VERIFIERS;
  const decision = options.enforce ? await enforcePolicy(loaded.policy, image, verifiers) : await evaluatePolicy(loaded.policy, image, verifiers);
  // notation signs what the user names: the top manifest (an index's instances come with it).
  if (loaded.notation !== undefined && !step.sourceInstance && decision.allowed) {
    const refusal = await notationRefusal(loaded.notation, source, step.source.digest);
    if (refusal !== undefined) {
      const refused: PolicyDecision = { ...decision, allowed: false, message: refusal };
      if (options.enforce) throw new PolicyRejectedError(`Source image rejected: ${refusal}`, refused);
      return refused;
    }
  }
  return decision;
}

async function notationRefusal(requirement: NotationRequirement, source: ImageSource, digest: string): Promise<string | undefined> {
  if (!(source instanceof DockerImageSource)) return `notation signatures are registry referrers: ${source.name} cannot carry them (--notation-trust-policy)`;
  const endpoint = source.endpoint;
  if (endpoint === undefined) throw new Error(`${source.name}: the image was not resolved before the notation check`);
  const { verifyNotation } = await import('../notation/image-notation.ts');
  const requested = endpoint.requested;
  try {
    await verifyNotation({ client: endpoint.client, repository: endpoint.repository }, `${requested.registry}/${requested.repository}`, digest, requirement.policyPath, requirement.trustStore);
    return undefined;
  } catch (error) {
    return `notation: ${(error as Error).message} (--notation-trust-policy ${requirement.policyPath})`;
  }
}
