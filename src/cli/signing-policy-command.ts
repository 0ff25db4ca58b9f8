// `custody signing-policy ...`: what a registry requires before it serves an image (and
// optionally before a tag may point at it), per repository or per namespace, through the
// registry's /api/v1. Also shows the signatures found for a manifest and which trusted
// key verified each.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { apiRequest, openApiSession } from './api-session.ts';
import type { Command } from './main.ts';

const USAGE = [
  'Usage: custody signing-policy <subcommand> TARGET [options]',
  '',
  'TARGET is a repository (a name with a slash: acme/app) or a namespace (an organization',
  'or user: acme); --repository makes a name without a slash a top-level repository.',
  '',
  'Subcommands:',
  '  set TARGET --key FILE [--key FILE...] [--mode pull|pull,tag]',
  '        require images to be signed by one of these sigstore public keys (cosign.pub:',
  '        legacy .sig signatures and key-based bundles) or, for a PEM certificate, by a',
  '        notation signature whose certificate chain leads to it',
  '        before they are pulled (pull, the default) and before a tag may point at them',
  '        (pull,tag: push by digest, sign, then tag)',
  '  get TARGET          show the policy',
  '  remove TARGET       remove the policy',
  '  signatures REPOSITORY@DIGEST   the signatures of a manifest, and which trusted key verified each',
  '',
  'Options:',
  '  --registry URL        the registry (default: $CUSTODY_REGISTRY); host[:port] means https://',
  '  --token TOKEN         a personal access token (default: $CUSTODY_TOKEN)',
  '  --username USER       log in as USER; the password comes from --password-stdin or $CUSTODY_PASSWORD',
  '  --password-stdin      read the password from stdin',
  '  --json                print JSON',
].join('\n');

const OPTIONS = {
  registry: { type: 'string' },
  token: { type: 'string' },
  username: { type: 'string', short: 'u' },
  'password-stdin': { type: 'boolean' },
  json: { type: 'boolean' },
  key: { type: 'string', multiple: true },
  mode: { type: 'string' },
  repository: { type: 'boolean' },
} as const;

interface PolicyView {
  scope: string;
  name: string;
  mode: string;
  keys: { id: string; format: string }[];
  revision: number;
  updatedBy: string | null;
  updatedAt: string;
}

interface SignaturesView {
  repository: string;
  digest: string;
  satisfied: boolean | null;
  policies: PolicyView[];
  signatures: { source: string; signatureManifest: string; identity: string | null; verified: boolean | null; keyId: string | null; trustedBy: string[]; reason: string | null }[];
}

export const signingPolicyCommand: Command = {
  name: 'signing-policy',
  summary: 'require signed images on a registry (per repository or organization)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    const [subcommand, target, ...extra] = positionals;
    if (subcommand === undefined) throw new UsageError('missing subcommand (set, get, remove, signatures)');
    if (target === undefined) throw new UsageError(`${subcommand}: missing TARGET`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (subcommand !== 'set' && (values.key !== undefined || values.mode !== undefined)) throw new UsageError('--key and --mode go with set');
    const session = await openApiSession({ registry: values.registry, token: values.token, username: values.username, passwordStdin: values['password-stdin'] });
    const out = (text: string): void => void process.stdout.write(`${text}\n`);

    if (subcommand === 'signatures') {
      const at = target.lastIndexOf('@');
      if (at <= 0) throw new UsageError('signatures: expected REPOSITORY@DIGEST');
      const response = await apiRequest(session, 'GET', `api/v1/repositories/${target.slice(0, at)}/-/manifests/${encodeURIComponent(target.slice(at + 1))}/signatures`);
      const view = (await response.json()) as SignaturesView;
      if (values.json) {
        out(JSON.stringify(view, null, 2));
        return 0;
      }
      out(`${view.repository}@${view.digest}: ${view.signatures.length} signature(s); ${view.satisfied === null ? 'no signing policy applies' : view.satisfied ? 'the signing policy is satisfied' : 'the signing policy is NOT satisfied'}`);
      for (const signature of view.signatures) {
        const verdict = signature.verified === true ? `verified by key ${signature.keyId} (${signature.trustedBy.join(', ')})` : signature.verified === false ? `not verified: ${signature.reason}` : 'not checked (no policy)';
        out(`  ${signature.source.padEnd(8)} ${signature.signatureManifest.slice(0, 19)}…  identity ${signature.identity ?? '-'}  ${verdict}`);
      }
      return 0;
    }

    const path = values.repository || target.includes('/') ? `api/v1/repositories/${target}/-/signing-policy` : `api/v1/organizations/${target}/signing-policy`;
    switch (subcommand) {
      case 'get': {
        const view = (await (await apiRequest(session, 'GET', path)).json()) as PolicyView;
        if (values.json) out(JSON.stringify(view, null, 2));
        else printPolicy(view, out);
        return 0;
      }
      case 'remove':
        await apiRequest(session, 'DELETE', path);
        if (!values.json) out(`removed the signing policy of ${target}`);
        return 0;
      case 'set': {
        if (values.key === undefined || values.key.length === 0) throw new UsageError('set: give at least one --key FILE (a PEM public key, like cosign.pub, or a notation CA certificate)');
        const mode = values.mode ?? 'pull';
        if (mode !== 'pull' && mode !== 'pull,tag') throw new UsageError(`--mode: expected pull or pull,tag, not "${mode}"`);
        const keys = await Promise.all(
          values.key.map((file) =>
            readFile(file, 'utf8').catch((error: unknown) => {
              throw new UsageError(`--key ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
            }),
          ),
        );
        const view = (await (await apiRequest(session, 'PUT', path, { body: { mode, keys } })).json()) as PolicyView;
        if (values.json) out(JSON.stringify(view, null, 2));
        else printPolicy(view, out);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand "${subcommand}" (set, get, remove, signatures)`);
    }
  },
};

function printPolicy(view: PolicyView, out: (text: string) => void): void {
  out(`${view.scope} ${view.name}: signatures required for ${view.mode === 'pull,tag' ? 'pulls and tags' : 'pulls'}`);
  for (const key of view.keys) out(`  trusted key ${key.id} (${key.format})`);
  out(`  revision ${view.revision}, updated ${view.updatedAt}${view.updatedBy ? ` by ${view.updatedBy}` : ''}`);
}
