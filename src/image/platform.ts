// Which image of a multi-platform index to use: the platform asked for (overrides), else
// this machine's, named as Go names them (containers/image's rules, so `custody copy`,
// `pull`, `inspect` and `scan` pick what skopeo and podman would).

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The platform to pick from an index: the overrides, else the machine's (Go names). */
export function targetPlatform(overrides: Partial<Platform> = {}): Platform {
  const architecture = overrides.architecture ?? GO_ARCH[process.arch] ?? process.arch;
  const defaultVariant = architecture === 'arm64' ? 'v8' : architecture === 'arm' ? 'v7' : undefined;
  return {
    os: overrides.os ?? (process.platform === 'win32' ? 'windows' : process.platform),
    architecture,
    variant: overrides.variant ?? (overrides.architecture === undefined ? defaultVariant : undefined),
  };
}

/** The index entry for the platform (an exact variant first, then one without a variant). */
export function chooseInstance<Entry extends { readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string } | undefined }>(
  manifests: readonly Entry[],
  platform: Platform,
): Entry {
  const entries = manifests.filter((entry) => entry.platform?.os === platform.os && entry.platform?.architecture === platform.architecture);
  const chosen =
    entries.find((entry) => platform.variant !== undefined && entry.platform?.variant === platform.variant) ??
    entries.find((entry) => entry.platform?.variant === undefined || entry.platform.variant === '') ??
    (platform.variant === undefined ? entries[0] : undefined);
  if (chosen === undefined) {
    throw new Error(`choosing an image from the index: no image found for architecture "${platform.architecture}", variant "${platform.variant ?? ''}", OS "${platform.os}"`);
  }
  return chosen;
}
