// The portable export of the advisory database: JSON Lines, a header line, then per
// feed document a `document` line followed by its `advisory` lines. Document keys and
// content hashes travel with it, so a database fed from a bundle (an air-gapped
// registry) updates incrementally from the next bundle exactly as the source did.
import type { Advisory } from '../../core/quality.ts';
import type { AdvisoryStore, FeedDocument } from '../../metadata/advisory-store.ts';

export const BUNDLE_FORMAT = 'custody-vulndb';
export const BUNDLE_VERSION = 1;

export interface BundleHeader {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: number;
  readonly revision: number;
  readonly exportedAt: number;
}

export function isBundle(text: string): boolean {
  return text.trimStart().startsWith(`{"format":"${BUNDLE_FORMAT}"`);
}

/** The bundle's lines, one string each (newline included), read page by page. */
export async function* exportBundle(store: AdvisoryStore, now: number = Date.now()): AsyncGenerator<string> {
  const header: BundleHeader = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, revision: await store.revision(), exportedAt: now };
  yield `${JSON.stringify(header)}\n`;
  for (const document of await store.documents()) {
    yield `${JSON.stringify({ document: { source: document.source, key: document.key, hash: document.hash } })}\n`;
    for await (const advisory of store.documentAdvisories(document.id)) yield `${JSON.stringify({ advisory })}\n`;
  }
}

/** The documents of a bundle, in order. */
export function* readBundle(text: string): Generator<FeedDocument> {
  let current: { source: FeedDocument['source']; key: string; hash: string; advisories: Advisory[] } | null = null;
  let first = true;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const value = JSON.parse(line) as { format?: string; version?: number; document?: { source: FeedDocument['source']; key: string; hash: string }; advisory?: Advisory };
    if (first) {
      if (value.format !== BUNDLE_FORMAT || value.version !== BUNDLE_VERSION) throw new Error(`not a ${BUNDLE_FORMAT} bundle of version ${BUNDLE_VERSION}`);
      first = false;
    } else if (value.document) {
      if (current) yield current;
      current = { ...value.document, advisories: [] };
    } else if (value.advisory && current) {
      current.advisories.push(value.advisory);
    } else {
      throw new Error('malformed bundle line');
    }
  }
  if (current) yield current;
}
