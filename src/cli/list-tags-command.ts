// `custody list-tags docker://REPOSITORY`: skopeo's {"Repository", "Tags"} JSON.
import { UsageError } from '../core/errors.ts';
import { ImageResolver } from '../client/image-resolver.ts';
import { CLIENT_FLAGS_USAGE, parseClientArgs } from './arguments.ts';
import type { Command } from './main.ts';

export const listTagsCommand: Command = {
  name: 'list-tags',
  summary: 'list the tags of a repository (JSON, like skopeo)',
  usage: ['Usage: custody list-tags docker://REPOSITORY [global options]', '', CLIENT_FLAGS_USAGE].join('\n'),
  async run(args) {
    const { positionals, client } = parseClientArgs(args, {});
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing REPOSITORY' : `unexpected argument "${positionals[1]}"`);
    const resolver = new ImageResolver(client);
    try {
      const sources = await resolver.sources(positionals[0]!, { repositoryOnly: true, primaryOnly: true });
      let lastError: unknown;
      for (const source of sources) {
        try {
          const tags = await source.client.listTags(source.repository);
          process.stdout.write(`${JSON.stringify({ Repository: source.requested.name, Tags: tags }, null, 4)}\n`);
          return 0;
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError;
    } finally {
      resolver.close();
    }
  },
};
