// Alpine secdb YAML: per release and repository, package → fixed version → CVEs. Each
// CVE (or XSA...) becomes an advisory of that release with the version that fixed it; a
// fixed version of `0` means the release was never affected and yields nothing.
import { parse } from 'yaml';
import type { Advisory } from '../../../core/quality.ts';
import { alpineDistro } from '../distros.ts';

interface Secdb {
  readonly distroversion: string;
  readonly reponame?: string;
  readonly packages?: readonly { readonly pkg: { readonly name: string; readonly secfixes?: Record<string, readonly (string | null)[] | null> } }[];
}

export function isAlpineSecdb(value: unknown): value is Secdb {
  return typeof value === 'object' && value !== null && typeof (value as Secdb).distroversion === 'string' && Array.isArray((value as Secdb).packages);
}

export function parseAlpineYaml(text: string): Secdb | null {
  // failsafe: every scalar stays a string, so a version key like 1.10 is not read as 1.1.
  const value: unknown = parse(text, { schema: 'failsafe' });
  return isAlpineSecdb(value) ? value : null;
}

export function secdbAdvisories(secdb: Secdb): Advisory[] {
  const distro = alpineDistro(secdb.distroversion);
  if (!distro) return [];
  const byId = new Map<string, { cves: string[]; affected: { name: string; fixed: string }[] }>();
  for (const { pkg } of secdb.packages ?? []) {
    for (const [version, ids] of Object.entries(pkg.secfixes ?? {})) {
      if (version === '0' || !ids) continue;
      for (const text of ids) {
        // Entries may name several ids on a line (`CVE-2019-1 CVE-2019-2`).
        for (const id of String(text ?? '').split(/\s+/).filter((token) => /^[A-Z]+-\d/.test(token))) {
          const entry = byId.get(id) ?? { cves: /^CVE-/.test(id) ? [id] : [], affected: [] };
          entry.affected.push({ name: pkg.name, fixed: String(version) });
          byId.set(id, entry);
        }
      }
    }
  }
  return [...byId].map(([id, entry]) => ({
    id,
    source: 'alpine',
    kind: 'security',
    severity: 'Unknown',
    issued: null,
    cves: entry.cves,
    references: /^CVE-/.test(id) ? [`https://security.alpinelinux.org/vuln/${id}`] : [],
    affected: entry.affected.map((fix) => ({ ecosystem: 'apk', distro, name: fix.name, ranges: [{ fixed: fix.fixed }] })),
  }));
}
