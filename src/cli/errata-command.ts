// `custody errata IMAGE`: the advisories with an update the image has not applied, as
// `yum updateinfo` lists them: a summary by type and severity, then one line per
// advisory and package.
import { CLIENT_FLAGS_USAGE } from './arguments.ts';
import type { ErrataGroup } from '../scan/matching/errata.ts';
import type { Command } from './main.ts';
import { FORMAT_FLAG, SCAN_FLAGS_USAGE, databaseLine, formatDay, jsonFormat, paintSeverity, runScanFromArgs, useColour } from './scan-command.ts';
import { table } from './output.ts';

const TITLES: Readonly<Record<ErrataGroup['kind'], string>> = { security: 'Security', bugfix: 'Bugfix', enhancement: 'Enhancement' };
const SHORT: Readonly<Record<ErrataGroup['kind'], string>> = { security: 'Sec.', bugfix: 'bugfix', enhancement: 'enhancement' };

export const errataCommand: Command = {
  name: 'errata',
  summary: 'list the errata an image has not applied (security, bug fix, enhancement)',
  usage: [
    'Usage: custody errata IMAGE [--format json] [--vulndb PATH] [--platform OS/ARCH[/VARIANT]] [global options]',
    '',
    SCAN_FLAGS_USAGE,
    '',
    CLIENT_FLAGS_USAGE,
  ].join('\n'),
  async run(args) {
    const { result, checked: json } = await runScanFromArgs(args, FORMAT_FLAG, 'errata', jsonFormat);
    const errata = result.errata;
    if (json) {
      process.stdout.write(`${JSON.stringify({ image: result.image, digest: result.index.manifestDigest, ...errata, database: result.database }, null, 2)}\n`);
      return 0;
    }
    const colour = useColour();
    const groups = [errata.security, errata.bugfix, errata.enhancement];
    const lines = [`Updates information summary: ${result.image}`];
    for (const group of groups) {
      if (group.errata.length === 0) continue;
      lines.push(`    ${group.errata.length} ${TITLES[group.kind]} notice(s)`);
      if (group.kind === 'security') {
        for (const [label, count] of Object.entries(group.byVendorSeverity).sort((a, b) => b[1] - a[1])) lines.push(`        ${count} ${label} Security notice(s)`);
      }
    }
    if (errata.total === 0) lines.push('    none');
    const rows: string[][] = [];
    for (const group of groups) {
      for (const erratum of group.errata) {
        const label = group.kind === 'security' ? `${erratum.vendorSeverity ?? erratum.severity}/${SHORT[group.kind]}` : SHORT[group.kind];
        for (const pkg of erratum.packages) {
          rows.push([erratum.id, group.kind === 'security' ? paintSeverity(erratum.severity, label, colour) : label, `${pkg.name}-${pkg.fixed}`, formatDay(erratum.issued)]);
        }
      }
    }
    if (rows.length > 0) lines.push('', table(rows));
    lines.push('', databaseLine(result.database));
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
