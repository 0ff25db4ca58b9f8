// Robots: accounts of a namespace (a user's or an organization's) that push and pull with
// a token; their token is shown once, when made or replaced.
import { ROBOT_SHORT_NAME, robotName } from '../core/identity.ts';
import { generateSecret, hashSecret } from '../auth/secrets.ts';
import type { Caller, ManagementContext } from './management-context.ts';
import { checkDescription, invalid, shown } from './input-checks.ts';
import { robotView, type CreatedRobotView, type RobotView } from './views.ts';

export class RobotService {
  private readonly context: ManagementContext;

  constructor(context: ManagementContext) {
    this.context = context;
  }


  async createRobot(caller: Caller, ownerName: string, input: { name: string; description?: string | null }): Promise<CreatedRobotView> {
    return this.context.change(caller, 'account', { action: 'create', account: `${ownerName}+${input.name}`, accountKind: 'robot' }, async () => {
      const { owner } = await this.context.robotOwner(caller, ownerName);
      if (typeof input.name !== 'string' || !ROBOT_SHORT_NAME.test(input.name)) {
        throw invalid(`invalid robot name "${shown(String(input.name ?? ''))}": a lowercase letter, then lowercase letters, digits or _, at most 64 characters`);
      }
      const description = checkDescription(input.description);
      const robot = await this.context.identity.createAccount({ name: robotName(owner.name, input.name), kind: 'robot', ownerId: owner.id, description });
      const token = generateSecret('robot');
      const credential = await this.context.identity.addCredential({ accountId: robot.id, kind: 'robot', name: 'token', secretHash: hashSecret(token) });
      this.context.record(caller, 'credential', { action: 'create', account: robot.name, credentialKind: 'robot' });
      return { ...robotView(robot, credential), token };
    });
  }

  async listRobots(caller: Caller, ownerName: string): Promise<RobotView[]> {
    const { owner } = await this.context.robotOwner(caller, ownerName);
    const robots = await this.context.identity.listAccounts('robot', owner.id);
    return Promise.all(robots.map(async (robot) => robotView(robot, (await this.context.identity.listCredentials(robot.id, 'robot'))[0])));
  }

  async getRobot(caller: Caller, name: string): Promise<RobotView> {
    const { robot } = await this.context.robot(caller, name);
    return robotView(robot, (await this.context.identity.listCredentials(robot.id, 'robot'))[0]);
  }

  async deleteRobot(caller: Caller, name: string): Promise<void> {
    await this.context.change(caller, 'account', { action: 'delete', account: name, accountKind: 'robot' }, async () => {
      const { robot } = await this.context.robot(caller, name);
      await this.context.identity.deleteAccount(robot.id);
      this.context.authenticator.forget();
    });
  }

  /** Replaces the robot's token: the old one stops working at once. */
  async regenerateRobotToken(caller: Caller, name: string): Promise<CreatedRobotView> {
    return this.context.change(caller, 'credential', { action: 'regenerate', account: name, credentialKind: 'robot' }, async () => {
      const { robot } = await this.context.robot(caller, name);
      await this.context.identity.deleteCredentials(robot.id, 'robot');
      const token = generateSecret('robot');
      const credential = await this.context.identity.addCredential({ accountId: robot.id, kind: 'robot', name: 'token', secretHash: hashSecret(token) });
      this.context.authenticator.forget();
      return { ...robotView(robot, credential), token };
    });
  }
}
