// `custody evaluate docker://REGISTRY[/REPOSITORY[:TAG]]`: a report card on whether to
// trust a registry and an image: TLS and certificate, the API and its features, who
// signed the image next to what its labels claim, the local policy's decision, and its
// health grade when an advisory database is available. Exit 0 with the report, whatever
// it says; 1 with one line when the registry cannot be reached at all.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { ImageResolver } from '../client/image-resolver.ts';
import { CLIENT_FLAGS, CLIENT_FLAGS_USAGE, clientOptionsFrom, normaliseBooleanFlags } from './arguments.ts';
import { evaluate } from '../trust/evaluate/evaluate.ts';
import { renderReport } from '../trust/evaluate/render.ts';
import type { TrustedKeyFile } from '../trust/evaluate/image-probe.ts';
import { loadPolicy } from '../trust/policy/policy-file.ts';
import type { Command } from './main.ts';
import { defaultVulnDbPath } from './vulndb-path.ts';

const USAGE = [
  'Usage: custody evaluate docker://REGISTRY[/REPOSITORY[:TAG|@DIGEST]] [options]',
  '',
  'A report card: the registry\'s TLS (version, certificate, chain against the system roots',
  'and certs.d, expiry, HSTS), its OCI API (version, authentication, referrers, signatures',
  'extension); for an image its digest, age, claimed vendor and source, who signed it, what',
  'the local policy.json decides and its health grade (with an advisory database).',
  '',
  '  --key FILE               a sigstore public key to verify signatures with (repeatable)',
  '  --notation-trust-policy FILE  notation\'s trustpolicy.json to judge notation signatures with',
  '  --trust-store DIR        notation\'s trust store (default ~/.config/notation/truststore)',
  '  --policy FILE            containers-policy.json to evaluate the image with (default: the',
  '                           user\'s or /etc/containers/policy.json when one exists)',
  '  --vulndb PATH            the advisory database for the grade (default: $CUSTODY_VULNDB or',
  '                           ~/.local/share/custody/vulndb.sqlite; no grade without one)',
  '  --format json            the report as JSON',
  '',
  CLIENT_FLAGS_USAGE,
].join('\n');

const OPTIONS = {
  ...CLIENT_FLAGS,
  key: { type: 'string', multiple: true },
  policy: { type: 'string' },
  'notation-trust-policy': { type: 'string' },
  'trust-store': { type: 'string' },
  vulndb: { type: 'string' },
  format: { type: 'string' },
} as const;

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'a report card on a registry and an image: TLS, API, signatures, labels, grade',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({ args: normaliseBooleanFlags(args, ['tls-verify']), options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing docker://REGISTRY[/REPOSITORY[:TAG]]' : `unexpected argument "${positionals[1]}"`);
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format: expected json or text, not "${format}"`);
    const client = clientOptionsFrom(values as Record<string, unknown>);
    const keys: TrustedKeyFile[] = (values.key ?? []).map((file) => {
      try {
        return { source: file, pem: readFileSync(file, 'utf8') };
      } catch (error) {
        throw new UsageError(`--key ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
      }
    });
    const loaded = loadPolicy({ path: values.policy });
    let notation;
    if (values['notation-trust-policy'] !== undefined) {
      const { defaultTrustStore, loadTrustPolicy } = await import('../trust/notation/trust-policy.ts');
      const policies = await loadTrustPolicy(values['notation-trust-policy']).catch((error: unknown) => {
        throw new UsageError((error as Error).message);
      });
      notation = { policies, trustStore: values['trust-store'] ?? defaultTrustStore() };
    } else if (values['trust-store'] !== undefined) {
      throw new UsageError('--trust-store goes with --notation-trust-policy');
    }
    const resolver = new ImageResolver(client);
    try {
      const report = await evaluate(positionals[0]!, { resolver, keys, notation, policy: loaded.path === undefined ? undefined : { file: loaded.path, policy: loaded.policy } });
      const image = report.image;
      const vulndb = values.vulndb ?? defaultVulnDbPath();
      if (image && image.error === null && image.digest !== null && !existsSync(vulndb)) {
        // No grade without data: say so rather than leave the grade out.
        image.quality = { grade: '?', securityErrata: 0, database: null, reason: `no advisory database at ${vulndb}`, dataAge: 'no data' };
        const { notesFor } = await import('../trust/evaluate/notes.ts');
        report.notes.splice(0, report.notes.length, ...notesFor(report));
      } else if (image && image.error === null && image.digest !== null) {
        // Loaded only when there is a database to grade with: scanning streams every layer.
        const { runScan } = await import('./run-scan.ts');
        const warnings: string[] = [];
        try {
          const scanned = await runScan(`docker://${image.reference.replace(/[:@][^/]*$/, '')}@${image.platformDigest ?? image.digest}`, { client, vulndb, warn: (message) => warnings.push(message) });
          const { gradeView, dataAgeText } = await import('../scan/coverage.ts');
          const shown = gradeView(scanned.grade, scanned.coverage);
          image.quality = { grade: shown.grade, securityErrata: scanned.errata.security.errata.length, database: scanned.database ? vulndb : null, reason: shown.reason, dataAge: dataAgeText(shown.data, Date.now()) };
        } catch (error) {
          process.stderr.write(`custody evaluate: warning: no grade: ${(error as Error).message.split('\n')[0]}\n`);
        }
        const { notesFor } = await import('../trust/evaluate/notes.ts');
        report.notes.splice(0, report.notes.length, ...notesFor(report));
      }
      process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
      return 0;
    } finally {
      resolver.close();
    }
  },
};
