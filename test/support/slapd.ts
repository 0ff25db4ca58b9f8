// A real OpenLDAP server (Debian's slapd) for the LDAP tests: a throwaway slapd.conf and
// mdb database under a temporary directory, suffix dc=custody,dc=test, the core, cosine,
// inetorgperson and nis schemas, loaded with slapadd from generated LDIF (ou=people with
// inetOrgPerson users and {SSHA} passwords, ou=groups with groupOfNames groups), served on
// a free loopback port (and an ldaps:// port when given a certificate) as the current user.
// Fails loudly when slapd or ldap-utils are missing: these tests never skip.
//
// Notes from making it run: slapd runs as root without flags (no -u/-g: it keeps the
// caller's identity); `-d 0` keeps it in the foreground (any -d does) without debug
// output; back_mdb is a module in Debian's build (moduleload from /usr/lib/ldap); the
// mdb map size is kept small so many servers fit in /tmp; Debian's apparmor profile for
// slapd confines /usr/sbin/slapd when apparmor is enforcing: a temporary directory under
// /tmp is outside what it allows, so on such machines the profile must be in complain
// mode (`aa-complain /usr/sbin/slapd`); containers and CI machines have no apparmor.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explain, freePort, requireTool, run, runOk, startCommand, waitFor, type RunningCommand } from './tools.ts';

export const LDAP_SUFFIX = 'dc=custody,dc=test';
export const LDAP_PEOPLE = `ou=people,${LDAP_SUFFIX}`;
export const LDAP_GROUPS = `ou=groups,${LDAP_SUFFIX}`;
export const LDAP_ADMIN_DN = `cn=admin,${LDAP_SUFFIX}`;
/** A read-only service account for the directory's searches (ldap.bindDn). */
export const LDAP_SERVICE_DN = `cn=custody,ou=services,${LDAP_SUFFIX}`;

export interface LdapUser {
  readonly uid: string;
  readonly password: string;
  readonly mail?: string;
  readonly cn?: string;
  /** The RDN of the entry under ou=people; default uid=<uid>. */
  readonly rdn?: string;
}

export interface LdapGroup {
  readonly cn: string;
  /** Member uids (users of this directory); groupOfNames needs at least one member. */
  readonly members: readonly string[];
}

export interface SlapdOptions {
  readonly users?: readonly LdapUser[];
  readonly groups?: readonly LdapGroup[];
  /** Further LDIF appended to the generated entries. */
  readonly ldif?: string;
  /** Serve TLS too: StartTLS on the ldap:// port and an ldaps:// port. */
  readonly tls?: { readonly certPath: string; readonly keyPath: string; readonly caPath: string };
}

export interface Slapd {
  /** ldap://127.0.0.1:port */
  readonly url: string;
  /** ldaps://127.0.0.1:port when TLS was asked for. */
  readonly ldapsUrl: string | undefined;
  readonly dir: string;
  readonly adminDn: string;
  readonly adminPassword: string;
  readonly serviceDn: string;
  readonly servicePassword: string;
  /** The DN of a user given to the server (by uid). */
  userDn(uid: string): string;
  groupDn(cn: string): string;
  /** Runs ldapmodify as the administrator with this LDIF. */
  modify(ldif: string): Promise<void>;
  /** Adds entries as the administrator. */
  add(ldif: string): Promise<void>;
  /** Stops the server (its data stays); `start` serves the same data again on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** What slapd printed (errors only at this debug level). */
  logs(): string;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

/** An {SSHA} userPassword value, as slappasswd makes it. */
export function sshaPassword(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** An LDIF attribute line; values that LDIF cannot carry plainly are base64 (`attr:: ...`). */
function ldifLine(attribute: string, value: string): string {
  const safe = /^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) && !value.endsWith(' ');
  return safe ? `${attribute}: ${value}` : `${attribute}:: ${Buffer.from(value).toString('base64')}`;
}

/** Escapes a value for use in an RDN (RFC 4514). */
export function escapeRdnValue(value: string): string {
  let escaped = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (escaped.startsWith(' ') || escaped.startsWith('#')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ')) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

function entries(options: SlapdOptions, servicePassword: string): string {
  const blocks: string[][] = [
    [`dn: ${LDAP_SUFFIX}`, 'objectClass: dcObject', 'objectClass: organization', 'dc: custody', 'o: Custody tests'],
    [`dn: ${LDAP_PEOPLE}`, 'objectClass: organizationalUnit', 'ou: people'],
    [`dn: ${LDAP_GROUPS}`, 'objectClass: organizationalUnit', 'ou: groups'],
    [`dn: ou=services,${LDAP_SUFFIX}`, 'objectClass: organizationalUnit', 'ou: services'],
    [`dn: ${LDAP_SERVICE_DN}`, 'objectClass: applicationProcess', 'objectClass: simpleSecurityObject', 'cn: custody', ldifLine('userPassword', sshaPassword(servicePassword))],
  ];
  const dnOf = userDnFor(options.users ?? []);
  for (const user of options.users ?? []) {
    blocks.push([
      ldifLine('dn', dnOf(user.uid)),
      'objectClass: inetOrgPerson',
      ldifLine('uid', user.uid),
      ldifLine('cn', user.cn ?? user.uid),
      ldifLine('sn', user.cn ?? user.uid),
      ...(user.mail ? [ldifLine('mail', user.mail)] : []),
      ldifLine('userPassword', sshaPassword(user.password)),
    ]);
  }
  for (const group of options.groups ?? []) {
    blocks.push([ldifLine('dn', `cn=${escapeRdnValue(group.cn)},${LDAP_GROUPS}`), 'objectClass: groupOfNames', ldifLine('cn', group.cn), ...group.members.map((uid) => ldifLine('member', dnOf(uid)))]);
  }
  return `${blocks.map((lines) => lines.join('\n')).join('\n\n')}\n\n${options.ldif ?? ''}`;
}

function userDnFor(users: readonly LdapUser[]): (uid: string) => string {
  return (uid) => {
    const user = users.find((candidate) => candidate.uid === uid);
    return `${user?.rdn ?? `uid=${escapeRdnValue(uid)}`},${LDAP_PEOPLE}`;
  };
}

function tool(name: string): string {
  // slapd and slapadd live in /usr/sbin, which a non-root PATH may lack.
  for (const dir of ['/usr/sbin', '/usr/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  try {
    return requireTool(name);
  } catch (error) {
    throw new Error(`${(error as Error).message} (install it: apt-get install slapd ldap-utils)`, { cause: error });
  }
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const slapd = tool('slapd');
  const slapadd = tool('slapadd');
  const ldapmodify = tool('ldapmodify');
  const ldapadd = tool('ldapadd');
  const dir = await mkdtemp(join(tmpdir(), 'custody-slapd-'));
  const adminPassword = randomBytes(12).toString('hex');
  const servicePassword = randomBytes(12).toString('hex');
  const dbDir = join(dir, 'db');
  await mkdir(dbDir);
  const config = join(dir, 'slapd.conf');
  await writeFile(
    config,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'include /etc/ldap/schema/nis.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `argsfile ${join(dir, 'slapd.args')}`,
      ...(options.tls ? [`TLSCACertificateFile ${options.tls.caPath}`, `TLSCertificateFile ${options.tls.certPath}`, `TLSCertificateKeyFile ${options.tls.keyPath}`] : []),
      'database mdb',
      'maxsize 16777216',
      `suffix "${LDAP_SUFFIX}"`,
      `rootdn "${LDAP_ADMIN_DN}"`,
      `rootpw ${sshaPassword(adminPassword)}`,
      `directory ${dbDir}`,
      // Passwords: only for binding. Everything else: readable by bound users (the service
      // account and users themselves), not anonymously, like a typical directory.
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  );
  const ldifPath = join(dir, 'data.ldif');
  await writeFile(ldifPath, entries(options, servicePassword));
  const loaded = await run(slapadd, ['-f', config, '-l', ldifPath], { timeoutMs: 30_000 });
  if (loaded.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`slapadd could not load the test directory: ${explain(loaded)}`);
  }

  let url = '';
  let ldapsUrl: string | undefined;
  const pickPorts = async (): Promise<void> => {
    url = `ldap://127.0.0.1:${await freePort()}`;
    ldapsUrl = options.tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  };
  let server: RunningCommand | undefined;
  let exited = true;
  let output = '';

  const start = async (): Promise<void> => {
    const listeners = [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ');
    const child = startCommand(slapd, ['-f', config, '-h', listeners, '-d', '0'], { timeoutMs: 60 * 60_000 });
    server = child;
    exited = false;
    void child.done.then(
      (result) => {
        exited = true;
        output += result.stdout + result.stderr;
      },
      () => (exited = true),
    );
    await waitFor(
      `slapd to answer on ${url}`,
      async () => {
        if (exited) throw new Error(`slapd exited: ${output.slice(-2000)}`);
        // An authenticated search as the service account: proves the database is loaded.
        const probe = await run(tool('ldapsearch'), ['-x', '-H', url, '-D', LDAP_SERVICE_DN, '-w', servicePassword, '-b', LDAP_SUFFIX, '-s', 'base', '-LLL', 'dn'], { timeoutMs: 5_000 });
        return probe.code === 0;
      },
      20_000,
      50,
    );
  };

  const stop = async (): Promise<void> => {
    const child = server;
    if (!child || exited) return;
    child.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([child.done.then(() => true, () => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000)))]);
    clearTimeout(timer);
    if (!stopped) {
      child.child.kill('SIGKILL');
      await child.done.catch(() => {});
    }
  };

  // A port free when picked may be taken before slapd binds it: retry with others.
  for (let attempt = 1; ; attempt++) {
    await pickPorts();
    try {
      await start();
      break;
    } catch (error) {
      const died = exited;
      await stop();
      if (attempt < 3 && died) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  const asAdmin = async (command: string, ldif: string): Promise<void> => {
    await runOk(command, ['-x', '-H', url, '-D', LDAP_ADMIN_DN, '-w', adminPassword], { input: ldif, timeoutMs: 15_000 });
  };

  return {
    url,
    ldapsUrl,
    dir,
    adminDn: LDAP_ADMIN_DN,
    adminPassword,
    serviceDn: LDAP_SERVICE_DN,
    servicePassword,
    userDn: userDnFor(options.users ?? []),
    groupDn: (cn) => `cn=${escapeRdnValue(cn)},${LDAP_GROUPS}`,
    modify: (ldif) => asAdmin(ldapmodify, ldif),
    add: (ldif) => asAdmin(ldapadd, ldif),
    stop,
    start,
    logs: () => output + (server && !exited ? server.output().stdout + server.output().stderr : ''),
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
