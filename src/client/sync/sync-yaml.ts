// skopeo sync's YAML source format: per registry, `images` (repository → tags or digests;
// an empty list means every tag), `images-by-tag-regex` (repository → regular expression),
// and the registry's `credentials`, `tls-verify` and `cert-dir`.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../core/errors.ts';
import { planDockerSource, type ClientFor, type SyncImage } from './sync-plan.ts';

export interface YamlRegistrySettings {
  readonly registry: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly tlsVerify?: boolean;
  readonly certDir?: string;
}

export interface YamlPlan {
  readonly images: SyncImage[];
  readonly registries: ReadonlyMap<string, YamlRegistrySettings>;
}

type YamlRegistry = {
  images?: Record<string, unknown>;
  'images-by-tag-regex'?: Record<string, unknown>;
  'images-by-semver'?: unknown;
  credentials?: { username?: unknown; password?: unknown };
  'tls-verify'?: unknown;
  'cert-dir'?: unknown;
};

/** Reads the file's registries and their settings (no network). */
export async function readSyncYaml(path: string): Promise<Map<string, { settings: YamlRegistrySettings; entry: YamlRegistry }>> {
  let document: unknown;
  try {
    document = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new UsageError(`${path}: expected a mapping of registries`);
  const registries = new Map<string, { settings: YamlRegistrySettings; entry: YamlRegistry }>();
  for (const [registry, raw] of Object.entries(document as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object') throw new UsageError(`${path}: registry ${registry}: expected a mapping`);
    const entry = raw as YamlRegistry;
    if (entry['images-by-semver'] !== undefined) throw new UsageError(`${path}: registry ${registry}: images-by-semver is not supported; use images-by-tag-regex`);
    const credentials = entry.credentials;
    if (credentials !== undefined && (typeof credentials.username !== 'string' || typeof credentials.password !== 'string')) {
      throw new UsageError(`${path}: registry ${registry}: credentials need a username and a password`);
    }
    const tlsVerify = entry['tls-verify'];
    if (tlsVerify !== undefined && typeof tlsVerify !== 'boolean') throw new UsageError(`${path}: registry ${registry}: tls-verify must be true or false`);
    const certDir = entry['cert-dir'];
    if (certDir !== undefined && typeof certDir !== 'string') throw new UsageError(`${path}: registry ${registry}: cert-dir must be a path`);
    registries.set(registry, {
      entry,
      settings: {
        registry,
        ...(credentials ? { credentials: { username: credentials.username as string, password: credentials.password as string } } : {}),
        ...(tlsVerify === undefined ? {} : { tlsVerify }),
        ...(certDir === undefined ? {} : { certDir }),
      },
    });
  }
  return registries;
}

/** Every image the file names, listing tags where it asks for all of them or a pattern. */
export async function planYamlSource(path: string, clientFor: (settings: YamlRegistrySettings) => ClientFor): Promise<YamlPlan> {
  const registries = await readSyncYaml(path);
  const images: SyncImage[] = [];
  for (const [registry, { entry, settings }] of registries) {
    const open = clientFor(settings);
    for (const [repository, refs] of Object.entries(entry.images ?? {})) {
      if (refs !== null && !Array.isArray(refs)) throw new UsageError(`${path}: ${registry}/${repository}: expected a list of tags or digests`);
      const list = (refs ?? []) as unknown[];
      if (list.length === 0) {
        images.push(...(await planDockerSource(`${registry}/${repository}`, open)));
        continue;
      }
      for (const ref of list) {
        if (typeof ref !== 'string') throw new UsageError(`${path}: ${registry}/${repository}: tags and digests are strings`);
        const separator = ref.includes(':') ? '@' : ':';
        images.push(...(await planDockerSource(`${registry}/${repository}${separator}${ref}`, open)));
      }
    }
    for (const [repository, pattern] of Object.entries(entry['images-by-tag-regex'] ?? {})) {
      if (typeof pattern !== 'string') throw new UsageError(`${path}: ${registry}/${repository}: expected a regular expression`);
      let regex: RegExp;
      try {
        regex = new RegExp(pattern);
      } catch (error) {
        throw new UsageError(`${path}: ${registry}/${repository}: ${(error as Error).message}`);
      }
      images.push(...(await planDockerSource(`${registry}/${repository}`, open, (tag) => regex.test(tag))));
    }
  }
  return { images, registries: new Map([...registries].map(([name, { settings }]) => [name, settings])) };
}
