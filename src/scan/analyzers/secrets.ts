// Secrets committed to image layers. Every file of every layer is a candidate, including
// those a later layer deletes: deleting a file in a later layer does not remove its bytes
// from the earlier layer, which everyone who can pull the image can read.
//
// Which files are read (isSecretScanCandidate):
// - regular files up to MAX_SECRET_FILE_BYTES, not binary (a NUL byte in the first
//   8 KiB), not of a binary or media type by extension (.so, .png, .jar, .pyc...);
// - not under paths where matches are nearly always someone else's test material or
//   documentation, as Trivy's built-in allow rules decide: language package trees
//   (node_modules, site-packages, dist-packages, vendor, Go's module cache, Ruby gems),
//   test and example directories (test, tests, testdata, fixtures, __tests__, examples),
//   and the distribution's own files in usr/share, usr/include, usr/lib*, usr/libexec
//   (packaged documentation and the test keys Python and OpenSSL ship). A key an image
//   author puts there is missed; the noise of reporting every library's test keys would
//   bury the secrets that matter.
//
// Each finding carries a rule id, the line and a redacted hint; the secret itself is
// never kept.
import type { SecretSeverity } from '../../core/quality.ts';
import { redact } from './redact.ts';

/** Larger files are not read: config and key files are small, and reading every large
 * text file of every layer would dominate the indexing time. */
export const MAX_SECRET_FILE_BYTES = 2 * 1024 * 1024;
const BINARY_PROBE_BYTES = 8 * 1024;
/** A file with more findings than this is a dump or a generated list; the first ones make
 * the point, and the cap bounds what one file adds to the index. */
export const MAX_FINDINGS_PER_FILE = 100;

const SKIPPED_DIRECTORIES = /(^|\/)(node_modules|site-packages|dist-packages|vendor|gems|tests?|testdata|test-?fixtures|fixtures|__tests__|examples?)\/|(^|\/)go\/pkg\/mod\/|^usr\/(share|include|lib(32|64|x32)?|libexec)\//;
const SKIPPED_EXTENSIONS = /\.(so(\.[0-9.]+)?|a|o|ko|dll|exe|bin|dat|node|wasm|class|jar|war|ear|pyc|pyo|whl|egg|gem|deb|rpm|apk|png|jpe?g|gif|bmp|ico|webp|tiff?|svg|woff2?|ttf|otf|eot|mp[34]|avi|mov|pdf|zip|gz|tgz|bz2|xz|zst|lz4|7z|rar|tar|db|sqlite3?|mo|map|md|rst|txt\.gz)$/i;

/** Whether a layer entry is worth reading for secrets (by path and size only). */
export function isSecretScanCandidate(path: string, size: number): boolean {
  return size > 0 && size <= MAX_SECRET_FILE_BYTES && !SKIPPED_DIRECTORIES.test(path) && !SKIPPED_EXTENSIONS.test(path);
}

/** A NUL byte in the first 8 KiB: what git and grep call binary. */
export function isBinaryContent(content: Uint8Array): boolean {
  const probe = content.subarray(0, BINARY_PROBE_BYTES);
  return probe.indexOf(0) >= 0;
}

export interface SecretMatch {
  readonly rule: string;
  readonly description: string;
  readonly severity: SecretSeverity;
  readonly line: number;
  readonly hint: string;
}

interface Hit {
  /** Offset of the secret in the text (for the line number). */
  readonly index: number;
  readonly secret: string;
}

interface SecretRule {
  readonly id: string;
  readonly description: string;
  readonly severity: SecretSeverity;
  /** Only files this accepts are searched (undefined: every scanned file). */
  readonly path?: (path: string) => boolean;
  /** Literal text every match contains (any one of them): one scan for all rules' anchors
   * (ANY_ANCHOR) skips a file before any rule's regular expression runs. Most files of an
   * image hold none, so this keeps the scan near the speed of reading. */
  readonly anchors?: readonly string[];
  readonly find: (text: string) => Iterable<Hit>;
  /** Rules whose hits in the same file this rule's hits make redundant. */
  readonly suppresses?: readonly string[];
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Hits of capture group `group` of a regular expression (compiled with the `d` flag so
 * the group's own offset is known). `reject` drops documented example values. The line
 * reported is the group's, or the whole match's with `atMatch` (a key block is found on
 * its BEGIN line, not where its body starts). */
function regexFind(source: RegExp, group: number, reject?: (secret: string) => boolean, atMatch = false): (text: string) => Iterable<Hit> {
  const flags = new Set([...source.flags, 'g', 'd']);
  const re = new RegExp(source.source, [...flags].join(''));
  return function* find(text: string): Iterable<Hit> {
    for (const m of text.matchAll(re)) {
      const value = m[group];
      const at = m.indices?.[group];
      if (value === undefined || at === undefined || value === '') continue;
      if (reject?.(value) === true) continue;
      yield { index: atMatch ? m.index : at[0], secret: value };
    }
  };
}

/** A value that points elsewhere rather than holding a secret: `${VAR}`, `$VAR`,
 * `%(var)s`, `<placeholder>`, `{{ template }}`. */
function isReference(value: string): boolean {
  return /^(\$\{?[A-Za-z_]|%\(|<[^>]*>$|\{\{)/.test(value);
}

const isDotEnv = (path: string): boolean => {
  const base = baseName(path);
  return /^\.env(\.[A-Za-z0-9_-]+)?$/.test(base) && !/\.(example|sample|template|dist|defaults?)$/i.test(base);
};

const isDockerConfig = (path: string): boolean =>
  path.endsWith('.docker/config.json') || path.endsWith('/containers/auth.json') || path === 'containers/auth.json' || baseName(path) === '.dockercfg';

/** `.pgpass`: `hostname:port:database:username:password`, `\:` and `\\` escaped. */
function* pgpassFind(text: string): Iterable<Hit> {
  let offset = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) {
      let fields = 0;
      for (let i = 0; i < line.length; i++) {
        if (line[i] === '\\') i++;
        else if (line[i] === ':' && ++fields === 4) {
          const secret = line.slice(i + 1).replace(/\r$/, '');
          if (secret !== '' && secret !== '*') yield { index: offset + i + 1, secret };
          break;
        }
      }
    }
    offset += line.length + 1;
  }
}

/** Strips matching quotes around a .env value and a trailing comment of an unquoted one. */
function* dotEnvFind(text: string): Iterable<Hit> {
  const re = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(.*)$/gmd;
  for (const m of text.matchAll(re)) {
    const key = m[1]!;
    if (!/(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i.test(key)) continue;
    let value = m[2]!.replace(/\r$/, '');
    let start = m.indices![2]![0];
    const quoted = /^(['"])(.*)\1\s*(#.*)?$/.exec(value);
    if (quoted !== null) {
      value = quoted[2]!;
      start += 1;
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    if (value === '' || isReference(value)) continue;
    yield { index: start, secret: value };
  }
}

/** The rules, most specific first: when two rules find the same secret on one line, the
 * first one names it. */
const RULES: readonly SecretRule[] = [
  {
    id: 'gcp-service-account',
    anchors: ['service_account'],
    description: 'Google Cloud service account key (JSON)',
    severity: 'critical',
    // The key file holds a PEM key with escaped newlines; the finding names the file by
    // its key id, and stands for the private key inside it.
    find: (text) => (/"type"\s*:\s*"service_account"/.test(text) ? regexFind(/"private_key_id"\s*:\s*"([A-Za-z0-9]{16,})"/, 1)(text) : []),
    suppresses: ['private-key'],
  },
  {
    id: 'private-key',
    anchors: ['PRIVATE KEY'],
    description: 'Private key (PEM or OpenSSH or PGP)',
    severity: 'high',
    // The body (after optional RFC 1421 headers such as Proc-Type) is what must not leak;
    // requiring one keeps code that merely mentions the header line from matching.
    // Escaped newlines (`\n` in JSON or YAML strings) count as line breaks. The body
    // starts with a base64 character so the whitespace before it has one reading only:
    // otherwise a long run of blanks would backtrack quadratically.
    find: regexFind(/-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?)PRIVATE KEY(?: BLOCK)?-----(?:\s|\\n)+(?:[A-Za-z-]+:[^\n\\]*(?:\s|\\n)+)*([A-Za-z0-9+/=](?:[A-Za-z0-9+/=]|\s|\\n){39,}?)-----END /, 2, undefined, true),
  },
  {
    id: 'aws-access-key-id',
    anchors: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'APKA'],
    description: 'AWS access key ID',
    severity: 'critical',
    find: regexFind(/(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16})(?![A-Z0-9])/, 1, (s) => s.endsWith('EXAMPLE')),
  },
  {
    id: 'aws-secret-access-key',
    anchors: ['ecret', 'ECRET'],
    description: 'AWS secret access key',
    severity: 'critical',
    find: regexFind(/aws_?secret_?(?:access_?)?key["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/i, 1, (s) => s.endsWith('EXAMPLEKEY')),
  },
  {
    id: 'azure-storage-account-key',
    anchors: ['AccountKey='],
    description: 'Azure storage account key',
    severity: 'critical',
    find: regexFind(/AccountKey=([A-Za-z0-9+/]{86}==)/, 1),
  },
  {
    id: 'github-token',
    anchors: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    description: 'GitHub token',
    severity: 'critical',
    find: regexFind(/(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])/, 1),
  },
  {
    id: 'gitlab-token',
    anchors: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glcbt-', 'gloas-'],
    description: 'GitLab token',
    severity: 'critical',
    find: regexFind(/(?<![A-Za-z0-9_-])(gl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])/, 1),
  },
  {
    id: 'slack-token',
    anchors: ['xox'],
    description: 'Slack token',
    severity: 'high',
    find: regexFind(/(?<![A-Za-z0-9])(xox[abeoprs]-(?:\d+-)?[0-9A-Za-z-]{10,})/, 1),
  },
  {
    id: 'slack-webhook',
    anchors: ['hooks.slack.com'],
    description: 'Slack incoming webhook URL',
    severity: 'medium',
    find: regexFind(/https:\/\/hooks\.slack\.com\/services\/(T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{20,})/, 1),
  },
  {
    id: 'npmrc-auth',
    description: 'npm registry credential in .npmrc',
    severity: 'critical',
    path: (p) => baseName(p) === '.npmrc' || p.endsWith('etc/npmrc'),
    find: regexFind(/^[ \t]*(?:\/\/[^\s=]*:)?(?:_authToken|_auth|_password)[ \t]*=[ \t]*"?([^\s"]+)/m, 1, isReference),
  },
  {
    id: 'npm-token',
    anchors: ['npm_'],
    description: 'npm access token',
    severity: 'critical',
    find: regexFind(/(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])/, 1),
  },
  {
    id: 'registry-auth',
    description: 'Container registry credentials (Docker config.json or containers auth.json)',
    severity: 'critical',
    path: isDockerConfig,
    // `auth` is base64 of user:password; `identitytoken` an OAuth refresh token.
    find: regexFind(/"(?:auth|identitytoken)"\s*:\s*"([^"]{4,})"/, 1),
  },
  {
    id: 'dotenv-secret',
    description: 'Password, secret or token in a .env file',
    severity: 'high',
    path: isDotEnv,
    find: dotEnvFind,
  },
  {
    id: 'pgpass-password',
    description: 'PostgreSQL password in .pgpass',
    severity: 'high',
    path: (p) => baseName(p) === '.pgpass',
    find: pgpassFind,
  },
  {
    id: 'netrc-password',
    description: 'Password in .netrc',
    severity: 'high',
    path: (p) => baseName(p) === '.netrc' || baseName(p) === '_netrc',
    find: regexFind(/(?:^|\s)password[ \t]+(\S+)/, 1),
  },
  {
    id: 'git-credentials',
    description: 'Password or token in .git-credentials',
    severity: 'high',
    path: (p) => baseName(p) === '.git-credentials',
    find: regexFind(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/m, 1),
  },
  {
    id: 'wordpress-db-password',
    description: 'Database password in wp-config.php',
    severity: 'high',
    path: (p) => baseName(p) === 'wp-config.php',
    find: regexFind(/define\(\s*['"]DB_PASSWORD['"]\s*,\s*(['"])([^'"]+)\1/, 2),
  },
  {
    id: 'mysql-password',
    description: 'MySQL password in .my.cnf',
    severity: 'high',
    path: (p) => baseName(p) === '.my.cnf' || baseName(p) === '.mylogin.cnf',
    find: regexFind(/^[ \t]*password[ \t]*=[ \t]*["']?([^\s"']+)/m, 1),
  },
];

// Every rule's anchors in one alternation: a single scan tells whether any may match.
const ANY_ANCHOR = new RegExp(
  RULES.flatMap((rule) => rule.anchors ?? [])
    .map((anchor) => anchor.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|'),
);

/** The rule ids, for documentation and tests. */
export const SECRET_RULE_IDS: readonly string[] = RULES.map((r) => r.id);

/** Scans one file's content. Binary content finds nothing. */
export function scanSecrets(path: string, content: Uint8Array): SecretMatch[] {
  if (content.byteLength > MAX_SECRET_FILE_BYTES) return [];
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const byPath = RULES.filter((rule) => rule.path === undefined || rule.path(path));
  if (byPath.length === 0 || isBinaryContent(content)) return [];
  const text = bytes.toString('latin1');
  // One pass over the text for every anchor at once; only when one occurs are the rules
  // that need it run (most files of an image hold none).
  if (byPath.every((rule) => rule.anchors !== undefined) && !ANY_ANCHOR.test(text)) return [];
  const applicable = byPath.filter((rule) => rule.anchors === undefined || rule.anchors.some((anchor) => text.includes(anchor)));
  if (applicable.length === 0) return [];
  // latin1 keeps one character per byte (every rule matches ASCII) and never fails.
  const lineStarts = lineIndex(text);
  const matches: SecretMatch[] = [];
  const seen = new Set<string>();
  const suppressed = new Set<string>();
  rules: for (const rule of applicable) {
    if (suppressed.has(rule.id)) continue;
    let hits = 0;
    for (const hit of rule.find(text)) {
      const secret = hit.secret.replace(/\\n|\s/g, '');
      const line = lineOf(lineStarts, hit.index);
      // The same secret on the same line is one finding, named by the first rule.
      const key = `${line}\n${secret}`;
      if (seen.has(key)) continue;
      seen.add(key);
      matches.push({ rule: rule.id, description: rule.description, severity: rule.severity, line, hint: redact(secret) });
      hits++;
      if (matches.length >= MAX_FINDINGS_PER_FILE) break rules;
    }
    if (hits > 0) for (const s of rule.suppresses ?? []) suppressed.add(s);
  }
  return matches.sort((a, b) => a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}

function lineIndex(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The 1-based line of an offset (binary search over line starts). */
function lineOf(starts: readonly number[], index: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
