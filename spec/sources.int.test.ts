import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { CicdDeployment, CicdDeploymentCommit } from '../src/deployments/deployment.entity';
import { RawWebhookEvent } from '../src/events/raw-event.entity';
import { Incident, Issue } from '../src/issues/issue.entity';
import { PullRequest } from '../src/pull-requests/pull-request.entity';
import { SourceSettingsRow } from '../src/sources/source.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import {
  GITLAB_DEPLOYMENT_RUNNING,
  GITLAB_DEPLOYMENT_SUCCESS,
  GITLAB_INCIDENT_CLOSED,
  GITLAB_INCIDENT_OPENED,
  GITLAB_MERGE_REQUEST_MERGED,
  GITLAB_MERGE_SHA,
  GITLAB_PIPELINE_SUCCESS,
  GITLAB_PLAIN_ISSUE,
  PAGERDUTY_ACKNOWLEDGED,
  PAGERDUTY_ANNOTATED,
  PAGERDUTY_LATE_ACKNOWLEDGED,
  PAGERDUTY_RESOLVED,
  PAGERDUTY_TRIGGERED,
} from './fixtures/sources';

const BASE = '/api/plugins/webhook';
const AUTH: [string, string] = ['admin', 'sources-secret-pass'];

type Example = Record<string, unknown> & { action?: string };
function githubExamples(event: string): Example[] {
  const found = (examples as unknown as { name: string; examples: Example[] }[]).find((e) => e.name === event);
  if (!found) throw new Error(`no example for ${event}`);
  return found.examples;
}
/** A deep copy, so a test may change a recorded delivery without touching the package's. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

describe('native sources: GitHub, GitLab and PagerDuty post signed deliveries to a connection', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: AUTH[0], password: AUTH[1] } });
  });
  afterAll(async () => server.close());

  async function connectionWithSecret(name: string, secret?: string): Promise<{ id: number; secret: string }> {
    const { id } = await createConnection(server, name, AUTH);
    const res = await server.request
      .post(`${BASE}/connections/${id}/sources/signing-secret`)
      .auth(...AUTH)
      .send(secret === undefined ? {} : { secret });
    expect(res.status).toBe(200);
    return { id, secret: res.body.signingSecret as string };
  }

  const github = (prefix: string, event: string, delivery: string, payload: unknown, secret: string) => {
    const body = JSON.stringify(payload);
    return server.request
      .post(`${BASE}/${prefix}/github`)
      .set('Content-Type', 'application/json')
      .set('X-GitHub-Event', event)
      .set('X-GitHub-Delivery', delivery)
      .set('X-Hub-Signature-256', `sha256=${hmac(secret, body)}`)
      .send(body);
  };
  const gitlab = (prefix: string, eventHeader: string, uuid: string, payload: unknown, token: string) =>
    server.request
      .post(`${BASE}/${prefix}/gitlab`)
      .set('Content-Type', 'application/json')
      .set('X-Gitlab-Event', eventHeader)
      .set('X-Gitlab-Event-UUID', uuid)
      .set('Idempotency-Key', uuid)
      .set('X-Gitlab-Token', token)
      .send(JSON.stringify(payload));
  const pagerduty = (prefix: string, payload: unknown, signatures: string[]) =>
    server.request
      .post(`${BASE}/${prefix}/pagerduty`)
      .set('Content-Type', 'application/json')
      .set('X-PagerDuty-Signature', signatures.join(','))
      .send(JSON.stringify(payload));
  const pdSign = (secret: string, payload: unknown) => `v1=${hmac(secret, JSON.stringify(payload))}`;

  const deployments = (id: number) =>
    server.db.dataSource.getRepository(CicdDeployment).find({ where: { cicdScopeId: `webhook:${id}` } });

  describe('signing secret', () => {
    it('is shown once when generated, stored encrypted, and never returned by GET', async () => {
      const { id, secret } = await connectionWithSecret('gh-secret');
      expect(secret.length).toBeGreaterThanOrEqual(32);
      const shown = await server.request.get(`${BASE}/connections/${id}/sources`).auth(...AUTH);
      expect(shown.status).toBe(200);
      expect(shown.body.signingSecretSet).toBe(true);
      expect(JSON.stringify(shown.body)).not.toContain(secret);
      expect(shown.body.sources.map((s: { path: string }) => s.path)).toEqual([
        `connections/${id}/github`,
        `connections/${id}/gitlab`,
        `connections/${id}/pagerduty`,
      ]);
      const row = await server.db.dataSource.getRepository(SourceSettingsRow).findOneByOrFail({ connectionId: id });
      expect(row.signingSecret).not.toContain(secret);
      expect(server.logger.lines.join('\n')).not.toContain(secret);
    });

    it('after a rotation the previous secret works for a day, and not at all with dropPrevious', async () => {
      const { id, secret: first } = await connectionWithSecret('gh-rotate');
      const ping = githubExamples('ping')[0];
      const rotated = await server.request
        .post(`${BASE}/connections/${id}/sources/signing-secret`)
        .auth(...AUTH)
        .send({});
      expect(rotated.body.previousSecretValidUntil).not.toBeNull();
      expect((await github(String(id), 'ping', 'rot-1', ping, first)).status).toBe(200);
      expect((await github(String(id), 'ping', 'rot-2', ping, rotated.body.signingSecret as string)).status).toBe(200);
      await server.request
        .post(`${BASE}/connections/${id}/sources/signing-secret`)
        .auth(...AUTH)
        .send({ dropPrevious: true });
      expect((await github(String(id), 'ping', 'rot-3', ping, first)).status).toBe(401);
    });

    it('answers 400 naming secret when the one set is too short', async () => {
      const { id } = await createConnection(server, 'gh-short', AUTH);
      const res = await server.request
        .post(`${BASE}/connections/${id}/sources/signing-secret`)
        .auth(...AUTH)
        .send({ secret: 'short' });
      expect(res.status).toBe(400);
      expect(res.body.causes).toEqual([expect.objectContaining({ field: 'secret' })]);
    });
  });

  describe('GitHub', () => {
    it('writes a successful production deployment_status as a SUCCESS deployment with its sha and repository', async () => {
      const { id, secret } = await connectionWithSecret('gh-deploy');
      const payload = githubExamples('deployment_status')[0] as Record<string, Record<string, unknown>>;
      const res = await github(`connections/${id}`, 'deployment_status', 'gh-d-1', payload, secret);
      expect(res.status).toBe(200);
      const [row] = await deployments(id);
      expect(row).toMatchObject({
        id: `webhook:${id}:github:deployment:${payload.deployment.id}`,
        result: 'SUCCESS',
        environment: 'PRODUCTION',
        originalEnvironment: 'production',
      });
      const commit = await server.db.dataSource
        .getRepository(CicdDeploymentCommit)
        .findOneByOrFail({ cicdDeploymentId: row.id });
      expect(commit.commitSha).toBe(payload.deployment.sha);
      expect(commit.repoUrl).toBe(payload.repository.html_url);
      expect(commit.finishedDate?.toISOString()).toBe('2019-05-15T15:20:55.000Z');

      await server.plugin.services.events.flush();
      const event = await server.db.dataSource
        .getRepository(RawWebhookEvent)
        .findOneByOrFail({ id: Number(res.headers['x-webhook-event-id']) });
      expect(event).toMatchObject({ sender: 'signature:github', deliveryId: 'gh-d-1', status: 200 });
      expect(row.rawDataId).toBe(event.id);

      const dora = await server.request
        .get(`${BASE}/connections/${id}/dora?from=2019-05-13T00:00:00Z&to=2019-05-20T00:00:00Z`)
        .auth(...AUTH);
      expect(dora.body.deploymentFrequency).toMatchObject({ deployments: 1, deploymentDays: 1 });
      expect(dora.body.changeFailureRate).toMatchObject({ deployments: 1, failedDeployments: 0 });
    });

    it('answers 401 and writes nothing for a wrong or missing signature, in every addressing form', async () => {
      const { id, secret } = await connectionWithSecret('gh-wrong');
      const payload = githubExamples('deployment_status')[0];
      for (const prefix of [String(id), `connections/${id}`, 'connections/by-name/gh-wrong']) {
        const wrong = await github(prefix, 'deployment_status', 'gh-w-1', payload, `${secret}x`);
        expect(wrong.status).toBe(401);
        const missing = await server.request
          .post(`${BASE}/${prefix}/github`)
          .set('X-GitHub-Event', 'deployment_status')
          .send(JSON.stringify(payload));
        expect(missing.status).toBe(401);
        expect(missing.body.message).toContain('x-hub-signature-256');
      }
      // A body changed after signing (one space added) no longer matches.
      const body = JSON.stringify(payload);
      const tampered = await server.request
        .post(`${BASE}/${id}/github`)
        .set('X-GitHub-Event', 'deployment_status')
        .set('X-Hub-Signature-256', `sha256=${hmac(secret, body)}`)
        .send(`${body} `);
      expect(tampered.status).toBe(401);
      expect(await deployments(id)).toHaveLength(0);

      // Refused deliveries are in the log for diagnosis, without the body an unverified sender sent.
      await server.plugin.services.events.flush();
      const refused = await server.db.dataSource
        .getRepository(RawWebhookEvent)
        .findOneByOrFail({ id: Number(tampered.headers['x-webhook-event-id']) });
      expect(refused).toMatchObject({ sender: 'signature:github', status: 401, body: null });
    });

    it('makes a redelivery a no-op and never lets a late pending status undo a success', async () => {
      const { id, secret } = await connectionWithSecret('gh-replay');
      const payload = copy(githubExamples('deployment_status')[0]) as Record<string, Record<string, unknown>>;
      expect((await github(String(id), 'deployment_status', 'gh-r-1', payload, secret)).status).toBe(200);
      const [before] = await deployments(id);
      const again = await github(String(id), 'deployment_status', 'gh-r-1', payload, secret);
      expect(again.status).toBe(200);
      expect(again.body.data).toMatchObject({ duplicate: true });
      const [after] = await deployments(id);
      expect(after.updatedAt).toEqual(before.updatedAt);

      payload.deployment_status.state = 'pending';
      const late = await github(String(id), 'deployment_status', 'gh-r-2', payload, secret);
      expect(late.status).toBe(202);
      expect((await deployments(id))[0].result).toBe('SUCCESS');
    });

    it('does not count a deployment_status that is not final', async () => {
      const { id, secret } = await connectionWithSecret('gh-progress');
      const inProgress = githubExamples('deployment_status').find(
        (e) => (e.deployment_status as { state: string }).state === 'in_progress',
      );
      const res = await github(String(id), 'deployment_status', 'gh-p-1', inProgress, secret);
      expect(res.status).toBe(202);
      expect(res.body.message).toContain('not final');
      expect(await deployments(id)).toHaveLength(0);
    });

    it('maps a failed deployment_status to FAILURE, counted by the change failure rate', async () => {
      const { id, secret } = await connectionWithSecret('gh-failure');
      const payload = copy(githubExamples('deployment_status')[0]) as Record<string, Record<string, unknown>>;
      payload.deployment_status.state = 'error';
      expect((await github(String(id), 'deployment_status', 'gh-f-1', payload, secret)).status).toBe(200);
      expect((await deployments(id))[0].result).toBe('FAILURE');
    });

    it('writes pull requests, and a late opened delivery never reopens a closed one', async () => {
      const { id, secret } = await connectionWithSecret('gh-pr');
      const closed = githubExamples('pull_request').find((e) => e.action === 'closed') as Record<
        string,
        Record<string, unknown>
      >;
      const res = await github(String(id), 'pull_request', 'gh-pr-1', closed, secret);
      expect(res.status).toBe(200);
      const repo = server.db.dataSource.getRepository(PullRequest);
      const stored = await repo.findOneByOrFail({ id: res.body.data.pullRequestId as string });
      expect(stored).toMatchObject({ status: 'CLOSED', title: closed.pull_request.title, baseRef: 'master' });

      const opened = copy(githubExamples('pull_request').find((e) => e.action === 'opened')) as Record<
        string,
        Record<string, unknown>
      >;
      opened.pull_request.id = closed.pull_request.id;
      opened.pull_request.updated_at = '2019-05-15T15:20:00Z';
      const late = await github(String(id), 'pull_request', 'gh-pr-2', opened, secret);
      expect(late.status).toBe(202);
      expect((await repo.findOneByOrFail({ id: stored.id })).status).toBe('CLOSED');

      // Merged: the merge commit sha is kept for lead time.
      const merged = copy(closed);
      merged.pull_request.merged = true;
      merged.pull_request.merged_at = '2019-05-15T15:21:18Z';
      expect((await github(String(id), 'pull_request', 'gh-pr-3', merged, secret)).status).toBe(200);
      expect(await repo.findOneByOrFail({ id: stored.id })).toMatchObject({
        status: 'MERGED',
        mergeCommitSha: closed.pull_request.merge_commit_sha,
      });
    });

    it('turns issues with the connection’s incident label into incidents, and their close into a resolution', async () => {
      const { id, secret } = await connectionWithSecret('gh-issues');
      const opened = copy(githubExamples('issues').find((e) => e.action === 'opened')) as Record<
        string,
        Record<string, unknown>
      >;
      const ignored = await github(String(id), 'issues', 'gh-i-0', opened, secret);
      expect(ignored.status).toBe(202);
      expect(ignored.body.message).toContain('"incident"');

      const patched = await server.request
        .patch(`${BASE}/connections/${id}/sources`)
        .auth(...AUTH)
        .send({ incidentLabel: 'bug' });
      expect(patched.body.settings.incidentLabel).toBe('bug');
      const res = await github(String(id), 'issues', 'gh-i-1', opened, secret);
      expect(res.status).toBe(200);
      const incidents = server.db.dataSource.getRepository(Incident);
      const incident = await incidents.findOneByOrFail({ id: res.body.data.incidentId as string });
      expect(incident).toMatchObject({ status: 'TODO', resolutionDate: null, title: opened.issue.title });

      const closed = copy(opened);
      Object.assign(closed.issue, {
        state: 'closed',
        closed_at: '2019-05-15T17:20:18Z',
        updated_at: '2019-05-15T17:20:18Z',
      });
      closed.action = 'closed' as never;
      expect((await github(String(id), 'issues', 'gh-i-2', closed, secret)).status).toBe(200);
      const resolved = await incidents.findOneByOrFail({ id: incident.id });
      expect(resolved.status).toBe('DONE');
      expect(resolved.resolutionDate?.toISOString()).toBe('2019-05-15T17:20:18.000Z');

      // The opened delivery sent again under a new id, after the close: older, so ignored.
      expect((await github(String(id), 'issues', 'gh-i-3', opened, secret)).status).toBe(202);
      expect((await incidents.findOneByOrFail({ id: incident.id })).status).toBe('DONE');
    });

    it('counts completed workflow runs only for the workflows the connection names', async () => {
      const { id, secret } = await connectionWithSecret('gh-workflow');
      const run = githubExamples('workflow_run').find(
        (e) => e.action === 'completed' && (e.workflow_run as { conclusion: string }).conclusion === 'success',
      ) as Record<string, Record<string, unknown>>;
      expect((await github(String(id), 'workflow_run', 'gh-wf-1', run, secret)).status).toBe(202);
      expect(await deployments(id)).toHaveLength(0);
      await server.request
        .patch(`${BASE}/connections/${id}/sources`)
        .auth(...AUTH)
        .send({ workflows: [run.workflow_run.path] });
      expect((await github(String(id), 'workflow_run', 'gh-wf-2', run, secret)).status).toBe(200);
      const [row] = await deployments(id);
      expect(row).toMatchObject({ result: 'SUCCESS', environment: 'PRODUCTION' });
      const requested = githubExamples('workflow_run').find((e) => e.action === 'requested');
      expect((await github(String(id), 'workflow_run', 'gh-wf-3', requested, secret)).status).toBe(202);
    });

    it('answers ping with the events it uses, and 202 for other events', async () => {
      const { id, secret } = await connectionWithSecret('gh-ping');
      const ping = await github(String(id), 'ping', 'gh-ping-1', githubExamples('ping')[0], secret);
      expect(ping.status).toBe(200);
      expect(ping.body.data.events).toEqual(['deployment_status', 'workflow_run', 'pull_request', 'issues']);
      const star = await github(String(id), 'star', 'gh-star-1', { action: 'created' }, secret);
      expect(star.status).toBe(202);
      expect(star.body.message).toContain('"star" is ignored');
    });

    it('accepts Basic credentials instead of a signature, for testing by hand', async () => {
      const { id } = await createConnection(server, 'gh-basic', AUTH);
      const res = await server.request
        .post(`${BASE}/${id}/github`)
        .auth(...AUTH)
        .set('X-GitHub-Event', 'deployment_status')
        .send(githubExamples('deployment_status')[0]);
      expect(res.status).toBe(200);
      expect(await deployments(id)).toHaveLength(1);
    });
  });

  describe('GitLab', () => {
    it('writes deployments, merged merge requests and incidents, giving lead time and recovery time in /dora', async () => {
      const { id, secret } = await connectionWithSecret('gl-shop');
      expect((await gitlab(String(id), 'Merge Request Hook', 'gl-1', GITLAB_MERGE_REQUEST_MERGED, secret)).status).toBe(
        200,
      );
      expect((await gitlab(String(id), 'Deployment Hook', 'gl-2', GITLAB_DEPLOYMENT_SUCCESS, secret)).status).toBe(200);
      expect((await gitlab(String(id), 'Issue Hook', 'gl-3', GITLAB_INCIDENT_OPENED, secret)).status).toBe(200);
      expect((await gitlab(String(id), 'Issue Hook', 'gl-4', GITLAB_INCIDENT_CLOSED, secret)).status).toBe(200);

      const [deployment] = await deployments(id);
      expect(deployment).toMatchObject({ result: 'SUCCESS', environment: 'PRODUCTION' });
      // "12:30 +0100" is 11:30 UTC.
      expect(deployment.finishedDate?.toISOString()).toBe('2026-03-04T11:30:00.000Z');
      const pr = await server.db.dataSource
        .getRepository(PullRequest)
        .findOneByOrFail({ mergeCommitSha: GITLAB_MERGE_SHA });
      expect(pr).toMatchObject({ status: 'MERGED', baseRef: 'main', headRef: 'checkout-fix' });
      const issue = await server.db.dataSource
        .getRepository(Issue)
        .findOneByOrFail({ id: `webhook:${id}:shop/storefront#7` });
      expect(issue).toMatchObject({ type: 'INCIDENT', status: 'DONE' });

      const dora = await server.request
        .get(`${BASE}/connections/${id}/dora?from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z`)
        .auth(...AUTH);
      expect(dora.status).toBe(200);
      expect(dora.body.deploymentFrequency).toMatchObject({ deployments: 1 });
      // Opened 03-03 09:00 UTC, its merge commit deployed 03-04 11:30 UTC.
      expect(dora.body.leadTimeForChanges).toMatchObject({ changes: 1, medianMinutes: 1590 });
      // Failed deployment recovery time: from the deployment (11:30 UTC) to the resolution (14:30 UTC).
      expect(dora.body.recoveryTime).toMatchObject({ incidents: 1, medianMinutes: 180 });
    });

    it('answers 401 for a wrong token and writes nothing', async () => {
      const { id, secret } = await connectionWithSecret('gl-wrong');
      const res = await gitlab(String(id), 'Deployment Hook', 'gl-w', GITLAB_DEPLOYMENT_SUCCESS, `${secret}-old`);
      expect(res.status).toBe(401);
      expect(await deployments(id)).toHaveLength(0);
    });

    it('makes a retried delivery a no-op and never lets a late running status undo a success', async () => {
      const { id, secret } = await connectionWithSecret('gl-replay');
      expect((await gitlab(String(id), 'Deployment Hook', 'gl-r-1', GITLAB_DEPLOYMENT_SUCCESS, secret)).status).toBe(
        200,
      );
      const again = await gitlab(String(id), 'Deployment Hook', 'gl-r-1', GITLAB_DEPLOYMENT_SUCCESS, secret);
      expect(again.body.data).toMatchObject({ duplicate: true });
      expect((await gitlab(String(id), 'Deployment Hook', 'gl-r-2', GITLAB_DEPLOYMENT_RUNNING, secret)).status).toBe(
        202,
      );
      const rows = await deployments(id);
      expect(rows).toHaveLength(1);
      expect(rows[0].result).toBe('SUCCESS');
    });

    it('counts pipelines only when named, and ignores issues that are not incidents', async () => {
      const { id, secret } = await connectionWithSecret('gl-pipeline');
      expect((await gitlab(String(id), 'Pipeline Hook', 'gl-p-1', GITLAB_PIPELINE_SUCCESS, secret)).status).toBe(202);
      await server.request
        .patch(`${BASE}/connections/${id}/sources`)
        .auth(...AUTH)
        .send({ pipelines: ['Release to production'] });
      expect((await gitlab(String(id), 'Pipeline Hook', 'gl-p-2', GITLAB_PIPELINE_SUCCESS, secret)).status).toBe(200);
      expect(await deployments(id)).toHaveLength(1);
      expect((await gitlab(String(id), 'Issue Hook', 'gl-p-3', GITLAB_PLAIN_ISSUE, secret)).status).toBe(202);
    });
  });

  describe('PagerDuty', () => {
    it('follows an incident from triggered to resolved, with its service, urgency and priority', async () => {
      const { id, secret } = await connectionWithSecret('pd-shop', 'pagerduty-generated-secret-0123456789');
      expect(secret).toBe('pagerduty-generated-secret-0123456789');
      for (const event of [PAGERDUTY_TRIGGERED, PAGERDUTY_ACKNOWLEDGED, PAGERDUTY_RESOLVED]) {
        expect((await pagerduty(`connections/${id}`, event, [pdSign(secret, event)])).status).toBe(200);
      }
      const incident = await server.db.dataSource
        .getRepository(Incident)
        .findOneByOrFail({ id: `webhook:${id}:Q2NX7ABCDEF01` });
      expect(incident).toMatchObject({
        status: 'DONE',
        urgency: 'high',
        priority: 'P1',
        originalProject: 'Checkout API',
      });
      expect(incident.resolutionDate?.toISOString()).toBe('2026-03-06T12:00:00.000Z');

      const dora = await server.request
        .get(`${BASE}/connections/${id}/dora?from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z&benchmark=2021`)
        .auth(...AUTH);
      // The 2021 benchmark's time to restore: every incident, triggered 10:00, resolved 12:00.
      expect(dora.body.recoveryTime).toMatchObject({ incidents: 1, medianMinutes: 120 });
    });

    it('accepts any of several signatures (PagerDuty rotating its secret), refuses wrong ones', async () => {
      const { id, secret } = await connectionWithSecret('pd-rotate', 'pagerduty-rotating-secret-0123456789');
      const wrong = `v1=${hmac('another-secret', JSON.stringify(PAGERDUTY_TRIGGERED))}`;
      expect((await pagerduty(String(id), PAGERDUTY_TRIGGERED, [wrong])).status).toBe(401);
      expect(await server.db.dataSource.getRepository(Incident).countBy({ scopeId: `webhook:${id}` })).toBe(0);
      const res = await pagerduty(String(id), PAGERDUTY_TRIGGERED, [wrong, pdSign(secret, PAGERDUTY_TRIGGERED)]);
      expect(res.status).toBe(200);
    });

    it('makes a retried event a no-op and never lets a late acknowledgement reopen a resolved incident', async () => {
      const { id, secret } = await connectionWithSecret('pd-replay', 'pagerduty-replay-secret-0123456789');
      for (const event of [PAGERDUTY_TRIGGERED, PAGERDUTY_RESOLVED]) {
        expect((await pagerduty(String(id), event, [pdSign(secret, event)])).status).toBe(200);
      }
      const again = await pagerduty(String(id), PAGERDUTY_RESOLVED, [pdSign(secret, PAGERDUTY_RESOLVED)]);
      expect(again.body.data).toMatchObject({ duplicate: true });
      const late = await pagerduty(String(id), PAGERDUTY_LATE_ACKNOWLEDGED, [
        pdSign(secret, PAGERDUTY_LATE_ACKNOWLEDGED),
      ]);
      expect(late.status).toBe(202);
      const incident = await server.db.dataSource
        .getRepository(Incident)
        .findOneByOrFail({ id: `webhook:${id}:Q2NX7ABCDEF01` });
      expect(incident.status).toBe('DONE');
      const annotated = await pagerduty(String(id), PAGERDUTY_ANNOTATED, [pdSign(secret, PAGERDUTY_ANNOTATED)]);
      expect(annotated.status).toBe(202);
    });
  });
});
