// Alpine's secdb (secdb.alpinelinux.org): per release branch v3.N, `main.json` and
// `community.json`, each asked for conditionally. Only the releases asked for (the ones
// stored images run, in the registry) are fetched; with none given, every release the
// site's index lists.
import type { HttpValidators } from '../../metadata/feed-source-store.ts';
import { FeedReader } from '../advisories/feed-reader.ts';
import type { FeedFetcher, FetchContext, FetchOutcome } from './feed-fetcher.ts';

const REPOSITORIES = ['main', 'community'];

/** Release directories an index page links to (v3.19/, edge/). */
export function secdbReleases(html: string): string[] {
  const found = new Set<string>();
  for (const match of html.matchAll(/href="(v\d+\.\d+|edge)\/?"/g)) found.add(match[1]!);
  return [...found].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export class AlpineFeed implements FeedFetcher {
  readonly name = 'alpine';
  readonly advisorySource = 'alpine' as const;
  readonly defaultBaseUrl = 'https://secdb.alpinelinux.org';

  async run(context: FetchContext): Promise<FetchOutcome> {
    const validators: Record<string, HttpValidators> = { ...context.validators };
    const releases = context.parts?.map((part) => (/^\d/.test(part) ? `v${part}` : part)) ?? secdbReleases((await context.http.text(`${context.baseUrl}/`)).value ?? '');
    if (releases.length === 0) throw new Error(`${context.baseUrl}/: no releases listed`);
    let done = 0;
    for (const release of releases) {
      for (const repository of REPOSITORIES) {
        context.signal.throwIfAborted();
        const path = `${release}/${repository}.json`;
        const result = await context.http.bytes(`${context.baseUrl}/${path}`, validators[path], { optional: true });
        context.progress(++done, releases.length * REPOSITORIES.length);
        if (result.notModified) continue;
        if (result.value === null) {
          // Not every release has a community secdb.
          delete validators[path];
          continue;
        }
        const reader = new FeedReader();
        for (const document of reader.read({ name: path, bytes: result.value })) await context.importDocument(document);
        if (reader.skipped.length > 0) throw new Error(`${path}: not an Alpine secdb`);
        validators[path] = result.validators;
      }
    }
    return { validators, cursor: null, rejected: [] };
  }
}
