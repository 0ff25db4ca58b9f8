// Migration 7: every namespace that holds repositories gets an account. Before it, roles
// followed a repository's namespace to whichever account bore its name, so repositories
// pushed into a namespace without an account (by a superuser, or with authentication
// off) went to whoever created that account next. On upgrade each such namespace becomes
// an organization owned by the first superuser (namespace-ownership.ts says which), who
// may hand it over by adding owners or delete it with its repositories.
import type { Migration } from '../migrations.ts';
import { adoptUnownedNamespaces } from '../namespace-ownership.ts';

export const NAMESPACE_OWNERS_MIGRATION: Migration = {
  version: 8,
  description: 'organizations for namespaces that hold repositories without an account',
  statements: [],
  data: async (tx) => {
    await adoptUnownedNamespaces(tx, Date.now());
  },
};
