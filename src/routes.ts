import type { Router } from 'express';
import type { PluginContext } from './context';
import { createBatchRouter } from './batch/batch.router';
import { createDeploymentRouter } from './deployments/deployment.router';
import { createDoraRouter } from './dora/dora.router';
import { createIssueRouter } from './issues/issue.router';
import { createPullRequestRouter } from './pull-requests/pull-request.router';
import { createSourceRouter } from './sources/source.router';

/**
 * The ingestion routers of each resource, relative to a connection's prefix
 * (`/:connectionId`, `/connections/:connectionId`, `/connections/by-name/:connectionName`).
 * Each resource folder adds its factory here.
 */
export const ingestionRouters: ((context: PluginContext) => Router)[] = [
  createIssueRouter,
  createDeploymentRouter,
  createPullRequestRouter,
  createDoraRouter,
  (context) =>
    createSourceRouter({
      deployments: context.services.deployments,
      issues: context.services.issues,
      pullRequests: context.services.pullRequests,
      settings: context.services.sources,
      dataSource: context.options.dataSource,
      guards: context.guards,
      readBody: context.readBody,
      resolveConnection: context.resolveConnection,
      bodyLimitBytes: context.options.bodyLimitBytes,
    }),
  createBatchRouter,
];
