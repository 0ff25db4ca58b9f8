// The benchmark's settings (default and --quick), its phases and its command line.
import { resolve } from 'node:path';
import { REPO_ROOT } from './lib/processes.ts';
import { GiB, KiB, MiB } from './lib/stats.ts';

export interface Settings {
  readonly rounds: number;
  readonly shaBytes: number;
  readonly opensslSeconds: number;
  readonly bigBlob: number;
  readonly chunk: number;
  readonly smallBlob: number;
  readonly smallConcurrency: number;
  readonly smallPushCount: number;
  readonly smallPullMs: number;
  readonly manifestConcurrency: readonly number[];
  readonly manifestMs: number;
  readonly warmupMs: number;
  readonly tagCount: number;
  readonly repoCount: number;
  /** Repositories of the ui phase (issue 12's test data: 10,000). */
  readonly uiRepoCount: number;
  readonly listMs: number;
  readonly listMinRequests: number;
  readonly fanoutBlob: number;
  readonly fanoutConcurrency: number;
  readonly rssBlob: number;
  readonly rssTargetBytes: number;
  /** Total layer bytes of the client phase's 5-layer image. */
  readonly clientImage: number;
  /** Uncompressed tar bytes of the index phase's generated multi-layer gzip image. */
  readonly indexImage: number;
  readonly indexRssTargetBytes: number;
  /** The indexer's compressed-input throughput must reach this fraction of `gzip -dc`'s. */
  readonly indexGzipRatioTarget: number;
  /** Layer bytes of the proxy phase's image (in 4 layers), and its cold blob for time to first byte and fan-out. */
  readonly proxyImage: number;
  readonly proxyBlob: number;
}

export const DEFAULTS: Settings = {
  rounds: 3,
  shaBytes: 256 * MiB,
  opensslSeconds: 3,
  bigBlob: 256 * MiB,
  chunk: 8 * MiB,
  smallBlob: 4 * KiB,
  smallConcurrency: 16,
  smallPushCount: 1500,
  smallPullMs: 2000,
  manifestConcurrency: [1, 16, 64],
  manifestMs: 2000,
  warmupMs: 300,
  tagCount: 5000,
  repoCount: 1000,
  uiRepoCount: 10_000,
  listMs: 2000,
  listMinRequests: 5,
  fanoutBlob: 64 * MiB,
  fanoutConcurrency: 32,
  rssBlob: 2 * GiB,
  rssTargetBytes: 200 * MiB,
  clientImage: 256 * MiB,
  indexImage: GiB,
  indexRssTargetBytes: 256 * MiB,
  indexGzipRatioTarget: 0.7,
  proxyImage: 256 * MiB,
  proxyBlob: 64 * MiB,
};

export const QUICK: Settings = {
  ...DEFAULTS,
  rounds: 1,
  shaBytes: 64 * MiB,
  opensslSeconds: 1,
  bigBlob: 32 * MiB,
  smallPushCount: 200,
  smallPullMs: 500,
  manifestMs: 500,
  warmupMs: 100,
  tagCount: 500,
  repoCount: 100,
  uiRepoCount: 100,
  listMs: 500,
  listMinRequests: 3,
  fanoutBlob: 8 * MiB,
  rssBlob: 256 * MiB,
  clientImage: 32 * MiB,
  indexImage: 128 * MiB,
  proxyImage: 32 * MiB,
  proxyBlob: 8 * MiB,
};

export const PHASES = ['sha', 'catalog', 'tags', 'manifests', 'auth', 'small', 'big', 'fanout', 'client', 'rss', 'index', 'match', 'signatures', 'sync', 's3', 'webhooks', 'ui', 'vulndb', 'proxy', 'lifecycle'] as const;
export type Phase = (typeof PHASES)[number];

export interface Args {
  readonly settings: Settings;
  readonly quick: boolean;
  readonly phases: ReadonlySet<Phase>;
  readonly distributionCache: boolean;
  readonly output: boolean;
  /** The Custody checkout to run (bin/custody.js under it): for A/B runs of a patch. */
  readonly custodyDir: string;
}

const USAGE = `Usage: npm run bench -- [options]

  --quick            fast smoke run: small sizes, one round
  --rounds N         rounds per measurement (default ${DEFAULTS.rounds}; --quick: ${QUICK.rounds})
  --only LIST        comma-separated phases: ${PHASES.join(', ')}
  --skip LIST        phases to leave out
  --dist-cache       give Distribution its in-memory blob descriptor cache (off by default)
  --custody-dir DIR  run the Custody in DIR (a checkout with bin/ and src/) instead of this one
  --no-write         do not write bench/results/latest.{md,json}
  --help             this text
`;

export function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let rounds: number | undefined;
  let only: Phase[] | undefined;
  let skip: Phase[] = [];
  let distributionCache = false;
  let output = true;
  let custodyDir = REPO_ROOT;
  const phaseList = (value: string | undefined, flag: string): Phase[] => {
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const names = value.split(',').map((name) => name.trim()).filter(Boolean);
    for (const name of names) if (!(PHASES as readonly string[]).includes(name)) throw new Error(`unknown phase "${name}" (phases: ${PHASES.join(', ')})`);
    return names as Phase[];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--rounds': {
        const text = value();
        rounds = Number(text);
        if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a positive integer, got "${text}"`);
        break;
      }
      case '--only':
        only = phaseList(value(), '--only');
        break;
      case '--skip':
        skip = phaseList(value(), '--skip');
        break;
      case '--dist-cache':
        distributionCache = true;
        break;
      case '--no-write':
        output = false;
        break;
      case '--custody-dir': {
        const text = value();
        if (text === undefined) throw new Error('--custody-dir needs a directory');
        custodyDir = resolve(text);
        break;
      }
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option "${arg}"\n\n${USAGE}`);
    }
  }
  const base = quick ? QUICK : DEFAULTS;
  const phases = new Set<Phase>((only ?? [...PHASES]).filter((phase) => !skip.includes(phase)));
  return { settings: { ...base, rounds: rounds ?? base.rounds }, quick, phases, distributionCache, output, custodyDir };
}
