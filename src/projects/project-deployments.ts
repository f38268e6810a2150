import type { ConnectionService } from '../connections/connection.service';
import { MAX_CONNECTION_NAME } from '../connections/connection.service';
import type { WebhookConnection } from '../connections/connection.entity';
import { ConflictError, InputError, NotFoundError } from '../http/errors';
import type { ProjectService } from './project.service';

/** DevLake's name for the connection a project's deployments go to. */
export function projectDeploymentsConnectionName(projectName: string): string {
  return `${projectName}_deployments`;
}

/**
 * The connection behind `POST /projects/:projectName/deployments`, as DevLake finds it: the
 * connection named `<projectName>_deployments` linked to the project, created and linked on the
 * first deployment. The project must exist (404 otherwise), as in DevLake. A connection of that
 * name linked elsewhere is a 409: posting would silently move it to this project.
 */
export async function projectDeploymentsConnection(
  services: { connections: ConnectionService; projects: ProjectService },
  projectName: string,
): Promise<WebhookConnection> {
  const name = projectDeploymentsConnectionName(projectName);
  if (projectName.length < 1 || name.length > MAX_CONNECTION_NAME) {
    const most = MAX_CONNECTION_NAME - projectDeploymentsConnectionName('').length;
    throw new InputError(`projectName must be 1 to ${most} characters`, [
      {
        field: 'projectName',
        message: `must be 1 to ${most} characters (the connection is named <projectName>_deployments)`,
      },
    ]);
  }
  if (!(await services.projects.exists(projectName))) throw new NotFoundError(`project not found: ${projectName}`);

  let connection = await services.connections.find({ name });
  if (!connection) {
    try {
      connection = (await services.connections.create(name)).connection;
    } catch (error) {
      // Two first deployments at once: the other request created it.
      if (!(error instanceof ConflictError)) throw error;
      connection = await services.connections.get({ name });
    }
  }
  const linked = await services.projects.projectOf(connection.id);
  if (linked === null) await services.projects.link(connection, projectName);
  else if (linked !== projectName) {
    throw new ConflictError(`the connection "${name}" is linked to the project "${linked}"`, [
      { field: 'projectName', message: `the connection "${name}" belongs to another project` },
    ]);
  }
  return connection;
}
