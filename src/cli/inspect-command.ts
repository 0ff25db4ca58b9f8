// `custody inspect docker://IMAGE`: skopeo-inspect-compatible JSON (or, on a terminal,
// a readable summary); --raw prints the manifest as served, --config the image config.
// For an index the instance for the current platform is described, as skopeo does.
import { UsageError } from '../core/errors.ts';
import { INDEX_TYPES } from '../core/media-types.ts';
import { CLIENT_FLAGS_USAGE, ImageResolver, parseClientArgs, type ImageSource } from '../client/image-source.ts';
import { RegistryClientError, type ManifestResult, type RegistryClient } from '../client/registry-client/index.ts';
import { chooseInstance, targetPlatform, type Platform } from '../client/copy.ts';
import type { Command } from './main.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'describe an image in a registry (JSON like skopeo inspect)',
  usage: [
    'Usage: custody inspect docker://IMAGE [--raw] [--config] [--format json] [--no-tags]',
    '                       [--override-os OS] [--override-arch ARCH] [--override-variant V] [global options]',
    '',
    '--raw prints the manifest bytes as served; --config the image configuration',
    '(--config --raw: its bytes as stored). On a terminal without --format, a summary.',
    '',
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
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const format = values.format as string | undefined;
    if (format !== undefined && format !== 'json') throw new UsageError(`--format: only "json" is supported, got "${format}"`);
    const resolver = new ImageResolver(client);
    try {
      const { source, manifest } = await fetchFirst(await resolver.sources(positionals[0]!));
      if (values.raw === true && values.config !== true) {
        process.stdout.write(manifest.bytes);
        return 0;
      }
      const platform = targetPlatform({
        ...(values['override-os'] === undefined ? {} : { os: values['override-os'] as string }),
        ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] as string }),
        ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] as string }),
      });
      const image = await resolveInstance(source, manifest, platform);
      const configBytes = await readBlob(source.client, source.repository, image.config.digest);
      if (values.config === true) {
        if (values.raw === true) process.stdout.write(configBytes);
        else process.stdout.write(`${JSON.stringify(JSON.parse(configBytes.toString('utf8')), null, 4)}\n`);
        return 0;
      }
      const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
      let tags: string[] = [];
      if (values['no-tags'] !== true) {
        try {
          tags = await source.client.listTags(source.repository);
        } catch (error) {
          if (!(error instanceof RegistryClientError && (error.status === 401 || error.status === 403))) throw new Error(`determining repository tags: ${(error as Error).message}`);
          process.stderr.write('custody inspect: warning: the registry does not allow listing tags; RepoTags left empty\n');
        }
      }
      const output = inspectOutput(source.requested.name, manifest.digest, tags, config, image.layers);
      if (format === undefined && process.stdout.isTTY === true) process.stdout.write(table(output));
      else process.stdout.write(`${JSON.stringify(output, null, 4)}\n`);
      return 0;
    } finally {
      resolver.close();
    }
  },
};

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: { os?: string; architecture?: string; variant?: string };
}

interface ImageManifest {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

interface ImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  variant?: string;
  os?: string;
  docker_version?: string;
  config?: { Labels?: Record<string, string> | null; Env?: string[] | null };
}


/** The manifest from the first source that has it (mirrors, then the primary; candidates in order). */
async function fetchFirst(sources: readonly ImageSource[]): Promise<{ source: ImageSource; manifest: ManifestResult }> {
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
async function resolveInstance(source: ImageSource, manifest: ManifestResult, platform: Platform): Promise<ImageManifest> {
  const parsed = JSON.parse(manifest.bytes.toString('utf8')) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  if (INDEX_TYPES.has(manifest.mediaType) || Array.isArray(parsed.manifests)) {
    const chosen = chooseInstance(parsed.manifests ?? [], platform);
    const child = await source.client.getManifest(source.repository, chosen.digest);
    return resolveInstance(source, child, platform);
  }
  if (parsed.config === undefined || !Array.isArray(parsed.layers)) throw new Error(`${source.reference.toString()}: the manifest (${manifest.mediaType}) is not an image manifest`);
  return { config: parsed.config, layers: parsed.layers };
}

async function readBlob(client: RegistryClient, repository: string, digest: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of (await client.getBlob(repository, digest)) as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Go marshals times as RFC 3339 with trailing fractional zeros dropped. */
function goTime(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  return value.replace(/\.(\d*?)0+(?=Z|[+-]\d\d:\d\d$)/, (_match, digits: string) => (digits === '' ? '' : `.${digits}`));
}

export function inspectOutput(name: string, digest: string, tags: readonly string[], config: ImageConfig, layers: readonly Descriptor[]): Record<string, unknown> {
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

function table(output: Record<string, unknown>): string {
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
