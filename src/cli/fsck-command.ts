// `custody fsck`: verifies every tag → manifest → blob chain and every stored digest.
import { parseServerArgs } from './config-flags.ts';
import { checkStores } from '../app/maintenance.ts';
import { UsageError } from '../core/errors.ts';
import type { Command } from './main.ts';

export const fsckCommand: Command = {
  name: 'fsck',
  summary: 'verify every tag, manifest and blob and their digests',
  usage: [
    'Usage: custody fsck [--quick] [--verbose] [--json] [--config FILE] [setting flags]',
    '',
    'Checks that every tag reaches a manifest in its repository, every manifest matches its',
    'digest and its blobs and child manifests are there, every blob in storage has the',
    'recorded size and digest, and reference counts are right. --quick skips re-hashing',
    'blob content. Exits 1 when anything is wrong; --verbose also lists what gc would reclaim.',
  ].join('\n'),
  async run(args) {
    const { config, values, positionals } = parseServerArgs(args, {
      quick: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const report = await checkStores(config, { verifyContent: values.quick !== true });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      for (const found of report.problems) process.stdout.write(`${found.kind}: ${found.message}\n`);
      if (values.verbose) for (const note of report.notes) process.stdout.write(`note: ${note}\n`);
      process.stdout.write(
        `${report.problems.length === 0 ? 'ok' : `${report.problems.length} problems`}: ${report.manifestsChecked} manifests, ` +
          `${report.blobsChecked} blobs checked, ${report.bytesVerified} bytes re-hashed, ${report.notes.length} reclaimable items\n`,
      );
    }
    return report.problems.length === 0 ? 0 : 1;
  },
};
