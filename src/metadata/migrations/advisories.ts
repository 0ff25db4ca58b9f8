// Migration 3: the advisory database (owned by the advisory importers).
import type { Migration } from '../migrations.ts';

export const ADVISORIES_MIGRATION: Migration = {
  version: 3,
  description: 'advisory database',
  statements: [],
};
