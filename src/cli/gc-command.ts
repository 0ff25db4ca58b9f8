// `custody gc`: offline or alongside a running server (it is safe while pushes continue).
import { parseServerArgs } from './config-flags.ts';
import { collectGarbage } from '../app/maintenance.ts';
import { createLogger } from '../observability/logger.ts';
import { parseDuration } from '../config/config.ts';
import { UsageError } from '../core/errors.ts';
import { formatBytes } from '../core/size.ts';
import type { Command } from './main.ts';

export const gcCommand: Command = {
  name: 'gc',
  summary: 'reclaim storage no tag or manifest needs',
  usage: [
    'Usage: custody gc [--dry-run] [--delete-untagged] [--grace-period DURATION] [--json] [--config FILE] [setting flags]',
    '',
    'Deletes blobs no manifest references and manifests no repository holds; with',
    '--delete-untagged also manifests no tag reaches (directly, through an index, or as a',
    'referrer of something tagged). Content younger than the grace period (gc.gracePeriod,',
    'default 1h) is kept, so it is safe while pushes continue. --dry-run only reports.',
  ].join('\n'),
  async run(args) {
    const { config, values, positionals } = parseServerArgs(args, {
      'dry-run': { type: 'boolean' },
      'delete-untagged': { type: 'boolean' },
      'grace-period': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let gracePeriodMs = config.gc.gracePeriodMs;
    if (typeof values['grace-period'] === 'string') {
      const parsed = parseDuration(values['grace-period']);
      if (parsed === null) throw new UsageError(`--grace-period: expected a duration such as 0s, 30m or 1h, got "${values['grace-period']}"`);
      gracePeriodMs = parsed;
    }
    const report = await collectGarbage(
      config,
      {
        dryRun: values['dry-run'] === true,
        deleteUntagged: values['delete-untagged'] === true || config.gc.deleteUntagged,
        gracePeriodMs,
      },
      createLogger('warn', process.stderr),
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else if (report.skipped) {
      process.stdout.write(`nothing done: ${report.skipped} (another replica or custody gc); try again when it ends\n`);
    } else {
      const verb = report.dryRun ? 'would reclaim' : 'reclaimed';
      process.stdout.write(
        `${verb} ${formatBytes(report.bytesReclaimed)} (${report.bytesReclaimed} bytes): ` +
          `${report.blobsDeleted} blobs, ${report.manifestsDeleted} manifests, ${report.untaggedManifestsRemoved} untagged manifest links, ` +
          `${report.orphanFilesDeleted} orphan files, ${report.uploadsExpired} stale uploads in ${report.durationMs} ms\n`,
      );
    }
    return 0;
  },
};
