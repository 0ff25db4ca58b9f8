// `custody inspect IMAGE`: skopeo-inspect-compatible JSON (or, on a terminal, a readable
// summary) for docker:// (the default for bare names), dir:, oci:, oci-archive: and
// docker-archive:; --raw prints the manifest as served, --config the image config.
// For an index the instance for the current platform is described, as skopeo does.
// --verify evaluates the trust policy instead (what `custody copy` and `pull` would decide)
// and reports each requirement; the exit status is 1 when the policy rejects the image.
import { UsageError } from '../core/errors.ts';
import { indexEntries, readImageConfig, readJsonObject, readManifestJson, type DescriptorJson as Descriptor, type ImageConfigJson as ImageConfig } from '../core/manifest-reader.ts';
import { INDEX_TYPES } from '../core/media-types.ts';
import { ImageResolver, type RegistryEndpoint } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { RegistryClientError, type ManifestResult, type RegistryClient } from '../client/registry-client/index.ts';
import { parseReference } from '../client/reference.ts';
import { openSource } from '../client/transports/index.ts';
import { DockerArchiveSource, verifyingStream, type ImageSource, type ManifestData } from '../image/transports/index.ts';
import { chooseInstance, targetPlatform, type Platform } from '../image/platform.ts';
import { POLICY_FLAGS, POLICY_FLAGS_USAGE, evaluateSource, policyFromFlags } from '../trust/policy/enforcement.ts';
import { SourceSignatures } from '../trust/policy/source-signatures.ts';
import { readGpgFromSource } from '../trust/policy/gpg-storage.ts';
import type { PolicyDecision } from '../trust/policy/evaluate.ts';
import type { LoadedPolicy } from '../trust/policy/policy-file.ts';
import { isIndex } from '../image/transport.ts';
import type { Command } from './main.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'describe an image in a registry or a local layout/archive (JSON like skopeo inspect)',
  usage: [
    'Usage: custody inspect IMAGE [--raw] [--config] [--format json] [--no-tags]',
    '                       [--override-os OS] [--override-arch ARCH] [--override-variant V]',
    '       custody inspect --verify IMAGE [--policy FILE] [--format json] [--override-os OS] ... [global options]',
    '',
    'IMAGE: docker://NAME (or a bare NAME), dir:PATH, oci:PATH[:REF], oci-archive:PATH[:REF],',
    'docker-archive:PATH[:REF]. RepoTags lists the repository tags for docker:// only.',
    '--raw prints the manifest bytes as served; --config the image configuration',
    '(--config --raw: its bytes as stored). On a terminal without --format, a summary.',
    '--verify evaluates the trust policy as `custody copy` would (for an index: the',
    'platform\'s image) and reports each requirement; exit status 1 when it is rejected.',
    '',
    POLICY_FLAGS_USAGE,
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(args, {
      raw: { type: 'boolean' },
      config: { type: 'boolean' },
      format: { type: 'string', short: 'f' },
      'no-tags': { type: 'boolean', short: 'n' },
      'override-os': { type: 'string' },
      'override-arch': { type: 'string' },
      'override-variant': { type: 'string' },
      verify: { type: 'boolean' },
      ...POLICY_FLAGS,
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const format = values.format as string | undefined;
    if (format !== undefined && format !== 'json') throw new UsageError(`--format: only "json" is supported, got "${format}"`);
    const platform = targetPlatform({
      ...(values['override-os'] === undefined ? {} : { os: values['override-os'] as string }),
      ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] as string }),
      ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] as string }),
    });
    const input = positionals[0]!;
    if (values.verify === true) {
      if (values.raw === true || values.config === true) throw new UsageError('--verify reports the policy decision: give it without --raw or --config');
      if (values['insecure-policy'] === true) throw new UsageError('--verify evaluates the policy: give it without --insecure-policy');
      return verifyImage(input, policyFromFlags(values)!, client, platform, format);
    }
    if (values.policy !== undefined || values['insecure-policy'] === true) throw new UsageError('--policy and --insecure-policy go with --verify');
    const options = { raw: values.raw === true, config: values.config === true, format, platform };
    if (LOCAL_TRANSPORT.test(input)) return inspectLocal(openSource(input, client), options);
    const resolver = new ImageResolver(client);
    try {
      const { source, manifest } = await fetchFirst(await resolver.sources(input));
      const reader: Reader = {
        where: source.reference.toString(),
        manifest: async (digest) => source.client.getManifest(source.repository, digest),
        blob: async (descriptor) => readBlob(source.client, source.repository, descriptor.digest),
      };
      return await describe(reader, manifest, options, async (config, layers) => {
        let tags: string[] = [];
        if (values['no-tags'] !== true) {
          try {
            tags = await source.client.listTags(source.repository);
          } catch (error) {
            if (!(error instanceof RegistryClientError && (error.status === 401 || error.status === 403))) throw new Error(`determining repository tags: ${(error as Error).message}`);
            process.stderr.write('custody inspect: warning: the registry does not allow listing tags; RepoTags left empty\n');
          }
        }
        return inspectOutput(source.requested.name, manifest.digest, tags, config, layers);
      });
    } finally {
      resolver.close();
    }
  },
};

/**
 * The policy decision `custody copy` would make for the image (an index: the platform's
 * instance), printed requirement by requirement; a rejection is thrown after the report so
 * the command ends with the one-line reason and exit status 1.
 */
async function verifyImage(input: string, loaded: LoadedPolicy, client: Parameters<typeof openSource>[1], platform: Platform, format: string | undefined): Promise<number> {
  const source = openSource(LOCAL_TRANSPORT.test(input) || input.startsWith('docker://') ? input : `docker://${input}`, client);
  try {
    const top = await source.getManifest();
    let manifest = top;
    if (isIndex(top.mediaType)) {
      const entries = indexEntries(readManifestJson(top.bytes));
      manifest = await source.getManifest(chooseInstance(entries, platform).digest);
    }
    const decision = await evaluateSource(loaded, source, new SourceSignatures(source, readGpgFromSource), { source: manifest, sourceInstance: manifest !== top }, { enforce: false });
    const report = verificationReport(source.name, manifest.digest, loaded, decision);
    if (format === 'json') process.stdout.write(`${goJsonIndented(report)}\n`);
    else process.stdout.write(verificationText(report));
    if (!decision.allowed) throw new Error(`Source image rejected: ${decision.message}`);
    return 0;
  } finally {
    await source.close();
  }
}

interface VerificationReport {
  readonly Name: string;
  readonly Digest: string;
  readonly Policy: string;
  readonly Scope: string;
  readonly Allowed: boolean;
  readonly Requirements: readonly { Path: string; Requirement: string; Accepted: boolean; Reason?: string; Signatures?: { KeyID: string; Identity: string; SignedAt?: string }[] }[];
}

function verificationReport(name: string, digest: string, loaded: LoadedPolicy, decision: PolicyDecision): VerificationReport {
  return {
    Name: name,
    Digest: digest,
    Policy: loaded.path ?? '(no policy file found: the built-in default accepts anything)',
    Scope: decision.scopePath,
    Allowed: decision.allowed,
    Requirements: decision.results.map((result) => ({
      Path: result.path,
      Requirement: result.description,
      Accepted: result.accepted,
      ...(result.reason === undefined ? {} : { Reason: result.reason }),
      ...(result.signatures === undefined
        ? {}
        : {
            Signatures: result.signatures.map((signature) => ({
              KeyID: signature.keyId,
              Identity: signature.payload.critical.identity['docker-reference'],
              ...(signature.signedAt === undefined ? {} : { SignedAt: new Date(signature.signedAt).toISOString() }),
            })),
          }),
    })),
  };
}

function verificationText(report: VerificationReport): string {
  const lines = [`Name:          ${report.Name}`, `Digest:        ${report.Digest}`, `Policy:        ${report.Policy}`, `Scope:         ${report.Scope}`];
  for (const requirement of report.Requirements) {
    lines.push(`Requirement:   ${requirement.Path}: ${requirement.Requirement}: ${requirement.Accepted ? 'accepted' : `rejected: ${requirement.Reason}`}`);
    for (const signature of requirement.Signatures ?? []) lines.push(`  signed by ${signature.KeyID} for ${signature.Identity}${signature.SignedAt === undefined ? '' : ` at ${signature.SignedAt}`}`);
  }
  lines.push(`Verdict:       ${report.Allowed ? 'accepted' : 'rejected'}`);
  return `${lines.join('\n')}\n`;
}

interface ImageManifest {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/** The manifest from the first source that has it (mirrors, then the primary; candidates in order). */
async function fetchFirst(sources: readonly RegistryEndpoint[]): Promise<{ source: RegistryEndpoint; manifest: ManifestResult }> {
  let lastError: unknown;
  for (const source of sources) {
    try {
      return { source, manifest: await source.client.getManifest(source.repository, source.tagOrDigest!) };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError ?? new Error('no source to read the image from');
}

/** The image manifest itself, or the index's instance for the platform. */
async function resolveInstance(reader: Reader, manifest: ManifestData, platform: Platform): Promise<ImageManifest> {
  const parsed = readManifestJson(manifest.bytes);
  if (INDEX_TYPES.has(manifest.mediaType) || parsed.manifests !== undefined) {
    const chosen = chooseInstance(indexEntries(parsed), platform);
    const child = await reader.manifest(chosen.digest);
    return resolveInstance(reader, child, platform);
  }
  if (parsed.config === undefined || !Array.isArray(parsed.layers)) throw new Error(`${reader.where}: the manifest (${manifest.mediaType}) is not an image manifest`);
  return { config: parsed.config, layers: parsed.layers };
}

/** `dir:`, `oci:`, `oci-archive:`, `docker-archive:` (anything else is a registry name). */
const LOCAL_TRANSPORT = /^(?:dir|oci|oci-archive|docker-archive):/;

interface InspectOptions {
  readonly raw: boolean;
  readonly config: boolean;
  readonly format: string | undefined;
  readonly platform: Platform;
}

/** Reads manifests (by digest) and blobs from wherever the image is. */
interface Reader {
  readonly where: string;
  manifest(digest: string): Promise<ManifestData>;
  blob(descriptor: Descriptor): Promise<Buffer>;
}

/** Prints what the options ask for about the image whose top-level manifest is `manifest`. */
async function describe(
  reader: Reader,
  manifest: ManifestData,
  options: InspectOptions,
  output: (config: ImageConfig, layers: readonly Descriptor[]) => Promise<Record<string, unknown>>,
): Promise<number> {
  if (options.raw && !options.config) {
    process.stdout.write(manifest.bytes);
    return 0;
  }
  const image = await resolveInstance(reader, manifest, options.platform);
  const configBytes = await reader.blob(image.config);
  if (options.config) {
    if (options.raw) process.stdout.write(configBytes);
    else process.stdout.write(`${goJsonIndented(readJsonObject(configBytes))}\n`);
    return 0;
  }
  const result = await output(readImageConfig(configBytes), image.layers);
  if (options.format === undefined && process.stdout.isTTY === true) process.stdout.write(summary(result));
  else process.stdout.write(`${goJsonIndented(result)}\n`);
  return 0;
}

/**
 * A local transport. As skopeo: Name is the image's Docker reference when the transport
 * has one (a docker-archive named `name:tag`: `docker.io/library/name`), else left out;
 * RepoTags is empty (only registries list tags).
 */
async function inspectLocal(source: ImageSource, options: InspectOptions): Promise<number> {
  try {
    const manifest = await source.getManifest();
    const reader: Reader = {
      where: source.name,
      manifest: async (digest) => source.getManifest(digest),
      blob: async ({ digest, size }) => {
        const parts: Buffer[] = [];
        for await (const chunk of (await source.getBlob({ digest, size })).pipe(verifyingStream({ digest, size }, source.name))) parts.push(chunk as Buffer);
        return Buffer.concat(parts);
      },
    };
    return await describe(reader, manifest, options, async (config, layers) => {
      const output = inspectOutput(dockerReferenceName(source), manifest.digest, [], config, layers);
      if (output.Name === undefined) delete output.Name;
      return output;
    });
  } finally {
    await source.close();
  }
}

function dockerReferenceName(source: ImageSource): string | undefined {
  if (!(source instanceof DockerArchiveSource) || source.ref === undefined || source.ref.startsWith('@')) return undefined;
  return parseReference(source.ref).name;
}

async function readBlob(client: RegistryClient, repository: string, digest: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of (await client.getBlob(repository, digest)) as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

/** JSON indented as Go's json.MarshalIndent (as skopeo prints it): <, >, &, U+2028/9 escaped. */
export function goJsonIndented(value: unknown): string {
  const escapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
  // These characters can only occur inside strings in JSON text, so replacing them everywhere is safe.
  return JSON.stringify(value, null, 4).replace(/[<>&\u2028\u2029]/g, (char) => escapes[char]!);
}

/** Go marshals times as RFC 3339 with trailing fractional zeros dropped. */
function goTime(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  return value.replace(/\.(\d*?)0+(?=Z|[+-]\d\d:\d\d$)/, (_match, digits: string) => (digits === '' ? '' : `.${digits}`));
}

export function inspectOutput(name: string | undefined, digest: string, tags: readonly string[], config: ImageConfig, layers: readonly Descriptor[]): Record<string, unknown> {
  return {
    Name: name,
    Digest: digest,
    RepoTags: [...tags],
    Created: goTime(config.created),
    DockerVersion: config.docker_version ?? '',
    Labels: config.config?.Labels ?? null,
    Architecture: config.architecture ?? '',
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os ?? '',
    Layers: layers.map((layer) => layer.digest),
    LayersData: layers.map((layer) => ({ MIMEType: layer.mediaType, Digest: layer.digest, Size: layer.size, Annotations: layer.annotations ?? null })),
    Env: config.config?.Env ?? null,
    ...(config.author ? { Author: config.author } : {}),
  };
}

/** The human summary of an inspection: one labelled line per field. */
function summary(output: Record<string, unknown>): string {
  const lines: string[] = [];
  const row = (key: string, value: string): void => {
    lines.push(`${`${key}:`.padEnd(15)}${value}`.trimEnd());
  };
  row('Name', String(output.Name));
  row('Digest', String(output.Digest));
  row('Tags', (output.RepoTags as string[]).join(', ') || '(none)');
  row('Created', String(output.Created ?? '(unknown)'));
  row('Platform', `${output.Os}/${output.Architecture}${output.Variant ? `/${output.Variant}` : ''}`);
  if (output.Author) row('Author', String(output.Author));
  if (output.DockerVersion) row('Docker version', String(output.DockerVersion));
  const labels = Object.entries((output.Labels as Record<string, string> | null) ?? {});
  row('Labels', labels.length === 0 ? '(none)' : '');
  for (const [key, value] of labels) lines.push(`  ${key}=${value}`);
  const env = (output.Env as string[] | null) ?? [];
  row('Env', env.length === 0 ? '(none)' : '');
  for (const entry of env) lines.push(`  ${entry}`);
  const layers = output.LayersData as { MIMEType: string; Digest: string; Size: number }[];
  row('Layers', String(layers.length));
  for (const layer of layers) lines.push(`  ${layer.Digest}  ${String(layer.Size).padStart(12)}  ${layer.MIMEType}`);
  return `${lines.join('\n')}\n`;
}
