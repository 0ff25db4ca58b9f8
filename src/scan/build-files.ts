// The build files an image ships about itself: Red Hat images keep the Dockerfile they were
// built from under /root/buildinfo/ (Dockerfile-<name>-<version>-<release>). Read from the
// image's final filesystem with the indexer's one streaming pass (an analyzer that keeps
// only those files), within the indexer's limits and a time budget.
import type { Registry } from '../registry/registry.ts';
import type { Analyzer } from './indexer/analyzer.ts';
import { indexManifest } from './indexer/index-image.ts';
import { DEFAULT_INDEX_LIMITS, type IndexLimits } from './indexer/index-limits.ts';
import { RegistryImageSource } from './registry-image-source.ts';

export interface BuildFile {
  readonly path: string;
  readonly content: string;
}

const BUILD_FILE = /^root\/buildinfo\/(Dockerfile|Containerfile)[^/]*$/;
const CONTENT_CAP = 256 * 1024;

/** The image's own build files (empty when it ships none). */
export async function readBuildFiles(registry: Registry, repository: string, digest: string, options: { limits?: IndexLimits; timeBudgetMs?: number } = {}): Promise<BuildFile[]> {
  const found: BuildFile[] = [];
  const analyzer: Analyzer = {
    name: 'buildinfo',
    wants: (path) => BUILD_FILE.test(path),
    finish: async (files) => {
      for (const file of files.wantedFiles()) {
        if (BUILD_FILE.test(file.path) && file.content !== null) found.push({ path: `/${file.path}`, content: file.content.toString('utf8') });
      }
      return {};
    },
  };
  const source = new RegistryImageSource(registry, repository, digest);
  const manifest = await source.getManifest();
  await indexManifest(source, manifest, {
    analyzers: [analyzer],
    contentCap: CONTENT_CAP,
    limits: options.limits ?? DEFAULT_INDEX_LIMITS,
    signal: AbortSignal.timeout(options.timeBudgetMs ?? 60_000),
    verifyDigests: false,
  });
  return found;
}
