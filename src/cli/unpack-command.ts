// `custody unpack IMAGE DIR`: writes a stored image's root filesystem into DIR (absent or
// empty), layer by layer, with whiteouts; refuses any entry that would write outside DIR,
// and stops at --max-size of inflated layers.
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.ts';
import { DEFAULT_MAX_UNPACK_BYTES, defaultStoragePath, LocalStore, unpackImage } from '../client/local-store/index.ts';
import { formatBytes, parseSize } from '../core/size.ts';
import type { Command } from './main.ts';
import { STORAGE_USAGE } from './pull-command.ts';

export const unpackCommand: Command = {
  name: 'unpack',
  summary: 'unpack an image from the local image store into a directory',
  usage: [
    'Usage: custody unpack IMAGE DIR [--storage DIR] [--max-size SIZE] [--override-os OS] [--override-arch ARCH] [--override-variant V]',
    '',
    'DIR must be absent or empty. Entries that would land outside DIR (".." components, paths',
    'through symlinks, hard links to missing entries) are refused and DIR is emptied again.',
    'Device nodes and FIFOs are skipped with a warning.',
    '',
    `  --max-size SIZE   stop (and empty DIR again) when the layers inflate to more than SIZE,`,
    `                    in bytes or with a unit: 512MiB, 20GiB, 30GB (default ${formatBytes(DEFAULT_MAX_UNPACK_BYTES, { limit: true }).replace(' ', '')})`,
    '',
    STORAGE_USAGE,
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { storage: { type: 'string' }, 'max-size': { type: 'string' }, 'override-os': { type: 'string' }, 'override-arch': { type: 'string' }, 'override-variant': { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length < 2) throw new UsageError(positionals.length === 0 ? 'missing IMAGE and DIR' : 'missing DIR');
    if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2]}"`);
    const maxBytes = values['max-size'] === undefined ? DEFAULT_MAX_UNPACK_BYTES : parseSize(values['max-size']);
    if (maxBytes === null || maxBytes < 1) throw new UsageError(`--max-size: expected a size such as 512MiB or 20GiB, got "${values['max-size']}"`);
    const store = new LocalStore(defaultStoragePath(values.storage));
    const platform = {
      ...(values['override-os'] === undefined ? {} : { os: values['override-os'] }),
      ...(values['override-arch'] === undefined ? {} : { architecture: values['override-arch'] }),
      ...(values['override-variant'] === undefined ? {} : { variant: values['override-variant'] }),
    };
    let warned = 0;
    const result = await unpackImage(store, positionals[0]!, positionals[1]!, {
      platform,
      maxBytes,
      maxBytesName: '--max-size',
      onWarning: (message) => {
        warned += 1;
        if (values.quiet !== true && warned <= 20) process.stderr.write(`custody unpack: warning: ${message}\n`);
      },
    });
    if (values.quiet !== true && warned > 20) process.stderr.write(`custody unpack: warning: ${warned - 20} more special files skipped\n`);
    if (values.quiet !== true) process.stderr.write(`Unpacked ${result.entries} entries into ${positionals[1]}${result.skipped > 0 ? ` (${result.skipped} special files skipped)` : ''}\n`);
    return 0;
  },
};
