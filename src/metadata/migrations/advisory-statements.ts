// Migration 7: what a vendor says of a vulnerability it does not fix (CSAF VEX). Each
// affected row without a fix may carry the vendor's fix state (affected, fix deferred,
// will not fix, out of support scope) and its own words for it; an advisory may carry the
// vendor's statement on the vulnerability. Nullable columns: existing rows need nothing.
import type { Migration } from '../migrations.ts';

export const ADVISORY_STATEMENTS_MIGRATION: Migration = {
  version: 9,
  description: 'advisory statements and fix states',
  statements: [
    `ALTER TABLE vulndb_affected ADD COLUMN fix_state TEXT`,
    `ALTER TABLE vulndb_affected ADD COLUMN fix_statement TEXT`,
    `ALTER TABLE vulndb_advisories ADD COLUMN statement TEXT`,
  ],
};
