// Migration 4: image indexes, findings, grades and the indexing job queue.
import type { Migration } from '../migrations.ts';

export const IMAGE_QUALITY_MIGRATION: Migration = {
  version: 4,
  description: 'image indexes, grades and indexing jobs',
  statements: [],
};
