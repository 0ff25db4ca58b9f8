// The management domain's input checks and refusals: what a name, an email, a role or a
// description may be, and the errors it answers with (in the words a user reads).
import { RegistryError } from '../core/errors.ts';
import { ACCOUNT_NAME, MAX_ACCOUNT_NAME_LENGTH, ROLES, TEAM_NAME, TEAM_ROLES, type Role, type TeamRole, type Visibility } from '../core/identity.ts';
import { validateRepositoryName } from '../core/names.ts';
import { passwordProblem } from '../auth/passwords.ts';

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const MAX_EMAIL = 254;
const MAX_DESCRIPTION = 1024;
const MAX_LDAP_GROUP = 1024;

export function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('INVALID_REQUEST', message, detail === undefined ? {} : { detail });
}

export function denied(message: string): RegistryError {
  return new RegistryError('DENIED', message);
}

export function notFound(message: string): RegistryError {
  return new RegistryError('NOT_FOUND', message);
}

// The refusals given whenever the caller may not learn whether the thing exists: the
// same status and message for a missing one and one the caller may not see.
export function noAccessToOrganization(name: string): RegistryError {
  return denied(`no access to organization "${shown(name)}"`);
}

export function noAccessToRobots(name: string): RegistryError {
  return denied(`no access to the robots of "${shown(name)}"`);
}

export function mayNotCreateRepository(name: string): RegistryError {
  return denied(`you may not create repository "${name}"`);
}

export function shown(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

export function checkAccountName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw invalid(`${what} name is required`);
  if (name.length > MAX_ACCOUNT_NAME_LENGTH || !ACCOUNT_NAME.test(name)) {
    throw invalid(`invalid ${what} name "${shown(name)}": lowercase letters and digits, separated by . _ __ or -, at most ${MAX_ACCOUNT_NAME_LENGTH} characters`);
  }
  return name;
}

export function checkEmail(email: unknown): string | null {
  if (email === null || email === undefined || email === '') return null;
  if (typeof email !== 'string' || email.length > MAX_EMAIL || !EMAIL.test(email)) throw invalid('invalid email address');
  return email;
}

export function checkDescription(value: unknown, what = 'description'): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  if (value.length > MAX_DESCRIPTION) throw invalid(`${what} may have at most ${MAX_DESCRIPTION} characters`);
  return value;
}

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string') throw invalid('password must be a string');
  const problem = passwordProblem(password);
  if (problem) throw invalid(problem);
  return password;
}

export function checkRole(role: unknown): Role {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
  return role as Role;
}

export function checkTeamRole(role: unknown): TeamRole {
  if (typeof role !== 'string' || !(TEAM_ROLES as readonly string[]).includes(role)) throw invalid(`team role must be one of ${TEAM_ROLES.join(', ')}`);
  return role as TeamRole;
}

export function checkVisibility(visibility: unknown): Visibility {
  if (visibility !== 'public' && visibility !== 'private') throw invalid('visibility must be public or private');
  return visibility;
}

export function checkRepositoryName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalid('repository name is required');
  try {
    return validateRepositoryName(name);
  } catch (error) {
    throw invalid((error as Error).message);
  }
}

export function checkTeamName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalid('team name is required');
  if (!TEAM_NAME.test(name)) throw invalid(`invalid team name "${shown(name)}": a lowercase letter, then lowercase letters, digits, _ or -, at most 64 characters`);
  return name;
}

export function checkLdapGroup(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string' || value.length > MAX_LDAP_GROUP) throw invalid(`ldapGroup must be a string of at most ${MAX_LDAP_GROUP} characters`);
  return value;
}
