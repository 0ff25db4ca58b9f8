// Lifetimes as people write them for tags and windows: Quay's `quay.expires-after` syntax
// (`1h`, `2d`, `3w`), plus seconds and minutes (`30s`, `5m`) and a bare number of seconds.
// `0s` is a lifetime of nothing (a window that keeps nothing).

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds, or null when `text` is not a lifetime. */
export function parseLifetime(text: string): number | null {
  const match = /^(\d{1,12})\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * UNITS[match[2] || 's']!;
  return Number.isSafeInteger(ms) ? ms : null;
}

/** The shortest exact spelling of a lifetime: `2w`, `36h`, `90s`. */
export function formatLifetime(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    if (ms > 0 && ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** "in 3 days", "in 5 hours", "2 minutes ago": how far `at` is from `now`, roughly. */
export function describeFromNow(at: number, now: number): string {
  const delta = at - now;
  const abs = Math.abs(delta);
  const [amount, unit] =
    abs >= 86_400_000 ? [Math.round(abs / 86_400_000), 'day'] : abs >= 3_600_000 ? [Math.round(abs / 3_600_000), 'hour'] : abs >= 60_000 ? [Math.round(abs / 60_000), 'minute'] : [Math.round(abs / 1000), 'second'];
  const text = `${amount} ${unit}${amount === 1 ? '' : 's'}`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}
