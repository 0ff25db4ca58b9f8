// Findings as SARIF 2.1.0, the format code-scanning dashboards (GitHub, GitLab, Azure
// DevOps) take: one rule per advisory, one result per affected package, located at the
// package database or manifest path inside the image.
import type { Finding, FixState, Severity } from '../../core/quality.ts';

/** What a finding without a fixed version says, after the vendor's fix state. */
const NO_FIX: Readonly<Record<FixState, string>> = {
  'affected': 'no fix is available',
  'fix-deferred': 'no fix is available; the vendor deferred it',
  'will-not-fix': 'the vendor will not fix it',
  'out-of-support': 'no fix: out of the vendor\'s support scope',
};

const LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  Critical: 'error', High: 'error', Medium: 'warning', Low: 'note', Negligible: 'note', Unknown: 'note',
};

/** GitHub orders security results by this CVSS-like score (a string, per its docs). */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  Critical: '9.5', High: '8.0', Medium: '5.5', Low: '2.0', Negligible: '0.5', Unknown: '0.0',
};

export interface SarifOptions {
  readonly image: string;
  readonly toolVersion: string;
}

export function toSarif(findings: readonly Finding[], options: SarifOptions): Record<string, unknown> {
  const rules = new Map<string, Record<string, unknown>>();
  const results: Record<string, unknown>[] = [];
  for (const finding of findings) {
    if (!rules.has(finding.advisoryId)) {
      const summary = finding.title ?? `${finding.advisoryId}${finding.cves.length > 0 ? ` (${finding.cves.join(', ')})` : ''}`;
      rules.set(finding.advisoryId, {
        id: finding.advisoryId,
        name: finding.advisoryId.replace(/[^A-Za-z0-9]/g, ''),
        shortDescription: { text: summary },
        fullDescription: { text: summary },
        defaultConfiguration: { level: LEVEL[finding.severity] },
        properties: {
          'security-severity': SECURITY_SEVERITY[finding.severity],
          tags: ['security', 'vulnerability', finding.source],
          ...(finding.vendorSeverity === undefined ? {} : { vendorSeverity: finding.vendorSeverity }),
          cves: finding.cves,
        },
      });
    }
    const fix = finding.fixedVersion === null ? NO_FIX[finding.fixState ?? 'affected'] : `fixed in ${finding.fixedVersion}`;
    const statement = finding.statement === undefined ? '' : ` Vendor statement: ${finding.statement}`;
    results.push({
      ruleId: finding.advisoryId,
      ruleIndex: [...rules.keys()].indexOf(finding.advisoryId),
      level: LEVEL[finding.severity],
      message: { text: `${finding.package.name} ${finding.package.version} (${finding.package.ecosystem}) in ${options.image} is affected by ${finding.advisoryId} [${finding.severity}]: ${fix}.${statement}` },
      locations: [{
        physicalLocation: { artifactLocation: { uri: finding.package.path } },
        logicalLocations: [{ name: finding.package.name, fullyQualifiedName: `${finding.package.layer}/${finding.package.path}`, kind: 'package' }],
      }],
      partialFingerprints: { packageAdvisory: `${finding.package.ecosystem}/${finding.package.name}/${finding.package.version}/${finding.advisoryId}` },
      properties: { layer: finding.package.layer, installedVersion: finding.package.version, fixedVersion: finding.fixedVersion },
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'custody', informationUri: 'https://custody.dev', version: options.toolVersion, rules: [...rules.values()] } },
      results,
    }],
  };
}
