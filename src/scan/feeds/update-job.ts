// The updater inside the registry: a job on the one scheduler. Each run asks which
// sources the stored images need (no Alpine data for a registry without Alpine images),
// updates them, and has the quality service re-match and re-grade the images whenever
// the advisory database changed.
import type { Ecosystem, OsRelease } from '../../core/quality.ts';
import type { JobDefinition } from '../../jobs/job-scheduler.ts';
import type { Logger } from '../../observability/logger.ts';
import type { FeedUpdater, SourceReport, SourceSpec } from './feed-updater.ts';

/** OSV's ecosystem names for the language ecosystems Custody indexes. */
const OSV_LANGUAGE: Partial<Record<Ecosystem, string>> = { npm: 'npm', pypi: 'PyPI', golang: 'Go', maven: 'Maven' };
/** Distributions whose advisories come from OSV, by os-release ID. */
const OSV_DISTROS: Readonly<Record<string, string>> = { ubuntu: 'Ubuntu', almalinux: 'AlmaLinux', rocky: 'Rocky Linux', sles: 'SUSE', opensuse: 'SUSE', 'opensuse-leap': 'SUSE' };

/**
 * The sources stored images need. `configured` (vulndb.sources) names the candidates and
 * their base URLs; null means every source at the publisher's. Explicit parts win.
 */
export function neededSources(needs: { readonly oses: readonly OsRelease[]; readonly ecosystems: readonly Ecosystem[] }, configured: readonly SourceSpec[] | null): SourceSpec[] {
  const wanted = new Map<string, Set<string> | null>();
  const want = (name: string, part?: string): void => {
    if (!wanted.has(name)) wanted.set(name, part === undefined ? null : new Set());
    if (part !== undefined) wanted.get(name)?.add(part);
  };
  for (const os of needs.oses) {
    const id = os.id.toLowerCase();
    const stream = /\bstream\b/i.test(`${os.name ?? ''} ${os.prettyName ?? ''}`) || (id === 'centos' && Number.parseInt(os.versionId ?? '', 10) >= 9);
    if (id === 'debian') want('debian');
    else if ((id === 'rhel' || id === 'redhat' || id === 'centos') && !stream) {
      want('redhat-csaf');
      want('redhat-vex');
    } else if (id === 'alpine' && os.versionId) want('alpine', `v${os.versionId.split('.').slice(0, 2).join('.')}`);
    else if (OSV_DISTROS[id]) want('osv', OSV_DISTROS[id]);
  }
  for (const ecosystem of needs.ecosystems) {
    const name = OSV_LANGUAGE[ecosystem];
    if (name) want('osv', name);
  }
  const specs: SourceSpec[] = [];
  for (const [name, parts] of wanted) {
    const config = configured === null ? { name } : configured.find((spec) => spec.name === name);
    if (!config) continue;
    specs.push({ ...config, ...(config.parts === undefined && parts !== null && parts.size > 0 ? { parts: [...parts].sort() } : {}) });
  }
  return specs;
}

export interface VulnDbUpdateJobOptions {
  readonly updater: FeedUpdater;
  /** The sources to update now (from the stored images and the configuration). */
  readonly sources: () => Promise<SourceSpec[]>;
  /** Re-matches and re-grades stored images when the database changed (QualityService). */
  readonly regrade?: () => Promise<number>;
  readonly intervalMs: number;
  readonly logger: Logger;
}

export const VULNDB_UPDATE_JOB = 'vulndb-update';

export function vulndbUpdateJob(options: VulnDbUpdateJobOptions): JobDefinition {
  return {
    name: VULNDB_UPDATE_JOB,
    intervalMs: options.intervalMs,
    // Soon after start (data may be missing or old), but not in the way of start-up.
    initialDelayMs: Math.min(options.intervalMs, 30_000),
    async run({ signal }) {
      const specs = await options.sources();
      if (specs.length === 0) {
        options.logger.debug('vulndb update: no stored image needs advisory data yet');
        return;
      }
      let reports: SourceReport[] = [];
      try {
        reports = await options.updater.update(specs, signal);
      } finally {
        for (const report of reports) {
          const fields = { source: report.source, imported: report.imported, unchanged: report.unchanged, bytes: report.bytes, ms: report.ms };
          if (report.ok && report.error === null) options.logger.info('vulndb update', fields);
          else options.logger.warn('vulndb update failed', { ...fields, error: report.error });
        }
      }
      const regraded = (await options.regrade?.()) ?? 0;
      if (regraded > 0) options.logger.info('vulndb update: images re-graded', { images: regraded });
    },
  };
}
