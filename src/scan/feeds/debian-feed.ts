// The Debian security tracker: `data/json` (every source package's CVEs per release),
// and the DSA and DLA lists that date and name the fixes. The tracker JSON is one
// document whose advisories merge the lists', so when any of the three changed, all
// three are read again and imported together, exactly as `custody vulndb import` of the
// same files does; when none changed, each costs a 304.
import type { HttpValidators } from '../../metadata/feed-source-store.ts';
import { FeedReader } from '../advisories/feed-reader.ts';
import type { FeedFetcher, FetchContext, FetchOutcome } from './feed-fetcher.ts';

/** The lists live in the tracker's repository; a mirror (a base URL given) serves them
 * under its own `data/`, as the repository lays them out. */
const SALSA_DATA = 'https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data';
export const DEBIAN_TRACKER = 'https://security-tracker.debian.org/tracker';

export class DebianFeed implements FeedFetcher {
  readonly name = 'debian';
  readonly advisorySource = 'debian' as const;
  readonly defaultBaseUrl = DEBIAN_TRACKER;

  async run(context: FetchContext): Promise<FetchOutcome> {
    const lists = context.baseUrl === DEBIAN_TRACKER ? SALSA_DATA : `${context.baseUrl}/data`;
    // Sorted as a directory of these files is read by `vulndb import`: DLA, DSA, then the JSON.
    const files = [
      { path: 'DLA/list', url: `${lists}/DLA/list`, optional: true },
      { path: 'DSA/list', url: `${lists}/DSA/list`, optional: true },
      { path: 'data/json', url: `${context.baseUrl}/data/json`, optional: false },
    ];
    const validators: Record<string, HttpValidators> = { ...context.validators };
    const fetched = [];
    for (const file of files) fetched.push(await context.http.bytes(file.url, validators[file.path], { optional: file.optional }));
    // Unchanged: a 304, or a list still not published (404 now, and no validators from before).
    const unchanged = fetched.every((result, i) => result.notModified || (result.value === null && validators[files[i]!.path] === undefined));
    if (unchanged) return { validators, cursor: null, rejected: [] };
    const reader = new FeedReader();
    const documents = [];
    for (const [i, file] of files.entries()) {
      let result = fetched[i]!;
      // Unchanged, but needed whole: the merge covers all three.
      if (result.notModified) result = await context.http.bytes(file.url, {}, { optional: file.optional });
      if (result.value === null) {
        delete validators[file.path];
        continue;
      }
      validators[file.path] = result.validators;
      documents.push(...reader.read({ name: file.url, bytes: result.value }));
    }
    documents.push(...reader.finish());
    if (reader.skipped.length > 0) throw new Error(`not in the Debian tracker's formats: ${reader.skipped.join(', ')}`);
    let done = 0;
    for (const document of documents) {
      await context.importDocument(document);
      context.progress(++done, documents.length);
    }
    return { validators, cursor: null, rejected: [] };
  }
}
