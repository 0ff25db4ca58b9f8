// The analyzers every image is indexed with: operating-system package databases (dpkg,
// apk, rpm in its three formats), then language packages (npm, Python, Java, Go) and
// committed secrets. A new analyzer registers here.
import { languageAndSecretAnalyzers } from '../analyzers/index.ts';
import { apkAnalyzer } from '../packages/apk.ts';
import { dpkgAnalyzer } from '../packages/dpkg.ts';
import { rpmAnalyzer } from '../packages/rpm-analyzer.ts';
import type { Analyzer } from './analyzer.ts';

export function defaultAnalyzers(): Analyzer[] {
  return [dpkgAnalyzer(), apkAnalyzer(), rpmAnalyzer, ...languageAndSecretAnalyzers()];
}
