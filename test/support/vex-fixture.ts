// A Red Hat VEX document (CSAF 2.0, category csaf_vex, one per CVE) as Red Hat publishes
// them, for the VEX importer's tests and the feed mirror's redhat-vex layout.
export const STATEMENT = 'Only services that parse untrusted cookies are exposed; the default configuration does not.';

const product = (id: string, cpe: string) => ({ category: 'product_name', name: id, product: { name: id, product_id: id, product_identification_helper: { cpe } } });
const component = (name: string) => ({ category: 'product_version', name, product: { name, product_id: name, product_identification_helper: { purl: `pkg:rpm/redhat/${name}?arch=src` } } });
const pair = (stream: string, name: string) => ({ category: 'default_component_of', full_product_name: { name: `${name} as a component of ${stream}`, product_id: `${stream}:${name}` }, product_reference: name, relates_to_product_reference: stream });

/** A VEX document for one CVE: curl affected in RHEL 9 (a fix may come) and not fixed in
 * RHEL 8, libxml2 deferred in RHEL 9 (through a product group), tar affected with no
 * remediation at all, nano not affected, and zlib fixed by an RHSA. */
export function vexDocument(): unknown {
  const fixedZlib = 'BaseOS-9.4.0.Z.MAIN:zlib-0:1.2.11-41.el9.x86_64';
  return {
    document: {
      category: 'csaf_vex', csaf_version: '2.0', title: 'curl: cookie parsing flaw',
      aggregate_severity: { namespace: 'https://access.redhat.com/security/updates/classification/', text: 'Moderate' },
      tracking: { id: 'CVE-2099-1234', initial_release_date: '2099-01-10T00:00:00+00:00', current_release_date: '2099-02-01T00:00:00+00:00', status: 'final', version: '3' },
      references: [{ category: 'self', summary: 'Canonical URL', url: 'https://access.redhat.com/security/cve/CVE-2099-1234' }],
    },
    product_tree: {
      branches: [{
        category: 'vendor', name: 'Red Hat',
        branches: [
          { category: 'product_family', name: 'Red Hat Enterprise Linux 9', branches: [product('red_hat_enterprise_linux_9', 'cpe:/o:redhat:enterprise_linux:9'), product('BaseOS-9.4.0.Z.MAIN', 'cpe:/o:redhat:enterprise_linux:9::baseos')] },
          { category: 'product_family', name: 'Red Hat Enterprise Linux 8', branches: [product('red_hat_enterprise_linux_8', 'cpe:/o:redhat:enterprise_linux:8')] },
          component('curl'), component('libxml2'), component('tar'), component('nano'),
          { category: 'architecture', name: 'x86_64', branches: [{ category: 'product_version', name: 'zlib-0:1.2.11-41.el9.x86_64', product: { name: 'zlib-0:1.2.11-41.el9.x86_64', product_id: 'zlib-0:1.2.11-41.el9.x86_64', product_identification_helper: { purl: 'pkg:rpm/redhat/zlib@1.2.11-41.el9?arch=x86_64' } } }] },
        ],
      }],
      product_groups: [{ group_id: 'CSAFGID-0001', product_ids: ['red_hat_enterprise_linux_9:libxml2'] }],
      relationships: [
        pair('red_hat_enterprise_linux_9', 'curl'), pair('red_hat_enterprise_linux_8', 'curl'), pair('red_hat_enterprise_linux_9', 'libxml2'),
        pair('red_hat_enterprise_linux_9', 'tar'), pair('red_hat_enterprise_linux_9', 'nano'), pair('BaseOS-9.4.0.Z.MAIN', 'zlib-0:1.2.11-41.el9.x86_64'),
      ],
    },
    vulnerabilities: [{
      cve: 'CVE-2099-1234',
      notes: [
        { category: 'description', title: 'Vulnerability description', text: 'A flaw was found in curl.' },
        { category: 'other', title: 'Statement', text: STATEMENT },
      ],
      product_status: {
        fixed: [fixedZlib],
        known_affected: ['red_hat_enterprise_linux_9:curl', 'red_hat_enterprise_linux_8:curl', 'red_hat_enterprise_linux_9:libxml2', 'red_hat_enterprise_linux_9:tar'],
        known_not_affected: ['red_hat_enterprise_linux_9:nano'],
      },
      remediations: [
        { category: 'vendor_fix', details: 'For details on how to apply this update...', product_ids: [fixedZlib], url: 'https://access.redhat.com/errata/RHSA-2099:0001' },
        { category: 'none_available', details: 'Affected', product_ids: ['red_hat_enterprise_linux_9:curl'] },
        { category: 'no_fix_planned', details: 'Will not fix', product_ids: ['red_hat_enterprise_linux_8:curl'] },
        { category: 'none_available', details: 'Deferred', group_ids: ['CSAFGID-0001'] },
        { category: 'workaround', details: 'Mitigation for this issue is either not available or ...', product_ids: ['red_hat_enterprise_linux_9:curl', 'red_hat_enterprise_linux_9:tar'] },
      ],
      threats: [{ category: 'impact', details: 'Moderate' }],
    }],
  };
}

