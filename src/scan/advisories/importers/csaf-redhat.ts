// Red Hat CSAF 2.0 advisories (RHSA/RHBA/RHEA) and VEX documents into Advisory objects.
// The product tree names product streams (with their CPE) and package versions (with a
// purl); relationships pair them, and each vulnerability's product_status lists the
// pairs that are fixed (or known affected without a fix). An advisory carries its fixes;
// a VEX document (one per CVE) is read for what advisories never say: the packages
// known affected with no fix, each with the vendor's fix state from its remediation
// (none_available: affected or deferred; no_fix_planned: will not fix, out of support
// scope) and the CVE's statement. Its fixed products are the advisories' business (the
// same fix under the RHSA's id and date), so they are not read twice.
import type { Advisory, AdvisoryKind, AffectedPackage, FixState } from '../../../core/quality.ts';
import { severityFromWord } from '../severity.ts';
import { rhelDistro } from '../distros.ts';

interface CsafBranch {
  readonly category?: string;
  readonly name?: string;
  readonly product?: { readonly product_id: string; readonly name?: string; readonly product_identification_helper?: { readonly cpe?: string; readonly purl?: string } };
  readonly branches?: readonly CsafBranch[];
}

interface CsafDocument {
  readonly document: {
    readonly category: string;
    readonly title?: string;
    readonly aggregate_severity?: { readonly text?: string };
    readonly tracking: { readonly id: string; readonly initial_release_date?: string; readonly current_release_date?: string };
    readonly references?: readonly { readonly url?: string; readonly category?: string }[];
  };
  readonly product_tree?: {
    readonly branches?: readonly CsafBranch[];
    readonly product_groups?: readonly { readonly group_id: string; readonly product_ids?: readonly string[] }[];
    readonly relationships?: readonly { readonly full_product_name: { readonly product_id: string }; readonly product_reference: string; readonly relates_to_product_reference: string }[];
  };
  readonly vulnerabilities?: readonly {
    readonly cve?: string;
    readonly product_status?: { readonly fixed?: readonly string[]; readonly known_affected?: readonly string[] };
    readonly threats?: readonly { readonly category: string; readonly details?: string }[];
    readonly remediations?: readonly CsafRemediation[];
    readonly notes?: readonly { readonly category?: string; readonly title?: string; readonly text?: string }[];
  }[];
}

interface CsafRemediation {
  readonly category?: string;
  readonly details?: string;
  readonly product_ids?: readonly string[];
  readonly group_ids?: readonly string[];
}

interface PackageVersion {
  readonly name: string;
  /** epoch:version-release, epoch 0 when absent (rpm's default). */
  readonly evr: string | null;
  readonly arch?: string | undefined;
  readonly module?: string | undefined;
}

export function isCsaf(value: unknown): value is CsafDocument {
  const document = (value as { document?: { category?: unknown; csaf_version?: unknown } } | null)?.document;
  return typeof document === 'object' && document !== null && typeof document.category === 'string' && String(document.csaf_version ?? '2.0').startsWith('2');
}

function kindOf(id: string, category: string): AdvisoryKind {
  if (/^RHBA-/i.test(id)) return 'bugfix';
  if (/^RHEA-/i.test(id)) return 'enhancement';
  if (/^RHSA-/i.test(id) || category === 'csaf_security_advisory' || category === 'csaf_vex') return 'security';
  return 'security';
}

/** `pkg:rpm/redhat/ruby@2.7.8-139.module%2Bel8?arch=x86_64&epoch=1&rpmmod=ruby:2.7:8080...` */
function fromPurl(purl: string): PackageVersion | null {
  const match = /^pkg:rpm\/[^/]+\/([^@?#]+)(?:@([^?#]+))?(?:\?([^#]*))?/.exec(purl);
  if (!match) return null;
  const qualifiers = new URLSearchParams(match[3] ?? '');
  const version = match[2] ? decodeURIComponent(match[2]) : null;
  const epoch = qualifiers.get('epoch') ?? '0';
  const rpmmod = qualifiers.get('rpmmod');
  return {
    name: decodeURIComponent(match[1]!),
    evr: version ? `${epoch}:${version}` : null,
    arch: qualifiers.get('arch') ?? undefined,
    module: rpmmod ? rpmmod.split(':').slice(0, 2).join(':') : undefined,
  };
}

/** A product id that is a NEVRA: `bind-32:9.8.2-0.68.rc1.el6_10.17.x86_64` or, in older
 * documents, `ruby-2.7.8-139.module+el8.x86_64.rpm-ruby:2.7`. */
function fromNevra(id: string): PackageVersion | null {
  let text = id;
  let module: string | undefined;
  const moduleMatch = /\.rpm-([^:]+:[^:]+)$/.exec(text);
  if (moduleMatch) {
    module = moduleMatch[1];
    text = text.slice(0, moduleMatch.index);
  }
  text = text.replace(/\.rpm$/, '');
  const match = /^(.+)-(?:(\d+):)?([^-:]+)-([^-]+)\.([^.]+)$/.exec(text);
  if (!match) return null;
  return { name: match[1]!, evr: `${match[2] ?? '0'}:${match[3]}-${match[4]}`, arch: match[5], module };
}

export function parseCsaf(value: CsafDocument): Advisory {
  const { document } = value;
  const id = document.tracking.id;
  const streams = new Map<string, string>();
  const packages = new Map<string, PackageVersion>();
  const walk = (branches: readonly CsafBranch[] | undefined): void => {
    for (const branch of branches ?? []) {
      const product = branch.product;
      if (product) {
        const helper = product.product_identification_helper;
        if (helper?.cpe) streams.set(product.product_id, helper.cpe);
        else {
          const parsed = (helper?.purl ? fromPurl(helper.purl) : null) ?? fromNevra(product.product_id);
          if (parsed) packages.set(product.product_id, parsed);
        }
      }
      walk(branch.branches);
    }
  };
  walk(value.product_tree?.branches);
  const pairs = new Map<string, { stream: string; component: string }>();
  for (const relationship of value.product_tree?.relationships ?? []) {
    pairs.set(relationship.full_product_name.product_id, { stream: relationship.relates_to_product_reference, component: relationship.product_reference });
  }

  const groups = new Map<string, readonly string[]>();
  for (const group of value.product_tree?.product_groups ?? []) groups.set(group.group_id, group.product_ids ?? []);
  const vex = document.category === 'csaf_vex';

  const affected = new Map<string, AffectedPackage>();
  const add = (productId: string, fixed: boolean, unfixed?: UnfixedState): void => {
    const pair = pairs.get(productId);
    if (!pair) return;
    const cpe = streams.get(pair.stream);
    const distro = cpe ? rhelDistro(cpe) : null;
    if (!cpe || !distro) return;
    // VEX names unfixed components without a version (`red_hat_enterprise_linux_9:openssl`).
    const version = packages.get(pair.component) ?? (fixed ? null : { name: pair.component, evr: null });
    if (!version || (fixed && !version.evr)) return;
    const ranges = fixed ? [{ fixed: version.evr! }] : [{}];
    // A source rpm (arch src) stands for every binary built from it, which the matcher
    // finds by their SOURCERPM; a binary stands for itself. Every architecture of one
    // binary build carries the same EVR: one entry per binary package, its arch not kept.
    const source = version.arch === 'src' || version.arch === 'nosrc' ? version.arch : undefined;
    const key = `${cpe}\u0000${version.name}\u0000${version.module ?? ''}\u0000${source ?? 'binary'}\u0000${fixed ? version.evr : ''}`;
    if (!affected.has(key)) {
      affected.set(key, {
        ecosystem: 'rpm', distro, cpe, name: version.name, ranges,
        ...(version.module ? { module: version.module } : {}),
        ...(source ? { arch: source } : {}),
        ...(unfixed ? { fixState: unfixed.state } : {}),
        ...(unfixed?.statement ? { fixStatement: unfixed.statement } : {}),
      });
    }
  };
  const cves: string[] = [];
  let vulnerabilitySeverity: string | undefined;
  let statement: string | undefined;
  for (const vulnerability of value.vulnerabilities ?? []) {
    if (vulnerability.cve && !cves.includes(vulnerability.cve)) cves.push(vulnerability.cve);
    if (!vex) for (const product of vulnerability.product_status?.fixed ?? []) add(product, true);
    const states = unfixedStates(vulnerability.remediations ?? [], groups);
    for (const product of vulnerability.product_status?.known_affected ?? []) add(product, false, states.get(product) ?? { state: 'affected' });
    statement ??= vulnerability.notes?.find((note) => /^statement$/i.test(note.title ?? '') || note.category === 'statement')?.text;
    const impact = vulnerability.threats?.find((threat) => threat.category === 'impact')?.details;
    if (impact && (!vulnerabilitySeverity || rank(impact) < rank(vulnerabilitySeverity))) vulnerabilitySeverity = impact;
  }
  // An advisory's own rating; a VEX document has none but its CVE's impact.
  const vendorSeverity = document.aggregate_severity?.text ?? vulnerabilitySeverity;
  const references = (document.references ?? []).map((reference) => reference.url).filter((url): url is string => typeof url === 'string');
  return {
    id,
    source: 'redhat',
    kind: kindOf(id, document.category),
    title: document.title,
    severity: severityFromWord(vendorSeverity),
    vendorSeverity,
    issued: document.tracking.initial_release_date ? Date.parse(document.tracking.initial_release_date) : null,
    updated: document.tracking.current_release_date ? Date.parse(document.tracking.current_release_date) : null,
    cves,
    references,
    ...(statement ? { statement } : {}),
    affected: [...affected.values()],
  };
}

interface UnfixedState {
  readonly state: FixState;
  readonly statement?: string | undefined;
}

/** Product id → the fix state its remediation gives (a product without one is simply
 * affected). Red Hat writes the state in `details`: "Affected", "Deferred", "Will not
 * fix", "Out of support scope"; other vendors a sentence, kept as the statement. */
function unfixedStates(remediations: readonly CsafRemediation[], groups: ReadonlyMap<string, readonly string[]>): Map<string, UnfixedState> {
  const states = new Map<string, UnfixedState>();
  for (const remediation of remediations) {
    const details = remediation.details?.trim() || undefined;
    let state: FixState;
    if (remediation.category === 'no_fix_planned') state = details !== undefined && /out of support/i.test(details) ? 'out-of-support' : 'will-not-fix';
    else if (remediation.category === 'none_available') state = details !== undefined && /defer/i.test(details) ? 'fix-deferred' : 'affected';
    else continue; // vendor_fix, workaround, mitigation: no fix state
    const products = [...(remediation.product_ids ?? []), ...(remediation.group_ids ?? []).flatMap((id) => groups.get(id) ?? [])];
    for (const product of products) states.set(product, { state, statement: details });
  }
  return states;
}

const RANKS = ['critical', 'important', 'moderate', 'low'];
function rank(word: string): number {
  const index = RANKS.indexOf(word.toLowerCase());
  return index < 0 ? RANKS.length : index;
}
