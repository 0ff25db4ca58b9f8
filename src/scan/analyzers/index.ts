// The language-package and secret analyzers as the layer walker runs them: thin adapters
// from the Analyzer seam (src/scan/indexer/analyzer.ts) to the pure parsers beside this
// file. Packages come from the final filesystem (what the image runs); secrets from every
// layer (what the image hands out).
import type { InstalledPackage, SecretFinding } from '../../core/quality.ts';
import type { Analyzer, AnalyzerResult, FinalFiles, LayerEntry } from '../indexer/analyzer.ts';
import { sortPackages, type FoundPackage } from './found-package.ts';
import { GO_SCAN_BYTES, goBinaryPackages, parseGoBuildInfo } from './go-binary.ts';
import { isJavaArchivePath, parseJavaArchive } from './java.ts';
import { isNpmLockFilePath, isNpmPackageManifestPath, lockFilePackages, MAX_NPM_FILE_BYTES, npmProjectDir, parseNpmPackageJson } from './npm.ts';
import { isPythonMetadataPath, MAX_PYTHON_METADATA_BYTES, parsePythonMetadata } from './python.ts';
import { isSecretScanCandidate, scanSecrets, type SecretMatch } from './secrets.ts';

export { SECRET_RULE_IDS, scanSecrets } from './secrets.ts';

function withLayer(found: FoundPackage, layer: string): InstalledPackage {
  return { ...found, layer };
}

/** npm: installed packages from node_modules; a lock file's production packages only for
 * a project directory with nothing installed under it (see npm.ts). */
export function npmAnalyzer(): Analyzer {
  return {
    name: 'npm',
    wants: (path) => isNpmPackageManifestPath(path) || isNpmLockFilePath(path),
    async finish(files: FinalFiles): Promise<AnalyzerResult> {
      const installed: InstalledPackage[] = [];
      const projectsWithInstalls = new Set<string>();
      const locks: { path: string; content: Buffer; layer: string }[] = [];
      for (const file of files.wantedFiles()) {
        if (file.content === null || file.content.length > MAX_NPM_FILE_BYTES) continue;
        if (isNpmPackageManifestPath(file.path)) {
          const found = parseNpmPackageJson(file.path, file.content);
          if (found === null) continue;
          installed.push(withLayer(found, file.layer.digest));
          projectsWithInstalls.add(npmProjectDir(file.path));
        } else if (isNpmLockFilePath(file.path)) {
          locks.push({ path: file.path, content: file.content, layer: file.layer.digest });
        }
      }
      const declared = locks
        .filter((lock) => !projectsWithInstalls.has(npmProjectDir(lock.path)))
        .flatMap((lock) => lockFilePackages(lock.path, lock.content).map((p) => withLayer(p, lock.layer)));
      return { packages: sortPackages([...installed, ...declared]) };
    },
  };
}

/** Python: dist-info, egg-info and EGG-INFO metadata of the final filesystem. */
export function pythonAnalyzer(): Analyzer {
  return {
    name: 'python',
    wants: isPythonMetadataPath,
    async finish(files: FinalFiles): Promise<AnalyzerResult> {
      const packages: InstalledPackage[] = [];
      for (const file of files.wantedFiles()) {
        if (!isPythonMetadataPath(file.path) || file.content === null || file.content.length > MAX_PYTHON_METADATA_BYTES) continue;
        const found = parsePythonMetadata(file.path, file.content);
        if (found !== null) packages.push(withLayer(found, file.layer.digest));
      }
      return { packages: sortPackages(packages) };
    },
  };
}

/** Java: JAR, WAR and EAR archives of the final filesystem (archives above the walker's
 * content cap come without content and are skipped). */
export function javaAnalyzer(): Analyzer {
  return {
    name: 'java',
    wants: isJavaArchivePath,
    async finish(files: FinalFiles): Promise<AnalyzerResult> {
      const packages: InstalledPackage[] = [];
      for (const file of files.wantedFiles()) {
        if (!isJavaArchivePath(file.path) || file.content === null) continue;
        for (const found of parseJavaArchive(file.path, file.content)) packages.push(withLayer(found, file.layer.digest));
      }
      return { packages: sortPackages(packages) };
    },
  };
}

/** The smallest Go executable (a stripped hello world) is above 1 MiB; below this size a
 * file is not worth reading, which spares the many small C programs and scripts. */
const MIN_GO_BINARY_BYTES = 256 * 1024;

/** Go: build information of executables. An executable cannot be told by its path, so
 * every executable regular file of a plausible size is read as it streams past (the
 * walker buffers it once, up to its content cap) and only the parsed modules are kept;
 * at the end, those whose file is still in the final filesystem are reported. */
export function goBinaryAnalyzer(): Analyzer {
  const seen: { path: string; layerIndex: number; layer: string; packages: FoundPackage[] }[] = [];
  return {
    name: 'go-binary',
    async onEntry(entry: LayerEntry): Promise<void> {
      if (entry.type !== 'file' || (entry.mode & 0o111) === 0 || entry.size < MIN_GO_BINARY_BYTES || entry.size > GO_SCAN_BYTES) return;
      const content = await entry.readContent();
      if (content === null) return;
      const info = parseGoBuildInfo(content);
      if (info === null) return;
      seen.push({ path: entry.path, layerIndex: entry.layer.index, layer: entry.layer.digest, packages: goBinaryPackages(entry.path, info) });
    },
    async finish(files: FinalFiles): Promise<AnalyzerResult> {
      const packages: InstalledPackage[] = [];
      // The state belongs to one walk: emptied so a reused instance starts clean.
      for (const binary of seen.splice(0)) {
        if (files.fateAfter(binary.path, binary.layerIndex) !== null) continue;
        for (const found of binary.packages) packages.push(withLayer(found, binary.layer));
      }
      return { packages: sortPackages(packages) };
    },
  };
}

/** Secrets: every candidate file of every layer; a finding in a file that a later layer
 * deleted or replaced says so (removedInLayer), since its bytes are still pulled. */
export function secretsAnalyzer(): Analyzer {
  const seen: { path: string; layerIndex: number; layer: string; matches: SecretMatch[] }[] = [];
  return {
    name: 'secrets',
    async onEntry(entry: LayerEntry): Promise<void> {
      if (entry.type !== 'file' || !isSecretScanCandidate(entry.path, entry.size)) return;
      const content = await entry.readContent();
      if (content === null) return;
      const matches = scanSecrets(entry.path, content);
      if (matches.length > 0) seen.push({ path: entry.path, layerIndex: entry.layer.index, layer: entry.layer.digest, matches });
    },
    async finish(files: FinalFiles): Promise<AnalyzerResult> {
      const secrets: SecretFinding[] = [];
      for (const file of seen.splice(0)) {
        const fate = files.fateAfter(file.path, file.layerIndex);
        for (const match of file.matches) {
          secrets.push({
            rule: match.rule,
            description: match.description,
            severity: match.severity,
            path: file.path,
            layer: file.layer,
            line: match.line,
            hint: match.hint,
            ...(fate !== null ? { removedInLayer: fate.layer.digest } : {}),
          });
        }
      }
      return { secrets };
    },
  };
}

/** The analyzers of this directory, in the order the indexer should run them. */
export function languageAndSecretAnalyzers(): Analyzer[] {
  return [npmAnalyzer(), pythonAnalyzer(), goBinaryAnalyzer(), javaAnalyzer(), secretsAnalyzer()];
}
