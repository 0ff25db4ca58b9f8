// `custody delete docker://IMAGE`: resolves a tag to its manifest digest and deletes the
// manifest by digest, as skopeo does (every tag pointing at it goes too).
import { UsageError } from '../core/errors.ts';
import { ImageResolver } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import type { Command } from './main.ts';

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete an image manifest from a registry',
  usage: ['Usage: custody delete docker://IMAGE[:TAG|@DIGEST] [global options]', '', CLIENT_FLAGS_USAGE].join('\n'),
  async run(args) {
    const { positionals, client } = parseClientArgs(args, {});
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : `unexpected argument "${positionals[1]}"`);
    const resolver = new ImageResolver(client);
    try {
      const sources = await resolver.sources(positionals[0]!, { primaryOnly: true });
      if (sources.length !== 1) {
        throw new UsageError(`"${positionals[0]}" resolves to several images (${sources.map((source) => source.requested.toString()).join(', ')}); give a fully-qualified name to delete`);
      }
      const source = sources[0]!;
      let digest = source.reference.digest as string | undefined;
      if (digest === undefined) {
        const head = await source.client.headManifest(source.repository, source.tagOrDigest!);
        if (head === undefined) throw new Error(`manifest unknown: ${source.reference.toString()}`);
        digest = head.digest;
      }
      await source.client.deleteManifest(source.repository, digest);
      return 0;
    } finally {
      resolver.close();
    }
  },
};
