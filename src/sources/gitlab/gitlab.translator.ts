import { defined, environmentOf, header, ignored, obj, str, type SourceAction, type SourceTranslator } from '../source';
import type { SourceSettings } from '../source-settings.service';

/** Deployment and pipeline statuses that are final; `running`, `created`, `pending` are not counted. */
const RESULTS: Record<string, string> = {
  success: 'SUCCESS',
  failed: 'FAILURE',
  canceled: 'ABORT',
  cancelled: 'ABORT',
};

/**
 * GitLab writes webhook times as `2021-04-28 21:50:00 +0200` or `2013-12-03 17:23:34 UTC`
 * (newer versions send ISO 8601): made ISO 8601 here, so the DTOs read them as any sender's.
 */
export function gitlabDate(value: unknown): string | undefined {
  const text = str(value)?.trim();
  if (!text) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(UTC|Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!match) return text;
  const [, day, time, zone] = match;
  const offset = !zone || zone === 'UTC' || zone === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  return `${day}T${time}${offset}`;
}

function labelsOf(attributes: Record<string, unknown>, body: Record<string, unknown>): string[] {
  const lists = [attributes.labels, body.labels];
  return lists.flatMap((list) => (Array.isArray(list) ? list.map((label) => str(obj(label).title) ?? '') : []));
}

function deployment(body: Record<string, unknown>, settings: SourceSettings): SourceAction {
  const status = str(body.status) ?? '';
  const result = RESULTS[status];
  if (!result)
    return ignored(`deployment status "${status}" is not final: not counted until success, failed or canceled`);
  const project = obj(body.project);
  const environment = str(body.environment);
  // The full sha is the last segment of `commit_url` (the hook sends `short_sha` only).
  const sha = /\/commit\/([0-9a-f]{7,64})$/i.exec(str(body.commit_url) ?? '')?.[1] ?? str(body.short_sha);
  return {
    kind: 'deployment',
    body: defined({
      id: `gitlab:deployment:${str(body.deployment_id) ?? ''}`,
      displayTitle: str(body.commit_title),
      name: environment,
      result,
      environment: environmentOf(environment, settings),
      originalEnvironment: environment,
      url: str(body.deployable_url) ?? str(body.environment_external_url),
      finishedDate: gitlabDate(body.status_changed_at),
      deploymentCommits: [
        defined({
          repoUrl: str(project.web_url),
          repoId: str(project.path_with_namespace),
          commitSha: sha,
          refName: str(body.ref),
          commitMsg: str(body.commit_title),
        }),
      ],
    }),
  };
}

function pipeline(body: Record<string, unknown>, settings: SourceSettings): SourceAction {
  const attributes = obj(body.object_attributes);
  const project = obj(body.project);
  const name = str(attributes.name) ?? '';
  const path = str(project.path_with_namespace) ?? '';
  if (!settings.pipelines.some((wanted) => wanted === name || wanted === path)) {
    return ignored(
      `pipeline "${name || path}" is not one this connection counts as a deployment (setting "pipelines")`,
    );
  }
  const status = str(attributes.status) ?? '';
  const result = RESULTS[status];
  if (!result)
    return ignored(`pipeline status "${status}" is not final: not counted until success, failed or canceled`);
  return {
    kind: 'deployment',
    body: defined({
      id: `gitlab:pipeline:${str(attributes.id) ?? ''}`,
      displayTitle: str(obj(body.commit).title) ?? name,
      name: name || path,
      result,
      environment: 'PRODUCTION',
      originalEnvironment: name || path,
      url: str(attributes.url),
      createdDate: gitlabDate(attributes.created_at),
      startedDate: gitlabDate(attributes.created_at),
      finishedDate: gitlabDate(attributes.finished_at),
      deploymentCommits: [
        defined({
          repoUrl: str(project.web_url),
          repoId: path,
          commitSha: str(attributes.sha),
          refName: str(attributes.ref),
          commitMsg: str(obj(body.commit).message),
        }),
      ],
    }),
  };
}

function mergeRequest(body: Record<string, unknown>): SourceAction {
  const attributes = obj(body.object_attributes);
  const project = obj(body.project);
  const state = str(attributes.state) ?? 'opened';
  const merged = state === 'merged';
  const closed = state === 'closed' || state === 'locked';
  const changedAt = gitlabDate(attributes.updated_at);
  return {
    kind: 'pull-request',
    changedAt,
    body: defined({
      id: `gitlab:${str(attributes.id) ?? ''}`,
      // GitLab's global id: iids repeat across the projects posting to one connection.
      pullRequestKey: attributes.id,
      displayTitle: str(attributes.title),
      description: str(attributes.description),
      url: str(attributes.url),
      status: merged ? 'MERGED' : closed ? 'CLOSED' : 'OPEN',
      originalStatus: state,
      authorId: str(attributes.author_id),
      authorName: str(obj(body.user).username),
      createdDate: gitlabDate(attributes.created_at),
      // The hook has no merge or close time: the change that made it so is that time.
      mergedDate: merged ? (gitlabDate(attributes.merged_at) ?? changedAt) : undefined,
      closedDate: merged || closed ? (gitlabDate(attributes.closed_at) ?? changedAt) : undefined,
      mergeCommitSha: merged ? str(attributes.merge_commit_sha) : undefined,
      baseRef: str(attributes.target_branch),
      headRef: str(attributes.source_branch),
      headCommitSha: str(obj(attributes.last_commit).id),
      headRepoId: str(obj(attributes.source).path_with_namespace),
      component: str(project.path_with_namespace),
      isDraft: attributes.draft ?? attributes.work_in_progress,
    }),
  };
}

function issue(body: Record<string, unknown>, settings: SourceSettings): SourceAction {
  const attributes = obj(body.object_attributes);
  const project = obj(body.project);
  const type = (str(attributes.type) ?? str(attributes.issue_type) ?? '').toLowerCase();
  const wanted = settings.incidentLabel.toLowerCase();
  const labelled = labelsOf(attributes, body).some((label) => label.toLowerCase() === wanted);
  if (type !== 'incident' && !labelled) {
    return ignored(`issue that is neither of type incident nor labelled "${settings.incidentLabel}": ignored`);
  }
  const closed = str(attributes.state) === 'closed';
  const changedAt = gitlabDate(attributes.updated_at);
  return {
    kind: 'issue',
    changedAt,
    body: defined({
      issueKey: `${str(project.path_with_namespace) ?? ''}#${str(attributes.iid) ?? ''}`,
      title: str(attributes.title),
      description: str(attributes.description),
      url: str(attributes.url),
      type: 'INCIDENT',
      status: closed ? 'DONE' : 'TODO',
      originalStatus: str(attributes.state),
      createdDate: gitlabDate(attributes.created_at),
      updatedDate: changedAt,
      resolutionDate: closed ? (gitlabDate(attributes.closed_at) ?? changedAt) : undefined,
      boardKey: str(project.path_with_namespace),
      severity: str(attributes.severity),
      creatorId: str(attributes.author_id),
    }),
  };
}

/** GitLab project or group webhooks (docs/sources.md). */
export const gitlabSource: SourceTranslator = {
  name: 'gitlab',
  title: 'GitLab',
  scheme: { kind: 'token', header: 'x-gitlab-token' },
  events: ['Deployment events', 'Merge request events', 'Issues events', 'Pipeline events'],
  // GitLab keeps `Idempotency-Key` across retries of one delivery; older versions send only the UUID.
  deliveryIdOf: (headers) => header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid'),
  translate(headers, body, settings) {
    const kind = str(body.object_kind) ?? '';
    switch (kind) {
      case 'deployment':
        return deployment(body, settings);
      case 'pipeline':
        return pipeline(body, settings);
      case 'merge_request':
        return mergeRequest(body);
      case 'issue':
      case 'work_item':
        return issue(body, settings);
      default:
        return ignored(
          `GitLab event "${header(headers, 'x-gitlab-event') ?? kind}" is ignored: this connection uses Deployment, Merge request, Issue and Pipeline events`,
        );
    }
  },
};
