// The `custody` command: subcommands, one line of error and a non-zero exit on failure.
import { UsageError } from '../core/errors.ts';
import { ConfigError } from '../config/config-error.ts';
import { VERSION } from '../core/version.ts';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

/**
 * The commands, each loaded only when it runs: a client command does not pay for the
 * server, the SQL drivers or the YAML parser (start-up is part of every `custody copy`).
 */
interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

const COMMANDS: readonly CommandEntry[] = [
  { name: 'serve', summary: 'serve the registry (OCI Distribution API)', load: async () => (await import('./serve-command.ts')).serveCommand },
  { name: 'gc', summary: 'reclaim storage no tag or manifest needs', load: async () => (await import('./gc-command.ts')).gcCommand },
  { name: 'fsck', summary: 'verify every tag, manifest and blob and their digests', load: async () => (await import('./fsck-command.ts')).fsckCommand },
  { name: 'login', summary: 'log in to a registry (credentials checked before they are saved)', load: async () => (await import('./login-command.ts')).loginCommand },
  { name: 'logout', summary: 'remove stored credentials for a registry', load: async () => (await import('./logout-command.ts')).logoutCommand },
  { name: 'inspect', summary: 'describe an image in a registry or a local layout/archive (JSON like skopeo inspect)', load: async () => (await import('./inspect-command.ts')).inspectCommand },
  { name: 'list-tags', summary: 'list the tags of a repository (JSON, like skopeo)', load: async () => (await import('./list-tags-command.ts')).listTagsCommand },
  { name: 'delete', summary: 'delete an image manifest from a registry', load: async () => (await import('./delete-command.ts')).deleteCommand },
  { name: 'copy', summary: 'copy an image between docker://, dir:, oci:, oci-archive: and docker-archive: locations', load: async () => (await import('./copy-command.ts')).copyCommand },
  { name: 'sync', summary: 'copy every tag of repositories between registries and directories (like skopeo sync)', load: async () => (await import('./sync-command.ts')).syncCommand },
  { name: 'pull', summary: 'pull an image from a registry into the local image store', load: async () => (await import('./pull-command.ts')).pullCommand },
  { name: 'images', summary: 'list the images in the local image store', load: async () => (await import('./images-command.ts')).imagesCommand },
  { name: 'rmi', summary: 'remove images from the local image store', load: async () => (await import('./rmi-command.ts')).rmiCommand },
  { name: 'unpack', summary: 'unpack an image from the local image store into a directory', load: async () => (await import('./unpack-command.ts')).unpackCommand },
  { name: 'admin', summary: 'manage users, organizations, teams, robots, permissions, tokens, sessions, immutability, time machine and quotas', load: async () => (await import('./admin-command.ts')).adminCommand },
  { name: 'tag', summary: 'tag history, restore (time machine) and expiry on a Custody registry', load: async () => (await import('./tag-command.ts')).tagCommand },
  { name: 'logs', summary: 'query the action log: who did what, when', load: async () => (await import('./logs-command.ts')).logsCommand },
  { name: 'scan', summary: 'list an image\'s packages, vulnerabilities, secrets and grade', load: async () => (await import('./scan-command.ts')).scanCommand },
  { name: 'grade', summary: 'an image\'s health grade (A to F) and when it drops next', load: async () => (await import('./grade-command.ts')).gradeCommand },
  { name: 'errata', summary: 'the advisories an image has not applied: security, bug fix, enhancement', load: async () => (await import('./errata-command.ts')).errataCommand },
  { name: 'attest', summary: 'attach a signed in-toto attestation (SLSA provenance, SBOM, ...) to an image', load: async () => (await import('./attest-command.ts')).attestCommand },
  { name: 'verify-attestation', summary: 'verify an image\'s in-toto attestations (sigstore bundles)', load: async () => (await import('./verify-attestation-command.ts')).verifyAttestationCommand },
  { name: 'signing-policy', summary: 'require signed images on a registry (per repository or organization)', load: async () => (await import('./signing-policy-command.ts')).signingPolicyCommand },
  { name: 'evaluate', summary: 'a report card on a registry and an image: TLS, API, signatures, labels, grade', load: async () => (await import('./evaluate-command.ts')).evaluateCommand },
  { name: 'vulndb', summary: 'import, export, publish and pull the advisory database', load: async () => (await import('./vulndb-command.ts')).vulndbCommand },
  { name: 'key', summary: 'generate a sigstore (cosign) signing key pair', load: async () => (await import('./key-command.ts')).keyCommand },
  { name: 'sign', summary: 'sign an image (sigstore/cosign key, or GPG with --sign-by)', load: async () => (await import('./sign-command.ts')).signCommand },
  { name: 'verify', summary: 'verify an image\'s sigstore or GPG signatures with a public key (exit status tells)', load: async () => (await import('./verify-command.ts')).verifyCommand },
];

function usage(): string {
  return [
    'custody: a container image registry with trust built in',
    '',
    'Usage: custody <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`),
    `  ${'version'.padEnd(10)} print the version`,
    '',
    'Run `custody <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`custody ${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((candidate) => candidate.name === name);
  if (!entry) {
    process.stderr.write(`custody: unknown command "${name}"; run \`custody --help\`\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    return reportFailure(name, error);
  }
}

export function reportFailure(name: string, error: unknown): number {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`custody ${name}: ${problem}\n`);
    return 2;
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`custody ${name}: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  process.stderr.write(`custody ${name}: ${(error as Error).message?.split('\n')[0] ?? String(error)}\n`);
  if (process.env.CUSTODY_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
  return 1;
}
