// Normalising publishers' severity words and CVSS scores to the one Severity scale, so
// findings from every source sort and gate the same way; the vendor's word is kept apart.
// CVSS v4.0 scores come from its published scoring algorithm (MacroVector lookup and
// interpolation), computed by ae-cvss-calculator: a maintained implementation made for
// it, which agrees with the reference calculator on every vector of
// test/vectors/cvss-4.0-reference-scores.tsv.
import { createRequire } from 'node:module';

// Loaded on the first CVSS v4 vector: most runs never rate one.
type Calculator = typeof import('ae-cvss-calculator');
let calculator: Calculator | undefined;
const cvssCalculator = (): Calculator => (calculator ??= createRequire(import.meta.url)('ae-cvss-calculator') as Calculator);
import type { Severity } from '../../core/quality.ts';
import { SEVERITIES } from '../../core/quality.ts';

const WORDS: Readonly<Record<string, Severity>> = {
  critical: 'Critical',
  important: 'High',
  high: 'High',
  moderate: 'Medium',
  medium: 'Medium',
  low: 'Low',
  negligible: 'Negligible',
  unimportant: 'Negligible',
};

/** Red Hat, Debian urgency (with its `**` marks), GHSA and Ubuntu words. */
export function severityFromWord(word: string | null | undefined): Severity {
  if (!word) return 'Unknown';
  return WORDS[word.replace(/\*+$/, '').trim().toLowerCase()] ?? 'Unknown';
}

/** CVSS v3/v4 qualitative bands of a base score. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  if (score > 0) return 'Low';
  return 'Negligible';
}

/** The more severe of two (Unknown loses to any known rating). */
export function maxSeverity(a: Severity, b: Severity): Severity {
  if (a === 'Unknown') return b;
  if (b === 'Unknown') return a;
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

const WEIGHTS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};

function roundUp(value: number): number {
  const scaled = Math.round(value * 100000);
  return scaled % 10000 === 0 ? scaled / 100000 : (Math.floor(scaled / 10000) + 1) / 10;
}

/** The CVSS 3.x base score of a vector (`CVSS:3.1/AV:N/AC:L/...`); null if not v3. */
export function cvss3BaseScore(vector: string): number | null {
  if (!/^CVSS:3\.[01]\//.test(vector)) return null;
  const metrics = new Map(vector.split('/').slice(1).map((part) => part.split(':') as [string, string]));
  const scope = metrics.get('S');
  const pr = metrics.get('PR');
  const value = (key: string): number | undefined => WEIGHTS[key]?.[metrics.get(key) ?? ''];
  const [av, ac, ui, c, i, a] = [value('AV'), value('AC'), value('UI'), value('C'), value('I'), value('A')];
  if (av === undefined || ac === undefined || ui === undefined || c === undefined || i === undefined || a === undefined || !pr || !scope) return null;
  const privileges = pr === 'N' ? 0.85 : pr === 'L' ? (scope === 'C' ? 0.68 : 0.62) : pr === 'H' ? (scope === 'C' ? 0.5 : 0.27) : undefined;
  if (privileges === undefined) return null;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * av * ac * privileges * ui;
  if (impact <= 0) return 0;
  return scope === 'U' ? roundUp(Math.min(impact + exploitability, 10)) : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

const CVSS4_BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];

/**
 * The CVSS 4.0 score of a vector (`CVSS:4.0/AV:N/AC:L/...`): base metrics, with threat
 * and environmental ones where the vector has them (CVSS-B, -BT, -BE, -BTE); null when
 * it is not a complete v4.0 vector.
 */
export function cvss4Score(vector: string): number | null {
  const known = scored.get(vector);
  if (known !== undefined) return known;
  const score = computeCvss4(vector);
  // Feeds repeat the same few thousand vectors; the scoring takes a fraction of a
  // millisecond each, which adds up over a million records. Bounded, so memory is too.
  if (scored.size >= SCORED_LIMIT) scored.clear();
  scored.set(vector, score);
  return score;
}

const SCORED_LIMIT = 20_000;
const scored = new Map<string, number | null>();

function computeCvss4(vector: string): number | null {
  if (!/^CVSS:4\.0\/[A-Za-z:/]+$/.test(vector)) return null;
  const metrics = new Set(vector.split('/').slice(1).map((part) => part.split(':')[0]));
  if (!CVSS4_BASE.every((metric) => metrics.has(metric))) return null;
  try {
    const parsed = new (cvssCalculator().Cvss4P0)(vector);
    if (!parsed.isBaseFullyDefined()) return null;
    const score = parsed.calculateScores().overall;
    return Number.isFinite(score) ? score : null;
  } catch {
    return null; // a value the specification does not define
  }
}

/** The score of a CVSS v3.x or v4.0 vector, or null. */
export function cvssScore(vector: string): number | null {
  return cvss3BaseScore(vector) ?? cvss4Score(vector);
}
