// The report's conclusions in words: what is good, what deserves a warning and what is
// bad, in the order a newcomer should care (transport, certificate, API, image, signer).
import type { EvaluationReport, Note } from './report.ts';

const EXPIRY_WARNING_DAYS = 14;
const OLD_IMAGE_DAYS = 365;

export function notesFor(report: EvaluationReport): Note[] {
  const notes: Note[] = [];
  const good = (text: string): void => void notes.push({ level: 'good', text });
  const warning = (text: string): void => void notes.push({ level: 'warning', text });
  const bad = (text: string): void => void notes.push({ level: 'bad', text });
  const { registry, image } = report;
  const tls = registry.tls;

  if (registry.transport === 'http') {
    bad(`plain HTTP: nothing is encrypted or authenticated; anyone on the path can read credentials and change images (TLS: ${tls.error ?? 'not offered'})`);
  } else {
    if (tls.protocol !== null && !['TLSv1.2', 'TLSv1.3'].includes(tls.protocol)) bad(`${tls.protocol} is obsolete; TLS 1.2 or newer is expected`);
    else if (tls.protocol !== null) good(`${tls.protocol} (${tls.cipher ?? 'unknown cipher'})`);
    const chain = tls.chain;
    if (chain?.valid) good(`certificate trusted${chain.trustedBy === 'certs.d' ? ` through a CA in ${chain.certsDir}` : ' by the system\'s roots'}`);
    else if (chain) bad(`certificate NOT trusted: ${chain.problem}${chain.problem === 'unknown CA' ? ` (issuer "${tls.certificate?.issuer ?? '?'}" is not in the system's roots${chain.certsDir ? ` nor in ${chain.certsDir}` : ' and certs.d has no CA for this registry'})` : ''}`);
    const days = tls.certificate?.daysLeft;
    if (days !== undefined && days >= 0 && days < EXPIRY_WARNING_DAYS) warning(`the certificate expires in ${days} day(s)`);
    if (registry.api.hsts) good(`HSTS: ${registry.api.hsts}`);
    else warning('no HSTS header: browsers and tools may be talked down to plain HTTP');
  }
  const api = registry.api;
  if (!api.reachable) bad(`/v2/ did not answer as an OCI registry (status ${api.status ?? 'none'})`);
  else {
    good(`OCI distribution API${api.apiVersion ? ` (${api.apiVersion})` : ''}; authentication: ${api.auth ? `${api.auth.scheme}${api.auth.realm ? ` via ${api.auth.realm}` : ''}` : 'none required to reach /v2/'}`);
    if (api.auth?.scheme === 'basic' && registry.transport === 'http') bad('basic authentication over plain HTTP sends passwords in the clear');
  }
  if (api.referrers === true) good('referrers API supported (signatures and SBOMs can be attached as OCI 1.1 referrers)');
  else if (api.referrers === false) notes.push({ level: 'info', text: 'no referrers API: attachments use the referrers tag schema' });

  if (image) {
    if (image.error) warning(`image ${image.reference}: ${image.error}`);
    else {
      if (image.ageDays !== null && image.ageDays > OLD_IMAGE_DAYS) warning(`the image was built ${image.ageDays} days ago`);
      const claimed = [image.claims.vendor && `vendor "${image.claims.vendor}"`, image.claims.source && `source ${image.claims.source}`].filter(Boolean).join(', ');
      if (image.signedBy.length > 0) good(`signed by ${image.signedBy.join(', ')}${claimed ? `; the image claims ${claimed}` : ''}`);
      else if (image.signed) warning(`signed, but no signature verifies with the keys given${claimed ? `; the image claims ${claimed}, which nothing proves` : ''}`);
      else bad(`not signed${claimed ? `: the image claims ${claimed}, but nothing proves it` : ': nothing says who made it'}`);
      if (image.policy) {
        if (image.policy.allowed) good(`allowed by ${image.policy.file ?? 'the built-in policy'}`);
        else bad(`refused by ${image.policy.file ?? 'the policy'}: ${image.policy.message}`);
      }
      if (image.quality) {
        if (image.quality.grade === '?') warning(`no health grade: ${image.quality.reason ?? 'no advisory data'}`);
        else {
          const level = ['A', 'B'].includes(image.quality.grade) ? 'good' : image.quality.grade === 'C' ? 'warning' : 'bad';
          notes.push({ level, text: `health grade ${image.quality.grade}, ${image.quality.securityErrata} unapplied security errata${image.quality.dataAge ? `; data as of ${image.quality.dataAge}` : ''}` });
        }
      }
    }
  }
  return notes;
}
