// What an image says about itself, read from its manifest and configuration: platforms,
// labels, env, entrypoint, ports, history, and the Containerfile the history implies.
// Pure functions over parsed JSON; every string in here came from the image's author.
import type { DescriptorJson, ImageConfigJson, ManifestJson } from '../core/manifest-reader.ts';

export interface HistoryStep {
  readonly createdBy: string;
  readonly created: string | null;
  readonly emptyLayer: boolean;
  readonly comment: string | null;
}

export interface ImageFacts {
  readonly created: string | null;
  readonly os: string | null;
  readonly architecture: string | null;
  readonly variant: string | null;
  readonly author: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: readonly string[];
  readonly entrypoint: readonly string[] | null;
  readonly cmd: readonly string[] | null;
  readonly user: string | null;
  readonly workingDir: string | null;
  readonly exposedPorts: readonly string[];
  readonly history: readonly HistoryStep[];
}

function strings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export function imageFacts(config: ImageConfigJson): ImageFacts {
  const inner = (config.config ?? {}) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  const rawLabels = inner['Labels'];
  if (rawLabels && typeof rawLabels === 'object') for (const [key, value] of Object.entries(rawLabels)) if (typeof value === 'string') labels[key] = value;
  const ports = inner['ExposedPorts'] && typeof inner['ExposedPorts'] === 'object' ? Object.keys(inner['ExposedPorts'] as object) : [];
  const history = Array.isArray(config['history']) ? (config['history'] as unknown[]) : [];
  return {
    created: text(config.created),
    os: text(config.os),
    architecture: text(config.architecture),
    variant: text(config.variant),
    author: text(config.author),
    labels,
    env: strings(inner['Env']) ?? [],
    entrypoint: strings(inner['Entrypoint']),
    cmd: strings(inner['Cmd']),
    user: text(inner['User']),
    workingDir: text(inner['WorkingDir']),
    exposedPorts: ports,
    history: history.filter((step): step is Record<string, unknown> => typeof step === 'object' && step !== null).map((step) => ({
      createdBy: typeof step['created_by'] === 'string' ? step['created_by'] : '',
      created: text(step['created']),
      emptyLayer: step['empty_layer'] === true,
      comment: text(step['comment']),
    })),
  };
}

/** One history step as a Containerfile instruction (Docker and buildah spellings). */
export function instructionOf(createdBy: string): string {
  let line = createdBy.trim();
  const nop = /^\/bin\/sh -c #\(nop\)\s*/.exec(line);
  if (nop) return line.slice(nop[0].length).trim();
  // buildah/BuildKit RUN with build args: "|2 A=1 B=2 /bin/sh -c cmd"
  line = line.replace(/^\|\d+ (?:\S+=\S*\s+)*/, '');
  const shell = /^\/bin\/sh -c\s+/.exec(line);
  if (shell) return `RUN ${line.slice(shell[0].length)}`;
  // BuildKit writes instructions with a trailing "# buildkit" comment.
  line = line.replace(/\s+# buildkit$/, '');
  if (/^(RUN|COPY|ADD|ENV|LABEL|CMD|ENTRYPOINT|EXPOSE|WORKDIR|USER|ARG|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL|ONBUILD|FROM)\b/i.test(line)) return line;
  return line === '' ? '# (no instruction recorded)' : `# ${line}`;
}

/** The Containerfile the history implies, one instruction per step. */
export function reconstructContainerfile(facts: ImageFacts): string {
  if (facts.history.length === 0) return '# This image records no build history.';
  return facts.history.map((step) => instructionOf(step.createdBy)).join('\n');
}

/** The layers with the history step that made each (history entries with empty_layer make none). */
export function layersWithSteps(manifest: ManifestJson, facts: ImageFacts): { descriptor: DescriptorJson; step: string | null }[] {
  const layers = manifest.layers ?? [];
  const steps = facts.history.filter((step) => !step.emptyLayer);
  // Histories that do not line up with the layers (squashed, hand-made) name no step.
  const aligned = steps.length === layers.length;
  return layers.map((descriptor, index) => ({ descriptor, step: aligned ? instructionOf(steps[index]!.createdBy) : null }));
}

/** "linux/amd64", "linux/arm64/v8". */
export function platformName(platform: { os?: string | null | undefined; architecture?: string | null | undefined; variant?: string | null | undefined }): string {
  return [platform.os ?? 'unknown', platform.architecture ?? 'unknown', ...(platform.variant ? [platform.variant] : [])].join('/');
}

/** The vendor and source an image claims (labels and annotations), whoever signed it. */
export function claimedOrigin(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>): { vendor: string | null; source: string | null; title: string | null; description: string | null } {
  const pick = (...keys: string[]): string | null => {
    for (const key of keys) {
      const value = annotations[key] ?? labels[key];
      if (value !== undefined && value !== '') return value;
    }
    return null;
  };
  return {
    vendor: pick('org.opencontainers.image.vendor', 'vendor'),
    source: pick('org.opencontainers.image.source', 'org.opencontainers.image.url', 'url'),
    title: pick('org.opencontainers.image.title', 'name'),
    description: pick('org.opencontainers.image.description', 'description', 'summary'),
  };
}
