import { environmentOf, header, ignored, obj, str, defined, type SourceAction, type SourceTranslator } from '../source';
import type { SourceSettings } from '../source-settings.service';

/** GitHub's deployment states that are final; the others are not counted until one arrives. */
const DEPLOYMENT_RESULTS: Record<string, string> = { success: 'SUCCESS', failure: 'FAILURE', error: 'FAILURE' };

/** Workflow run conclusions; `skipped`, `neutral`, `stale` and `action_required` deploy nothing. */
const RUN_RESULTS: Record<string, string> = {
  success: 'SUCCESS',
  failure: 'FAILURE',
  timed_out: 'FAILURE',
  startup_failure: 'FAILURE',
  cancelled: 'ABORT',
};

function deploymentStatus(body: Record<string, unknown>, settings: SourceSettings): SourceAction {
  const status = obj(body.deployment_status);
  const deployment = obj(body.deployment);
  const repository = obj(body.repository);
  const state = str(status.state) ?? '';
  const result = DEPLOYMENT_RESULTS[state];
  if (!result) return ignored(`deployment status "${state}" is not final: not counted until success, failure or error`);
  const environment = str(status.environment) ?? str(deployment.environment);
  return {
    kind: 'deployment',
    body: defined({
      id: `github:deployment:${str(deployment.id) ?? ''}`,
      displayTitle:
        str(deployment.description) ?? `${str(repository.full_name) ?? ''} ${str(deployment.ref) ?? ''}`.trim(),
      name: str(deployment.task),
      result,
      environment: environmentOf(environment, settings),
      originalEnvironment: environment,
      url: str(status.target_url) || str(status.log_url) || str(deployment.url),
      createdDate: str(deployment.created_at),
      startedDate: str(deployment.created_at),
      finishedDate: str(status.updated_at) ?? str(status.created_at),
      deploymentCommits: [
        defined({
          repoUrl: str(repository.html_url),
          repoId: str(repository.full_name),
          commitSha: str(deployment.sha),
          refName: str(deployment.ref),
        }),
      ],
    }),
  };
}

function workflowRun(body: Record<string, unknown>, settings: SourceSettings): SourceAction {
  const run = obj(body.workflow_run);
  const repository = obj(body.repository);
  const name = str(run.name) ?? '';
  const path = str(run.path) ?? '';
  if (!settings.workflows.some((wanted) => wanted === name || wanted === path)) {
    return ignored(`workflow "${name}" is not one this connection counts as a deployment (setting "workflows")`);
  }
  if (str(body.action) !== 'completed')
    return ignored(`workflow run "${str(body.action) ?? ''}": only completed runs count`);
  const conclusion = str(run.conclusion) ?? '';
  const result = RUN_RESULTS[conclusion];
  if (!result) return ignored(`workflow run concluded "${conclusion}": not a deployment`);
  return {
    kind: 'deployment',
    body: defined({
      id: `github:workflow_run:${str(run.id) ?? ''}`,
      displayTitle: str(run.display_title) ?? name,
      name,
      result,
      // A workflow the connection names deploys to production.
      environment: 'PRODUCTION',
      originalEnvironment: name,
      url: str(run.html_url),
      createdDate: str(run.created_at),
      startedDate: str(run.run_started_at) ?? str(run.created_at),
      finishedDate: str(run.updated_at),
      deploymentCommits: [
        defined({
          repoUrl: str(repository.html_url),
          repoId: str(repository.full_name),
          commitSha: str(run.head_sha),
          refName: str(run.head_branch),
          commitMsg: str(obj(run.head_commit).message),
        }),
      ],
    }),
  };
}

function pullRequest(body: Record<string, unknown>): SourceAction {
  const pr = obj(body.pull_request);
  const base = obj(pr.base);
  const head = obj(pr.head);
  const merged = pr.merged === true || Boolean(str(pr.merged_at));
  const state = str(pr.state) ?? 'open';
  return {
    kind: 'pull-request',
    changedAt: str(pr.updated_at),
    body: defined({
      // GitHub's global id: numbers repeat across the repositories posting to one connection.
      id: str(pr.node_id) ?? str(pr.id),
      pullRequestKey: pr.id,
      displayTitle: str(pr.title),
      description: str(pr.body),
      url: str(pr.html_url),
      status: merged ? 'MERGED' : state === 'closed' ? 'CLOSED' : 'OPEN',
      originalStatus: merged ? 'merged' : state,
      authorName: str(obj(pr.user).login),
      authorId: str(obj(pr.user).id),
      mergedByName: str(obj(pr.merged_by).login),
      mergedById: str(obj(pr.merged_by).id),
      createdDate: str(pr.created_at),
      mergedDate: str(pr.merged_at),
      closedDate: str(pr.closed_at),
      mergeCommitSha: merged ? str(pr.merge_commit_sha) : undefined,
      baseRef: str(base.ref),
      baseCommitSha: str(base.sha),
      headRef: str(head.ref),
      headCommitSha: str(head.sha),
      headRepoId: str(obj(head.repo).full_name),
      component: str(obj(base.repo).full_name),
      additions: pr.additions,
      deletions: pr.deletions,
      isDraft: pr.draft,
    }),
  };
}

function issue(body: Record<string, unknown>, settings: SourceSettings): SourceAction {
  const action = str(body.action) ?? '';
  const item = obj(body.issue);
  const repository = obj(body.repository);
  const labels = Array.isArray(item.labels) ? item.labels.map((label) => str(obj(label).name)) : [];
  const wanted = settings.incidentLabel.toLowerCase();
  if (!labels.some((label) => label?.toLowerCase() === wanted)) {
    return ignored(`issue without the incident label "${settings.incidentLabel}": ignored`);
  }
  if (action === 'deleted' || action === 'transferred') return ignored(`issue ${action}: ignored`);
  const closed = str(item.state) === 'closed';
  return {
    kind: 'issue',
    changedAt: str(item.updated_at),
    body: defined({
      issueKey: `${str(repository.full_name) ?? ''}#${str(item.number) ?? ''}`,
      title: str(item.title),
      description: str(item.body),
      url: str(item.html_url),
      type: 'INCIDENT',
      status: closed ? 'DONE' : 'TODO',
      originalStatus: str(item.state),
      createdDate: str(item.created_at),
      updatedDate: str(item.updated_at),
      resolutionDate: closed ? str(item.closed_at) : undefined,
      boardKey: str(repository.full_name),
      creatorId: str(obj(item.user).id),
      creatorName: str(obj(item.user).login),
      assigneeId: str(obj(item.assignee).id),
      assigneeName: str(obj(item.assignee).login),
    }),
  };
}

/** GitHub repository or organisation webhooks (docs/sources.md). */
export const githubSource: SourceTranslator = {
  name: 'github',
  title: 'GitHub',
  scheme: { kind: 'hmac-sha256', header: 'x-hub-signature-256', prefix: 'sha256=', several: false },
  events: ['Deployment statuses', 'Pull requests', 'Issues', 'Workflow runs'],
  deliveryIdOf: (headers) => header(headers, 'x-github-delivery'),
  translate(headers, body, settings) {
    const event = header(headers, 'x-github-event') ?? '';
    switch (event) {
      case 'ping':
        return {
          kind: 'answer',
          status: 200,
          message:
            'pong: this connection uses deployment_status, workflow_run (named workflows), pull_request and issues (incident label)',
          data: {
            events: ['deployment_status', 'workflow_run', 'pull_request', 'issues'],
            workflows: settings.workflows,
            incidentLabel: settings.incidentLabel,
          },
        };
      case 'deployment_status':
        return deploymentStatus(body, settings);
      case 'workflow_run':
        return workflowRun(body, settings);
      case 'pull_request':
        return pullRequest(body);
      case 'issues':
        return issue(body, settings);
      default:
        return ignored(
          `GitHub event "${event}" is ignored: this connection uses deployment_status, workflow_run, pull_request and issues`,
        );
    }
  },
};
