// The management domain: users, organizations, teams, robots, repositories, permissions,
// personal access tokens and login sessions. Every operation takes the calling principal,
// validates its input, authorises, acts through the IdentityStore and records an action
// entry. One service per resource does that work (user-service.ts, organization-service.ts,
// team-service.ts, robot-service.ts, repository-service.ts, permission-service.ts,
// personal-token-service.ts, session-service.ts) on a shared ManagementContext (who the
// caller is and may manage, the action log); this façade is what the route table
// (routes.ts) calls, one method per operation. The HTTP layer (src/server/management-api.ts)
// only parses requests and serialises the results.
import { ManagementContext, type ManagementServiceOptions } from './management-context.ts';
import { UserService } from './user-service.ts';
import { OrganizationService } from './organization-service.ts';
import { TeamService } from './team-service.ts';
import { RobotService } from './robot-service.ts';
import { RepositoryService } from './repository-service.ts';
import { PermissionService } from './permission-service.ts';
import { PersonalTokenService } from './personal-token-service.ts';
import { SessionService } from './session-service.ts';
import { WebhookService } from './webhook-service.ts';
import { LifecycleService, lifecycleUnavailable } from './lifecycle-service.ts';
import type { Lifecycle } from '../lifecycle/install-lifecycle.ts';
import { MirrorManagementService } from './mirror-management.ts';

export type { Caller, ManagementServiceOptions } from './management-context.ts';
export type { NewUserInput, UserChangesInput } from './user-service.ts';
export type { NewTeamInput } from './team-service.ts';
export type { NewRepositoryInput } from './repository-service.ts';
export type { GranteeInput } from './permission-service.ts';

export class ManagementService {
  readonly users: UserService;
  readonly organizations: OrganizationService;
  readonly teams: TeamService;
  readonly robots: RobotService;
  readonly repositories: RepositoryService;
  readonly permissions: PermissionService;
  readonly tokens: PersonalTokenService;
  /** Login sessions (refresh tokens): listed and revoked by their users and administrators. */
  readonly sessions: SessionService;
  /** Webhooks of repositories and namespaces, their delivery logs and test events. */
  readonly webhooks: WebhookService;
  private readonly context: ManagementContext;
  private lifecycleService: LifecycleService | null = null;
  /** Repository mirrors (superusers). */
  readonly mirrors: MirrorManagementService;

  constructor(options: ManagementServiceOptions) {
    const context = new ManagementContext(options);
    this.context = context;
    this.users = new UserService(context);
    this.organizations = new OrganizationService(context);
    this.teams = new TeamService(context);
    this.robots = new RobotService(context);
    this.repositories = new RepositoryService(context);
    this.permissions = new PermissionService(context);
    this.tokens = new PersonalTokenService(context);
    this.sessions = new SessionService(context);
    this.webhooks = new WebhookService(context, options.webhooks);
    this.mirrors = new MirrorManagementService(context, options.mirrors);
  }

  /** Turns on the lifecycle operations (the composition root calls it once lifecycle is installed). */
  useLifecycle(lifecycle: Lifecycle): void {
    this.lifecycleService = new LifecycleService(this.context, lifecycle);
  }

  /** Immutability, time machine, expiry, quotas: UNSUPPORTED until useLifecycle. */
  get lifecycle(): LifecycleService {
    if (!this.lifecycleService) throw lifecycleUnavailable();
    return this.lifecycleService;
  }

  // ---- users
  whoami(...args: Parameters<UserService['whoami']>) {
    return this.users.whoami(...args);
  }
  createUser(...args: Parameters<UserService['createUser']>) {
    return this.users.createUser(...args);
  }
  getUser(...args: Parameters<UserService['getUser']>) {
    return this.users.getUser(...args);
  }
  listUsers(...args: Parameters<UserService['listUsers']>) {
    return this.users.listUsers(...args);
  }
  updateUser(...args: Parameters<UserService['updateUser']>) {
    return this.users.updateUser(...args);
  }
  deleteUser(...args: Parameters<UserService['deleteUser']>) {
    return this.users.deleteUser(...args);
  }

  // ---- organizations
  createOrganization(...args: Parameters<OrganizationService['createOrganization']>) {
    return this.organizations.createOrganization(...args);
  }
  getOrganization(...args: Parameters<OrganizationService['getOrganization']>) {
    return this.organizations.getOrganization(...args);
  }
  listOrganizations(...args: Parameters<OrganizationService['listOrganizations']>) {
    return this.organizations.listOrganizations(...args);
  }
  updateOrganization(...args: Parameters<OrganizationService['updateOrganization']>) {
    return this.organizations.updateOrganization(...args);
  }
  deleteOrganization(...args: Parameters<OrganizationService['deleteOrganization']>) {
    return this.organizations.deleteOrganization(...args);
  }

  // ---- teams and their members
  createTeam(...args: Parameters<TeamService['createTeam']>) {
    return this.teams.createTeam(...args);
  }
  listTeams(...args: Parameters<TeamService['listTeams']>) {
    return this.teams.listTeams(...args);
  }
  getTeam(...args: Parameters<TeamService['getTeam']>) {
    return this.teams.getTeam(...args);
  }
  updateTeam(...args: Parameters<TeamService['updateTeam']>) {
    return this.teams.updateTeam(...args);
  }
  deleteTeam(...args: Parameters<TeamService['deleteTeam']>) {
    return this.teams.deleteTeam(...args);
  }
  listTeamMembers(...args: Parameters<TeamService['listTeamMembers']>) {
    return this.teams.listTeamMembers(...args);
  }
  addTeamMember(...args: Parameters<TeamService['addTeamMember']>) {
    return this.teams.addTeamMember(...args);
  }
  removeTeamMember(...args: Parameters<TeamService['removeTeamMember']>) {
    return this.teams.removeTeamMember(...args);
  }

  // ---- robots
  createRobot(...args: Parameters<RobotService['createRobot']>) {
    return this.robots.createRobot(...args);
  }
  listRobots(...args: Parameters<RobotService['listRobots']>) {
    return this.robots.listRobots(...args);
  }
  getRobot(...args: Parameters<RobotService['getRobot']>) {
    return this.robots.getRobot(...args);
  }
  deleteRobot(...args: Parameters<RobotService['deleteRobot']>) {
    return this.robots.deleteRobot(...args);
  }
  regenerateRobotToken(...args: Parameters<RobotService['regenerateRobotToken']>) {
    return this.robots.regenerateRobotToken(...args);
  }

  // ---- repositories
  createRepository(...args: Parameters<RepositoryService['createRepository']>) {
    return this.repositories.createRepository(...args);
  }
  getRepository(...args: Parameters<RepositoryService['getRepository']>) {
    return this.repositories.getRepository(...args);
  }
  listRepositories(...args: Parameters<RepositoryService['listRepositories']>) {
    return this.repositories.listRepositories(...args);
  }
  updateRepository(...args: Parameters<RepositoryService['updateRepository']>) {
    return this.repositories.updateRepository(...args);
  }

  // ---- permissions and organization defaults
  listPermissions(...args: Parameters<PermissionService['listPermissions']>) {
    return this.permissions.listPermissions(...args);
  }
  setPermission(...args: Parameters<PermissionService['setPermission']>) {
    return this.permissions.setPermission(...args);
  }
  deletePermission(...args: Parameters<PermissionService['deletePermission']>) {
    return this.permissions.deletePermission(...args);
  }
  repositoryAccess(...args: Parameters<PermissionService['repositoryAccess']>) {
    return this.permissions.repositoryAccess(...args);
  }
  listDefaultPermissions(...args: Parameters<PermissionService['listDefaultPermissions']>) {
    return this.permissions.listDefaultPermissions(...args);
  }
  setDefaultPermission(...args: Parameters<PermissionService['setDefaultPermission']>) {
    return this.permissions.setDefaultPermission(...args);
  }
  deleteDefaultPermission(...args: Parameters<PermissionService['deleteDefaultPermission']>) {
    return this.permissions.deleteDefaultPermission(...args);
  }

  // ---- personal access tokens
  createToken(...args: Parameters<PersonalTokenService['createToken']>) {
    return this.tokens.createToken(...args);
  }
  listTokens(...args: Parameters<PersonalTokenService['listTokens']>) {
    return this.tokens.listTokens(...args);
  }
  revokeToken(...args: Parameters<PersonalTokenService['revokeToken']>) {
    return this.tokens.revokeToken(...args);
  }
}
