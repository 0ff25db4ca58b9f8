// The flags `custody copy` and `custody sync` share (skopeo's), and what they mean: each
// side's client options, the manifest format, the platform, and the trust settings.
import { UsageError } from '../core/errors.ts';
import type { ClientOptions } from '../client/image-resolver.ts';
import type { ManifestFormat } from '../client/copy.ts';
import { parseBooleanValue } from './arguments.ts';
import { POLICY_FLAGS, policyFromFlags } from '../trust/policy/enforcement.ts';
import { SIGNING_FLAGS, signingFromFlags } from '../trust/policy/copy-signing.ts';
import { askHidden } from './password-input.ts';
import type { CopySettings } from './copy-image.ts';

export const COPY_FLAGS = {
  all: { type: 'boolean', short: 'a' },
  format: { type: 'string', short: 'f' },
  'override-os': { type: 'string' },
  'override-arch': { type: 'string' },
  'override-variant': { type: 'string' },
  'src-tls-verify': { type: 'string' },
  'dest-tls-verify': { type: 'string' },
  'src-creds': { type: 'string' },
  'dest-creds': { type: 'string' },
  'src-cert-dir': { type: 'string' },
  'dest-cert-dir': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  ...POLICY_FLAGS,
  ...SIGNING_FLAGS,
} as const;

/** Flags that take `=true|false` (parseClientArgs must know them). */
export const COPY_BOOLEAN_VALUE_FLAGS = ['src-tls-verify', 'dest-tls-verify'] as const;

type Values = Readonly<Record<string, unknown>>;

/** The client options of one side (`src` or `dest`): TLS, credentials, certificates. */
export function copySide(values: Values, client: ClientOptions, prefix: 'src' | 'dest'): ClientOptions {
  const tlsVerify = parseBooleanValue(`${prefix}-tls-verify`, values[`${prefix}-tls-verify`] as string | undefined);
  const creds = values[`${prefix}-creds`] as string | undefined;
  if (creds !== undefined && !creds.includes(':')) throw new UsageError(`--${prefix}-creds: expected USERNAME:PASSWORD`);
  const certDir = values[`${prefix}-cert-dir`] as string | undefined;
  return { ...client, ...(tlsVerify === undefined ? {} : { tlsVerify }), ...(creds === undefined ? {} : { creds }), ...(certDir === undefined ? {} : { certDir }) };
}

export function manifestFormat(values: Values): ManifestFormat | undefined {
  const format = values.format as string | undefined;
  if (format !== undefined && format !== 'oci' && format !== 'v2s2') throw new UsageError(`--format: expected "oci" or "v2s2", got "${format}"`);
  return format;
}

/** --override-os/--override-arch/--override-variant as a platform to choose. */
export function platformFromFlags(values: Values): { os?: string; architecture?: string; variant?: string } {
  return {
    ...(values['override-os'] === undefined ? {} : { os: values['override-os'] as string }),
    ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] as string }),
    ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] as string }),
  };
}

/** Everything a copy needs besides its two ends; asks for a signing passphrase on a terminal. */
export async function copySettings(values: Values, command: string): Promise<CopySettings> {
  const format = manifestFormat(values);
  const policy = policyFromFlags(values);
  const terminal = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const signing = await signingFromFlags(values, { askPassphrase: terminal ? askHidden : undefined });
  return {
    all: values.all === true,
    format,
    platform: platformFromFlags(values),
    policy,
    signing,
    removeSignatures: values['remove-signatures'] === true,
    quiet: values.quiet === true,
    command,
  };
}
