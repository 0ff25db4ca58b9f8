// `custody sync --src docker|dir|yaml --dest docker|dir SOURCE DESTINATION`, as `skopeo
// sync`: every tag of a repository (or a whole registry's repositories, or what a YAML file
// names) copied with its signatures, each through the same trusted copy as `custody copy`.
import { UsageError } from '../core/errors.ts';
import { ImageResolver, type ClientOptions } from '../client/image-resolver.ts';
import { destinationFor, planDirSource, planDockerSource, type ClientFor, type SyncDestinationKind, type SyncImage } from '../client/sync/sync-plan.ts';
import { planYamlSource, type YamlRegistrySettings } from '../client/sync/sync-yaml.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import { POLICY_FLAGS_USAGE } from '../trust/policy/enforcement.ts';
import { SIGNING_FLAGS_USAGE } from '../trust/policy/copy-signing.ts';
import { copyOneImage } from './copy-image.ts';
import { COPY_BOOLEAN_VALUE_FLAGS, COPY_FLAGS, copySettings, copySide, manifestFormat } from './copy-flags.ts';
import type { Command } from './main.ts';

export const syncCommand: Command = {
  name: 'sync',
  summary: 'copy every tag of repositories between registries and directories (like skopeo sync)',
  usage: [
    'Usage: custody sync --src docker|dir|yaml --dest docker|dir SOURCE DESTINATION [--all] [--scoped]',
    '                    [--dry-run] [--keep-going] [--format oci|v2s2] [--remove-signatures]',
    '                    [--src-creds USER:PASSWORD] [--dest-creds USER:PASSWORD] [--src-tls-verify=false]',
    '                    [--dest-tls-verify=false] [--src-cert-dir DIR] [--dest-cert-dir DIR] [--retry-times N]',
    '                    [--quiet] [policy and signing options] [global options]',
    '',
    'SOURCE: --src docker: host/repository (every tag), host/repository:tag or @digest (one image),',
    'or host[:port] (every repository in its catalog); --src dir: a directory of images written',
    'by `--dest dir` (or one image directory); --src yaml: a skopeo sync YAML file (images,',
    'images-by-tag-regex, credentials, tls-verify, cert-dir per registry).',
    'DESTINATION: --dest docker: host[/namespace]; --dest dir: a directory, one image directory',
    'per NAME:TAG. Images are named by their last path component, or by the whole source path',
    'with --scoped. Each image passes the trust policy; its signatures are copied with it.',
    '',
    POLICY_FLAGS_USAGE,
    SIGNING_FLAGS_USAGE,
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals, client } = parseClientArgs(
      args,
      {
        ...COPY_FLAGS,
        src: { type: 'string', short: 's' },
        dest: { type: 'string', short: 'd' },
        scoped: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'keep-going': { type: 'boolean' },
        'retry-times': { type: 'string' },
      },
      COPY_BOOLEAN_VALUE_FLAGS,
    );
    const sourceKind = values.src as string | undefined;
    const destinationKind = values.dest as string | undefined;
    if (sourceKind !== 'docker' && sourceKind !== 'dir' && sourceKind !== 'yaml') throw new UsageError('--src: expected docker, dir or yaml');
    if (destinationKind !== 'docker' && destinationKind !== 'dir') throw new UsageError('--dest: expected docker or dir');
    if (positionals.length !== 2) throw new UsageError(positionals.length < 2 ? 'expected SOURCE and DESTINATION' : `unexpected argument "${positionals[2]}"`);
    manifestFormat(values);
    const retries = values['retry-times'] === undefined ? 0 : Number(values['retry-times']);
    if (!Number.isInteger(retries) || retries < 0 || retries > 100) throw new UsageError('--retry-times: expected a whole number from 0 to 100');
    const sourceOptions = copySide(values, client, 'src');
    const destinationOptions = copySide(values, client, 'dest');
    const [source, destination] = positionals as [string, string];
    const settings = await copySettings(values, 'custody sync');
    const quiet = values.quiet === true;

    const resolvers: ImageResolver[] = [];
    const clientsFor = (options: ClientOptions): ClientFor => {
      const resolver = new ImageResolver(options);
      resolvers.push(resolver);
      return (host, repository) => resolver.clientFor(host, { credentialsFor: repository === undefined ? host : `${host}/${repository}` });
    };
    const yamlOptions = new Map<string, ClientOptions>();
    let images: SyncImage[];
    try {
      if (sourceKind === 'docker') images = await planDockerSource(source, clientsFor(sourceOptions));
      else if (sourceKind === 'dir') images = await planDirSource(source);
      else {
        const withSettings = (settings: YamlRegistrySettings): ClientOptions => {
          const options: ClientOptions = {
            ...sourceOptions,
            ...(settings.tlsVerify === undefined ? {} : { tlsVerify: settings.tlsVerify }),
            ...(settings.certDir === undefined ? {} : { certDir: settings.certDir }),
            ...(settings.credentials ? { creds: `${settings.credentials.username}:${settings.credentials.password}` } : {}),
          };
          yamlOptions.set(settings.registry, options);
          return options;
        };
        images = (await planYamlSource(source, (settings) => clientsFor(withSettings(settings)))).images;
      }
    } finally {
      for (const resolver of resolvers) resolver.close();
    }

    const naming = { kind: destinationKind as SyncDestinationKind, destination, scoped: values.scoped === true };
    // One resolver per side (and per YAML registry) for the whole run: connections, clients
    // and tokens are reused from one image to the next.
    const shared = new Map<ClientOptions, ImageResolver>();
    const sharing = (options: ClientOptions): ClientOptions => {
      let resolver = shared.get(options);
      if (!resolver) shared.set(options, (resolver = new ImageResolver({ ...options, reuseClients: true })));
      return { ...options, sharedResolver: resolver };
    };
    const failures: string[] = [];
    let copied = 0;
    try {
      for (const [index, image] of images.entries()) {
        const target = destinationFor(image, naming);
        if (!quiet) process.stderr.write(`Copying image ref ${index + 1}/${images.length}: ${image.source} to ${target}${values['dry-run'] === true ? ' (dry run)' : ''}\n`);
        if (values['dry-run'] === true) continue;
        const endpoints = {
          source: image.source,
          destination: target,
          sourceOptions: sharing((image.registry === undefined ? undefined : yamlOptions.get(image.registry)) ?? sourceOptions),
          destinationOptions: sharing(destinationOptions),
        };
        try {
          await withRetries(retries, () => copyOneImage(endpoints, settings));
          copied++;
        } catch (error) {
          if (values['keep-going'] !== true) throw error;
          const message = error instanceof Error ? error.message : String(error);
          failures.push(`${image.source}: ${message}`);
          process.stderr.write(`custody sync: ${image.source}: ${message}\n`);
        }
      }
    } finally {
      for (const resolver of shared.values()) resolver.close();
    }
    if (!quiet) process.stderr.write(`Synced ${copied} of ${images.length} image(s)${failures.length > 0 ? `, ${failures.length} failed` : ''}\n`);
    if (failures.length > 0) throw new Error(`${failures.length} of ${images.length} image(s) failed to sync`);
    return 0;
  },
};

/** Retries a copy up to `times` more times, waiting 1 s, 2 s, 4 s... between attempts. */
async function withRetries<T>(times: number, attempt: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (failures >= times || error instanceof UsageError) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** failures, 30_000)));
    }
  }
}
