// The report card as text: sections a newcomer reads top to bottom (registry, image,
// verdict), each line a fact, and the notes marked ✓ / ! / ✗ so the bad ones stand out.
import type { EvaluationReport, NoteLevel } from './report.ts';

const MARK: Readonly<Record<NoteLevel, string>> = { good: '✓', warning: '!', bad: '✗', info: '·' };

export function renderReport(report: EvaluationReport): string {
  const lines: string[] = [];
  const row = (label: string, value: string | number | null | undefined): void => {
    if (value !== null && value !== undefined && value !== '') lines.push(`  ${label.padEnd(18)} ${value}`);
  };
  const { registry, image } = report;
  lines.push(`Registry ${registry.host}`);
  row('endpoint', registry.endpoint);
  if (registry.transport === 'http') row('transport', `PLAIN HTTP (no TLS: ${registry.tls.error ?? 'not offered'})`);
  else {
    const tls = registry.tls;
    row('TLS', `${tls.protocol ?? '?'}, ${tls.cipher ?? '?'}`);
    if (tls.certificate) {
      row('certificate', tls.certificate.subject);
      row('issuer', tls.certificate.issuer);
      row('names', tls.certificate.subjectAltNames.join(', '));
      row('expires', `${tls.certificate.validTo} (${tls.certificate.daysLeft} days left)`);
    }
    if (tls.chain) row('chain', tls.chain.valid ? `valid (trusted by ${tls.chain.trustedBy === 'certs.d' ? tls.chain.certsDir : 'the system roots'})` : `NOT VALID: ${tls.chain.problem} (${tls.chain.errorCode})`);
    row('HSTS', registry.api.hsts ?? 'none');
  }
  const api = registry.api;
  row('OCI API', api.reachable ? `yes (${api.apiVersion ?? 'no version header'})` : `no (status ${api.status ?? 'none'})`);
  row('authentication', api.auth ? `${api.auth.scheme}${api.auth.realm ? ` realm=${api.auth.realm}` : ''}${api.auth.service ? ` service=${api.auth.service}` : ''}` : 'none asked at /v2/');
  row('referrers API', api.referrers === null ? 'not checked (give an image)' : api.referrers ? 'yes' : 'no');
  row('signatures API', api.signaturesExtension ? 'yes (X-Registry-Supports-Signatures)' : 'no');

  if (image) {
    lines.push('', `Image ${image.reference}`);
    if (image.error) row('status', image.error);
    else {
      row('digest', image.digest);
      row('media type', image.mediaType);
      row('platform image', image.platformDigest);
      row('created', image.created === null ? 'unknown' : `${image.created} (${image.ageDays} days ago)`);
      row('claims vendor', image.claims.vendor ?? '(none)');
      row('claims source', image.claims.source ?? '(none)');
      row('url', image.claims.url);
      row('revision', image.claims.revision);
      row('built with', image.claims.builder);
      row('signatures', image.signatures.length === 0 ? 'none' : String(image.signatures.length));
      for (const signature of image.signatures) {
        const verdict = signature.verified === true ? `verified: ${signature.format === 'notation' ? '' : 'key '}${signature.keyId} (${signature.keySource})` : signature.verified === false ? `does not verify: ${signature.reason}` : signature.reason ?? 'not verified';
        row(`  ${signature.format}`, `${signature.identity ?? '?'} — ${verdict}`);
      }
      row('signed by', image.signedBy.length > 0 ? image.signedBy.join(', ') : 'nobody verifiable');
      if (image.policy) row('local policy', `${image.policy.allowed ? 'allows' : 'REFUSES'} it${image.policy.file ? ` (${image.policy.file})` : ''}${image.policy.message ? `: ${image.policy.message}` : ''}`);
      if (image.quality?.grade === '?') row('health grade', `? (${image.quality.reason ?? 'no advisory data'})`);
      else if (image.quality) row('health grade', `${image.quality.grade}, ${image.quality.securityErrata} unapplied security errata${image.quality.database ? ` (${image.quality.database})` : ''}${image.quality.dataAge ? `; data as of ${image.quality.dataAge}` : ''}`);
    }
  }
  lines.push('', 'Verdict');
  for (const note of report.notes) lines.push(`  ${MARK[note.level]} ${note.text}`);
  return `${lines.join('\n')}\n`;
}
