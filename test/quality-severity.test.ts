// Severity from CVSS vectors: v4.0 scores agree with the reference calculator on every
// vector of test/vectors/cvss-4.0-reference-scores.tsv, and an OSV record rated only by a
// CVSS v4.0 vector gets that rating instead of Unknown.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cvss4Score, cvssScore, severityFromScore } from '../src/scan/advisories/severity.ts';
import { parseOsv } from '../src/scan/advisories/importers/osv.ts';

function referenceScores(): [string, number][] {
  return readFileSync(join(import.meta.dirname, 'vectors', 'cvss-4.0-reference-scores.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [vector, score] = line.split('\t');
      return [vector!, Number(score)];
    });
}

describe('CVSS v4.0', () => {
  it('scores every vector as the reference calculator does', () => {
    const vectors = referenceScores();
    assert.ok(vectors.length > 1000);
    const failures = vectors.filter(([vector, score]) => cvss4Score(vector) !== score).map(([vector, score]) => `${vector}: ${score}, got ${cvss4Score(vector)}`);
    assert.deepEqual(failures, []);
  });

  it('the specification\'s bands, and what is not a v4.0 vector', () => {
    assert.equal(cvssScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), 9.3);
    assert.equal(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
    assert.equal(severityFromScore(cvss4Score('CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N')!), 'Medium');
    // Rounding ties go up (8.55 is 8.6), as the reference calculator has since its fix.
    assert.equal(cvss4Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H'), 8.6);
    for (const vector of ['CVSS:4.0/AV:N/AC:L', 'CVSS:4.0/AV:Q/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 'CVSS:4.0', 'garbage', 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:9']) {
      assert.equal(cvss4Score(vector), null, vector);
    }
  });

  it('an OSV record rated only by a CVSS v4.0 vector is rated, not Unknown', () => {
    const advisory = parseOsv({
      id: 'GHSA-v4v4-v4v4-v4v4',
      severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }],
      affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }],
    });
    assert.equal(advisory.severity, 'Critical');
    // The worse of two vectors decides (v3.1 6.1 Medium, v4.0 8.5 High); a package's own vector counts too.
    const both = parseOsv({
      id: 'GHSA-both',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N' }],
      affected: [{ package: { ecosystem: 'npm', name: 'x' }, severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }], ranges: [] }],
    });
    assert.equal(both.severity, 'High');
  });
});
