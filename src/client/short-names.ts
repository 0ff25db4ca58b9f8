// Short-name resolution as podman/skopeo do it (containers-registries.conf(5),
// "SHORT-NAME ALIASING"): fully-qualified names are used as they are; a short name is
// looked up in the aliases (the short-name-aliases.conf cache first, then [aliases] of
// registries.conf); otherwise it is combined with each unqualified-search registry, and the
// short-name-mode decides whether those candidates are tried in order, offered to the user
// at a terminal, or refused as ambiguous. Never a silent guess in enforcing mode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { UsageError } from '../core/errors.ts';
import { isShortName, parseReference, parseShortName, type ImageReference } from './reference.ts';
import type { RegistriesConf } from './config/registries-conf.ts';

export type ResolutionRationale = 'fully-qualified' | 'alias' | 'search' | 'prompt';

export interface ShortNameResolution {
  /** References to try, in order; pull the first that exists. */
  readonly candidates: readonly ImageReference[];
  readonly rationale: ResolutionRationale;
  /** The file that supplied the alias or the search registries. */
  readonly origin: string | undefined;
  /** True when the user picked the candidate: a caller may record it as an alias. */
  readonly selectedByUser: boolean;
}

export interface ResolveShortNameOptions {
  readonly conf: RegistriesConf;
  /** Whether stdin and stdout are both terminals. */
  readonly isTTY: boolean;
  /** Asks the user to pick one candidate; only called when isTTY is true. */
  readonly prompt?: (shortName: string, candidates: readonly ImageReference[]) => Promise<ImageReference>;
  /** short-name-aliases.conf to consult (read-only); see defaultAliasCacheFile. */
  readonly aliasCacheFile?: string;
}

/** A short name that cannot be resolved without the user's choice, or at all. */
export class ShortNameError extends UsageError {
  readonly candidates: readonly string[];
  constructor(message: string, candidates: readonly string[] = []) {
    super(message);
    this.name = 'ShortNameError';
    this.candidates = candidates;
  }
}

/** ~/.cache/containers/short-name-aliases.conf for rootless use ($XDG_CACHE_HOME honoured). */
export function defaultAliasCacheFile(env: Readonly<Record<string, string | undefined>>, homeDir?: string): string | undefined {
  const cacheHome = env.XDG_CACHE_HOME || (homeDir ?? env.HOME ? join((homeDir ?? env.HOME)!, '.cache') : undefined);
  return cacheHome === undefined ? undefined : join(cacheHome, 'containers', 'short-name-aliases.conf');
}

/** Reads the [aliases] of a short-name-aliases.conf; a missing file has none. */
export function readAliasCache(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new UsageError(`${path}: cannot read: ${(error as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const aliases = new Map<string, string>();
  const table = doc.aliases;
  if (table === undefined) return aliases;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new UsageError(`${path}: [aliases] must be a table`);
  for (const [name, value] of Object.entries(table)) {
    if (typeof value !== 'string') throw new UsageError(`${path}: alias "${name}": value must be a string`);
    if (value !== '') aliases.set(name, value);
  }
  return aliases;
}

export async function resolveShortName(input: string, options: ResolveShortNameOptions): Promise<ShortNameResolution> {
  if (!isShortName(input)) {
    return { candidates: [parseReference(input)], rationale: 'fully-qualified', origin: undefined, selectedByUser: false };
  }
  const short = parseShortName(input);
  const complete = (name: string): ImageReference => {
    const tag = short.tag ?? (short.digest === undefined ? 'latest' : undefined);
    return parseReference(`${name}${tag === undefined ? '' : `:${tag}`}${short.digest === undefined ? '' : `@${short.digest}`}`);
  };

  if (options.aliasCacheFile !== undefined) {
    const cached = readAliasCache(options.aliasCacheFile).get(short.repository);
    if (cached !== undefined) {
      return { candidates: [completeAlias(cached, options.aliasCacheFile, complete)], rationale: 'alias', origin: options.aliasCacheFile, selectedByUser: false };
    }
  }
  const alias = options.conf.aliases.get(short.repository);
  if (alias !== undefined) {
    return { candidates: [completeAlias(alias.value, alias.origin, complete)], rationale: 'alias', origin: alias.origin, selectedByUser: false };
  }

  const { conf } = options;
  const origin = conf.unqualifiedSearchRegistriesOrigin;
  if (conf.unqualifiedSearchRegistries.length === 0) {
    const where = conf.files.length === 0 ? 'no registries.conf was found' : `none are defined in ${conf.files.join(', ')}`;
    throw new ShortNameError(`short name "${input}" did not resolve to an alias and no unqualified-search-registries are configured (${where})`);
  }
  const candidates = conf.unqualifiedSearchRegistries.map((registry) => complete(`${registry}/${short.repository}`));
  const result = (list: readonly ImageReference[], rationale: ResolutionRationale, selectedByUser = false): ShortNameResolution => ({
    candidates: list,
    rationale,
    origin,
    selectedByUser,
  });
  if (conf.shortNameMode === 'disabled' || candidates.length === 1) return result(candidates, 'search');
  if (options.isTTY && options.prompt !== undefined) {
    const chosen = await options.prompt(input, candidates);
    const match = candidates.find((candidate) => candidate.toString() === chosen.toString());
    if (match === undefined) throw new ShortNameError(`"${chosen.toString()}" is not one of the candidates for short name "${input}"`);
    return result([match], 'prompt', true);
  }
  if (conf.shortNameMode === 'permissive') return result(candidates, 'search');
  const names = candidates.map((candidate) => candidate.toString());
  const modeOrigin = conf.shortNameModeOrigin === undefined ? '' : ` (set in ${conf.shortNameModeOrigin})`;
  const why = options.isTTY ? 'no prompt is available' : 'there is no terminal to ask on';
  throw new ShortNameError(
    `short name "${input}" is ambiguous: short-name-mode is "enforcing"${modeOrigin} and ${why}; candidates: ${names.join(', ')}; use a fully-qualified name or add an [aliases] entry`,
    names,
  );
}

function completeAlias(value: string, origin: string, complete: (name: string) => ImageReference): ImageReference {
  try {
    return complete(value);
  } catch (error) {
    throw new UsageError(`${origin}: alias value "${value}": ${(error as Error).message}`);
  }
}
