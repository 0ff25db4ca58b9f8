// One registry indexing job within its bounds: the indexer gets the byte and entry limits
// and an abort signal, and the job gets a time budget. When the budget runs out the
// signal aborts, which destroys the layer streams being inflated (the work stops, it is
// not merely ignored), and the job ends with the budget's error at once, even if some
// step of the indexer is slow to notice, so the next image does not wait.
import type { ImageIndex } from '../core/quality.ts';
import type { ImageSource } from '../image/transport.ts';
import { timeBudgetExceeded, type IndexLimit, type IndexLimitError, type IndexLimits } from './indexer/index-limits.ts';

export interface BoundedIndexOptions {
  /** Aborted when the time budget runs out (absent outside a budget). */
  readonly signal?: AbortSignal;
  readonly limits?: IndexLimits;
}

export type Indexer = (source: ImageSource, options: BoundedIndexOptions) => Promise<ImageIndex>;

/** Runs `indexer` on `source` with `limits`, abandoning it (and aborting its streams) after `budgetMs`. */
export async function indexWithinBudget(indexer: Indexer, source: ImageSource, limits: IndexLimits, budgetMs: number): Promise<ImageIndex> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = timeBudgetExceeded(budgetMs);
      controller.abort(error);
      reject(error);
    }, budgetMs);
  });
  const work = indexer(source, { signal: controller.signal, limits });
  // Once abandoned, the indexer's own end (the abort, most likely) is nobody's business.
  work.catch(() => {});
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The settings an operator raises to get an image indexed that crossed `limit`. */
const SETTING: Readonly<Record<IndexLimit, string>> = {
  layerBytes: 'quality.maxLayerBytes',
  imageBytes: 'quality.maxImageBytes',
  entries: 'quality.maxEntries',
  time: 'quality.timeBudget',
};

/** The status line of an image that crossed a bound: "not indexed: too large: ... (quality.maxLayerBytes)". */
export function notIndexedReason(error: IndexLimitError): string {
  return `not indexed: ${error.message} (${SETTING[error.limit]})`;
}
