// The match phase: the advisory database's bulk lookup that the matcher makes per image,
// 1,000 package names against one million affected records in SQLite (target < 1 s).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateAdvisoryDatabase, timeAffectedLookup, timeFullMatch } from '../lib/match-db.ts';
import { SqliteClient } from '../../src/metadata/sqlite-client.ts';
import { median } from '../lib/stats.ts';
import { rows, raw, log, problem } from '../lib/measure.ts';

const MATCH_RECORDS = { default: 1_000_000, quick: 100_000 } as const;
const MATCH_PACKAGES = 1000;
const MATCH_TARGET_SECONDS = 1;

export async function matchPhase(quick: boolean, rounds: number, parent: string): Promise<void> {
  const work = join(parent, 'match');
  mkdirSync(work, { recursive: true });
  const records = quick ? MATCH_RECORDS.quick : MATCH_RECORDS.default;
  const sql = new SqliteClient(join(work, 'vulndb.sqlite'));
  try {
    log(`generating an advisory database of ${records} affected records (not timed)`);
    const started = performance.now();
    const database = await generateAdvisoryDatabase(sql, records);
    log(`generated ${database.records} records (${database.advisories} advisories) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await timeAffectedLookup(database, MATCH_PACKAGES); // warm the page cache and statements
    const seconds: number[] = [];
    let hits = 0;
    for (let round = 0; round < Math.max(rounds, 3); round++) {
      const timing = await timeAffectedLookup(database, MATCH_PACKAGES);
      seconds.push(timing.seconds);
      hits = timing.hits;
    }
    const value = median(seconds);
    const pass = value < MATCH_TARGET_SECONDS;
    rows.push({
      section: 'advisory matching (SQLite)',
      metric: `lookup of ${MATCH_PACKAGES} package names against ${database.records} affected records (${hits} hits)`,
      unit: 'ms',
      distribution: [],
      custody: [value * 1000],
      higherIsBetter: null,
      note: `target < ${MATCH_TARGET_SECONDS * 1000} ms: ${pass ? 'PASS' : 'FAIL'}`,
    });
    // The whole match: lookup plus every version decision, as a push or `custody scan` does.
    await timeFullMatch(database, MATCH_PACKAGES);
    const full: number[] = [];
    let findings = 0;
    for (let round = 0; round < Math.max(rounds, 3); round++) {
      const timing = await timeFullMatch(database, MATCH_PACKAGES);
      full.push(timing.seconds);
      findings = timing.findings;
    }
    const fullValue = median(full);
    const fullPass = fullValue < MATCH_TARGET_SECONDS;
    rows.push({
      section: 'advisory matching (SQLite)',
      metric: `full match of an image of ${MATCH_PACKAGES} packages against ${database.records} affected records (${findings} findings)`,
      unit: 'ms',
      distribution: [],
      custody: [fullValue * 1000],
      higherIsBetter: null,
      note: `target < ${MATCH_TARGET_SECONDS * 1000} ms: ${fullPass ? 'PASS' : 'FAIL'}`,
    });
    if (!fullPass) problem(`matching an image of ${MATCH_PACKAGES} packages took ${fullValue.toFixed(2)} s, over the ${MATCH_TARGET_SECONDS} s target`);
    raw.match = { records: database.records, advisories: database.advisories, packages: MATCH_PACKAGES, hits, seconds, pass, full, fullPass, findings };
    log(`lookup of ${MATCH_PACKAGES} packages: ${(value * 1000).toFixed(1)} ms (${hits} hits)`);
    if (!pass) problem(`the advisory lookup of ${MATCH_PACKAGES} packages took ${value.toFixed(2)} s, over the ${MATCH_TARGET_SECONDS} s target`);
  } finally {
    await sql.close();
    rmSync(work, { recursive: true, force: true });
  }
}
