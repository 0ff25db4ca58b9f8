// The scan pipeline (src/scan/scan-pipeline.ts) as the client commands run it: the image
// named the way users type it (a bare name is docker://), the advisory database from
// --vulndb or the default path, on SQLite, and a bound crossed reported with the flag that
// raises it. Shared by `custody scan`, `grade`, `errata` and `evaluate`.
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';
import type { ClientOptions } from '../client/image-resolver.ts';
import { openSource } from '../client/transports/index.ts';
import { openAdvisories, type AdvisoryDatabase } from '../scan/advisory-database.ts';
import { SQLITE_ADVISORIES } from '../app/advisory-databases.ts';
import { IndexLimitError, type IndexLimit, type IndexLimits } from '../scan/indexer/index-limits.ts';
import { scanImage, type ScanResult } from '../scan/scan-pipeline.ts';
import { defaultVulnDbPath } from './vulndb-path.ts';

/** The flag that raises each bound, for the message when an image crosses it. */
const LIMIT_FLAGS: Readonly<Record<Exclude<IndexLimit, 'time'>, string>> = {
  layerBytes: '--max-layer-size',
  imageBytes: '--max-image-size',
  entries: '--max-entries',
};

/**
 * The advisory database at --vulndb (which must exist) or the default path; null, with a
 * warning, when the default path holds none.
 */
async function openVulnDb(path: string | undefined, warn: (message: string) => void): Promise<AdvisoryDatabase | null> {
  const target = path ?? defaultVulnDbPath();
  if (!existsSync(target)) {
    if (path !== undefined) throw new UsageError(`--vulndb: ${path} does not exist`);
    warn(`no advisory database at ${target}: packages are listed, nothing is matched (import feeds with \`custody vulndb import\`, or give --vulndb)`);
    return null;
  }
  return openAdvisories(target, SQLITE_ADVISORIES, warn);
}

function normaliseImage(input: string): string {
  return /^(?:docker:\/\/|dir:|oci:|oci-archive:|docker-archive:)/.test(input) ? input : `docker://${input}`;
}

/** Indexes, matches and grades one image. */
export async function runScan(input: string, options: { client: ClientOptions; vulndb?: string | undefined; platform?: Record<string, string>; limits?: IndexLimits; maxDataAgeMs?: number | undefined; warn: (message: string) => void }): Promise<ScanResult> {
  const image = normaliseImage(input);
  const advisories = await openVulnDb(options.vulndb, options.warn);
  try {
    const source = openSource(image, options.client);
    try {
      return await scanImage(source, {
        image,
        advisories: advisories?.store ?? null,
        ...(options.platform ? { platform: options.platform } : {}),
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.maxDataAgeMs === undefined ? {} : { maxDataAgeMs: options.maxDataAgeMs }),
        onWarning: options.warn,
      });
    } catch (error) {
      if (error instanceof IndexLimitError && error.limit !== 'time') throw new Error(`${image}: not indexed: ${error.message} (${LIMIT_FLAGS[error.limit]})`, { cause: error });
      throw error;
    } finally {
      await source.close();
    }
  } finally {
    await advisories?.close();
  }
}
