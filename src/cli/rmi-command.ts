// `custody rmi IMAGE...`: removes images from the local store by name (or digest), then
// deletes the blobs no remaining image uses (a layer shared with another image stays).
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { defaultStoragePath, findImage, LocalStore, REF_NAME } from '../client/local-store/index.ts';
import type { Command } from './main.ts';
import { STORAGE_USAGE } from './pull-command.ts';

export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'remove images from the local image store',
  usage: ['Usage: custody rmi IMAGE... [--storage DIR]', '', 'IMAGE: a name as `custody images` shows it (short names are normalised) or a digest (prefix).', '', STORAGE_USAGE].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: { storage: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length === 0) throw new UsageError('missing IMAGE');
    const store = new LocalStore(defaultStoragePath(values.storage));
    let failed = 0;
    const refs: string[] = [];
    for (const input of positionals) {
      try {
        refs.push((await findImage(store, input)).ref);
      } catch (error) {
        failed += 1;
        process.stderr.write(`custody rmi: ${(error as Error).message}\n`);
      }
    }
    if (refs.length > 0) {
      await store.updateIndex((index) => {
        index.manifests = index.manifests.filter((entry) => !refs.includes(entry.annotations?.[REF_NAME] ?? ''));
      });
      for (const ref of refs) process.stdout.write(`Untagged: ${ref}\n`);
      const { removed } = await store.collectGarbage();
      if (removed > 0) process.stdout.write(`Deleted ${removed} blob${removed === 1 ? '' : 's'}\n`);
    }
    return failed > 0 ? 1 : 0;
  },
};
