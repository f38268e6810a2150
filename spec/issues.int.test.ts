import {
  Board,
  BoardIssue,
  Incident,
  IncidentAssignee,
  IncidentDeploymentLink,
  Issue,
  IssueAssignee,
} from '../src/issues/issue.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const CONNECTION_NAME = 'incident tool';

/** The seed doc's "Sample CURL for Issue Creating", byte for byte. */
const SEED_ISSUE_BODY =
  '{"board_key":"DLK","url":"","issue_key":"DLK-1234","title":"a feature from DLK","description":"","epic_key":"","type":"BUG","status":"TODO","original_status":"created","story_point":0,"resolution_date":null,"created_date":"2020-01-01T12:00:00+00:00","updated_date":null,"lead_time_minutes":0,"parent_issue_key":"DLK-1200","priority":"","original_estimate_minutes":0,"time_spent_minutes":0,"time_remaining_minutes":0,"creator_id":"user1131","creator_name":"Nick name 1","assignee_id":"user1132","assignee_name":"Nick name 2","severity":"","component":""}';

/**
 * DevLake's lineage columns: the raw event log's table and the id of the delivery that wrote the
 * row; the others empty, as DevLake's webhook leaves them (not NULL).
 */
const COMMON_NULLS = {
  rawDataParams: '',
  rawDataTable: '_raw_webhook_events',
  rawDataId: expect.any(Number),
  rawDataRemark: '',
};

/** Every column of an `issues` row, as DevLake stores a field not sent ('', 0, false; NULL for dates). */
function issueRow(overrides: Partial<Issue>): Issue {
  return {
    createdAt: expect.any(Date),
    updatedAt: expect.any(Date),
    ...COMMON_NULLS,
    url: '',
    iconUrl: '',
    description: '',
    epicKey: '',
    type: '',
    originalType: '',
    storyPoint: 0,
    resolutionDate: null,
    updatedDate: null,
    leadTimeMinutes: 0,
    originalEstimateMinutes: 0,
    timeSpentMinutes: 0,
    timeRemainingMinutes: 0,
    creatorId: '',
    creatorName: '',
    assigneeId: '',
    assigneeName: '',
    parentIssueId: '',
    priority: '',
    severity: '',
    urgency: '',
    component: '',
    originalProject: '',
    isSubtask: false,
    dueDate: null,
    fixVersions: '',
    ...overrides,
  } as Issue;
}

/** The `incidents` row DevLake's `issue.ToIncident(boardId)` makes of an issue row. */
function incidentRowOf(issue: Issue, cid: number): Incident {
  return {
    id: issue.id,
    createdAt: expect.any(Date),
    updatedAt: expect.any(Date),
    ...COMMON_NULLS,
    url: issue.url,
    incidentKey: issue.issueKey,
    title: issue.title,
    description: issue.description,
    status: issue.status,
    originalStatus: issue.originalStatus,
    resolutionDate: issue.resolutionDate,
    createdDate: issue.createdDate,
    updatedDate: issue.updatedDate,
    leadTimeMinutes: issue.leadTimeMinutes,
    originalEstimateMinutes: issue.originalEstimateMinutes,
    timeSpentMinutes: issue.timeSpentMinutes,
    timeRemainingMinutes: issue.timeRemainingMinutes,
    creatorId: issue.creatorId,
    creatorName: issue.creatorName,
    parentIncidentId: issue.parentIssueId,
    priority: issue.priority,
    severity: issue.severity,
    urgency: issue.urgency,
    component: issue.component,
    originalProject: issue.originalProject,
    table: 'boards',
    scopeId: `webhook:${cid}`,
    assigneeId: issue.assigneeId,
    assigneeName: issue.assigneeName,
  } as Incident;
}

function minutesBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / 60_000);
}

describe('issues and incidents (contract §2, §6, §9)', () => {
  let server: TestServer;
  let cid: number;
  let key: string;
  let otherCid: number;

  const repo = <T extends object>(entity: new () => T) => server.db.dataSource.getRepository(entity);
  const issueOf = (key: string, connectionId = cid) => repo(Issue).findOneBy({ id: `webhook:${connectionId}:${key}` });
  const incidentOf = (key: string) => repo(Incident).findOneBy({ id: `webhook:${cid}:${key}` });
  const postIssue = (body: object, prefix = `${BASE}/${cid}`) => server.request.post(`${prefix}/issues`).send(body);

  /** A minimal valid camelCase payload (DevLake v1.0). */
  const minimal = (issueKey: string, extra: object = {}) => ({
    issueKey,
    title: `title of ${issueKey}`,
    status: 'TODO',
    originalStatus: 'open',
    createdDate: '2026-03-10T13:00:00Z',
    ...extra,
  });

  beforeAll(async () => {
    server = await startTestServer();
    ({ id: cid, key } = await createConnection(server, CONNECTION_NAME));
    otherCid = (await createConnection(server, 'other tool')).id;
  });
  afterAll(async () => server.close());

  describe("the seed document's commands, pasted with only host and connection id changed", () => {
    it('stores the seed issue curl (-d, form Content-Type) in issues, boards, board_issues and issue_assignees', async () => {
      const res = await server.request
        .post(`${BASE}/${cid}/issues`)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(SEED_ISSUE_BODY);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        code: 0,
        success: true,
        message: 'success',
        causes: null,
        data: {
          issueId: `webhook:${cid}:DLK-1234`,
          incidentId: null,
          dates: { created_date: '2020-01-01T12:00:00.000Z' },
          warnings: [],
        },
      });

      const issue = await issueOf('DLK-1234');
      expect(issue).toEqual(
        issueRow({
          id: `webhook:${cid}:DLK-1234`,
          issueKey: 'DLK-1234',
          title: 'a feature from DLK',
          type: 'BUG',
          status: 'TODO',
          originalStatus: 'created',
          storyPoint: 0,
          createdDate: new Date('2020-01-01T12:00:00Z'),
          leadTimeMinutes: 0,
          originalEstimateMinutes: 0,
          timeSpentMinutes: 0,
          timeRemainingMinutes: 0,
          creatorId: `webhook:${cid}:user1131`,
          creatorName: 'Nick name 1',
          assigneeId: `webhook:${cid}:user1132`,
          assigneeName: 'Nick name 2',
          parentIssueId: `webhook:${cid}:DLK-1200`,
          originalProject: 'DLK',
        }),
      );
      expect(await repo(Board).findOneBy({ id: `webhook:${cid}` })).toEqual({
        id: `webhook:${cid}`,
        name: CONNECTION_NAME,
        description: '',
        url: '',
        createdDate: null,
        type: '',
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
        ...COMMON_NULLS,
      });
      expect(await repo(BoardIssue).findBy({ issueId: `webhook:${cid}:DLK-1234` })).toEqual([
        {
          boardId: `webhook:${cid}`,
          issueId: `webhook:${cid}:DLK-1234`,
          createdAt: expect.any(Date),
          updatedAt: expect.any(Date),
          ...COMMON_NULLS,
        },
      ]);
      expect(await repo(IssueAssignee).findBy({ issueId: `webhook:${cid}:DLK-1234` })).toEqual([
        {
          issueId: `webhook:${cid}:DLK-1234`,
          assigneeId: `webhook:${cid}:user1132`,
          assigneeName: 'Nick name 2',
          createdAt: expect.any(Date),
          updatedAt: expect.any(Date),
          ...COMMON_NULLS,
        },
      ]);
      expect(await incidentOf('DLK-1234')).toBeNull();
    });

    it('closes with the seed close curl (no body, no header): DONE, resolution date now, lead time computed', async () => {
      const before = await issueOf('DLK-1234');
      expect(before).not.toBeNull();
      const start = Date.now();
      const res = await server.request.post(`${BASE}/${cid}/issue/DLK/DLK-1234/close`);
      const end = Date.now();
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, data: { issueId: `webhook:${cid}:DLK-1234`, incidentId: null } });

      const after = (await issueOf('DLK-1234'))!;
      const resolved = after.resolutionDate!;
      expect(resolved.getTime()).toBeGreaterThanOrEqual(start);
      expect(resolved.getTime()).toBeLessThanOrEqual(end);
      expect(after).toEqual({
        ...before,
        status: 'DONE',
        // Blanked, as DevLake's close does.
        originalStatus: '',
        resolutionDate: resolved,
        leadTimeMinutes: minutesBetween(new Date('2020-01-01T12:00:00Z'), resolved),
        updatedAt: expect.any(Date),
        // The close is the delivery that last wrote the row.
        rawDataId: Number(res.headers['x-webhook-event-id']),
      });
      expect(after.createdAt).toEqual(before!.createdAt);
      expect(after.updatedAt!.getTime()).toBeGreaterThanOrEqual(start);
    });
  });

  describe('an INCIDENT from create to close', () => {
    const KEY = 'INC-1';

    it('creates the incident from a lower-case type, with incident_assignees and the deployment link', async () => {
      const res = await postIssue(
        minimal(KEY, {
          type: 'incident',
          assigneeId: 'oncall-1',
          assigneeName: 'On Call',
          creatorId: 'pager',
          severity: 'SEV1',
          urgency: 'high',
          priority: 'P1',
          url: 'https://pager.example/INC-1',
          description: 'checkout is down',
          component: 'checkout',
          boardKey: 'OPS',
          deploymentId: 'deploy-42',
        }),
      );
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ issueId: `webhook:${cid}:${KEY}`, incidentId: `webhook:${cid}:${KEY}` });

      const issue = (await issueOf(KEY))!;
      expect(issue).toEqual(
        issueRow({
          id: `webhook:${cid}:${KEY}`,
          issueKey: KEY,
          title: `title of ${KEY}`,
          description: 'checkout is down',
          url: 'https://pager.example/INC-1',
          type: 'incident',
          status: 'TODO',
          originalStatus: 'open',
          createdDate: new Date('2026-03-10T13:00:00Z'),
          creatorId: `webhook:${cid}:pager`,
          assigneeId: `webhook:${cid}:oncall-1`,
          assigneeName: 'On Call',
          priority: 'P1',
          severity: 'SEV1',
          urgency: 'high',
          component: 'checkout',
          originalProject: 'OPS',
        }),
      );
      expect(await incidentOf(KEY)).toEqual(incidentRowOf(issue, cid));
      expect(await repo(IncidentAssignee).findBy({ incidentId: issue.id })).toEqual([
        {
          incidentId: issue.id,
          assigneeId: `webhook:${cid}:oncall-1`,
          assigneeName: 'On Call',
          createdAt: expect.any(Date),
          updatedAt: expect.any(Date),
          ...COMMON_NULLS,
        },
      ]);
      expect(await repo(IncidentDeploymentLink).findBy({ issueId: issue.id })).toEqual([
        { issueId: issue.id, deploymentKey: 'deploy-42', cicdDeploymentId: `webhook:${cid}:deploy-42` },
      ]);
    });

    it('re-posted: updates in place, keeps created_at, replaces assignees, drops the link no longer sent', async () => {
      const first = (await incidentOf(KEY))!;
      const res = await postIssue(
        minimal(KEY, {
          type: 'INCIDENT',
          title: 'checkout down (EU)',
          status: 'in_progress',
          originalStatus: 'acknowledged',
          assigneeId: 'oncall-2',
          assigneeName: 'Second',
        }),
      );
      expect(res.status).toBe(200);
      const issue = (await issueOf(KEY))!;
      expect(issue).toEqual(
        issueRow({
          id: `webhook:${cid}:${KEY}`,
          issueKey: KEY,
          title: 'checkout down (EU)',
          type: 'INCIDENT',
          status: 'IN_PROGRESS',
          originalStatus: 'acknowledged',
          createdDate: new Date('2026-03-10T13:00:00Z'),
          assigneeId: `webhook:${cid}:oncall-2`,
          assigneeName: 'Second',
        }),
      );
      const incident = (await incidentOf(KEY))!;
      expect(incident).toEqual(incidentRowOf(issue, cid));
      expect(incident.createdAt).toEqual(first.createdAt);
      expect(incident.updatedAt!.getTime()).toBeGreaterThanOrEqual(first.updatedAt!.getTime());
      expect((await repo(IssueAssignee).findBy({ issueId: issue.id })).map((a) => a.assigneeId)).toEqual([
        `webhook:${cid}:oncall-2`,
      ]);
      expect((await repo(IncidentAssignee).findBy({ incidentId: issue.id })).map((a) => a.assigneeId)).toEqual([
        `webhook:${cid}:oncall-2`,
      ]);
      expect(await repo(IncidentDeploymentLink).findBy({ issueId: issue.id })).toEqual([]);
    });

    it('closed by key with an empty JSON body: DONE on issue and incident, resolution date and lead time set', async () => {
      const start = Date.now();
      const res = await server.request
        .post(`${BASE}/connections/${cid}/issue/${KEY}/close`)
        .set('Content-Type', 'application/json');
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ issueId: `webhook:${cid}:${KEY}`, incidentId: `webhook:${cid}:${KEY}` });

      const issue = (await issueOf(KEY))!;
      const incident = (await incidentOf(KEY))!;
      expect(issue.status).toBe('DONE');
      expect(issue.originalStatus).toBe('');
      expect(incident.originalStatus).toBe('');
      expect(issue.resolutionDate!.getTime()).toBeGreaterThanOrEqual(start);
      expect(issue.leadTimeMinutes).toBe(minutesBetween(new Date('2026-03-10T13:00:00Z'), issue.resolutionDate!));
      expect(incident).toEqual(incidentRowOf(issue, cid));
      expect(incident.resolutionDate).toEqual(issue.resolutionDate);
    });

    it('closed twice: harmless, the first resolution date is kept', async () => {
      const once = (await issueOf(KEY))!;
      const res = await server.request.post(`${BASE}/${cid}/issue/${KEY}/close`);
      expect(res.status).toBe(200);
      const twice = (await issueOf(KEY))!;
      // Only the update time and the delivery that last wrote the row move.
      expect(twice).toEqual({ ...once, updatedAt: expect.any(Date), rawDataId: expect.any(Number) });
      expect((await incidentOf(KEY))!.resolutionDate).toEqual(once.resolutionDate);
    });
  });

  describe('lead time and resolution date', () => {
    it('computes lead_time_minutes from the dates when it is not sent or 0', async () => {
      await postIssue(minimal('LT-1', { resolutionDate: '2026-03-10T14:30:59Z' }));
      expect((await issueOf('LT-1'))!.leadTimeMinutes).toBe(90);
      await postIssue(minimal('LT-2', { resolution_date: '2026-03-10T15:00:00+00:00', lead_time_minutes: 0 }));
      expect((await issueOf('LT-2'))!.leadTimeMinutes).toBe(120);
    });

    it('keeps a lead_time_minutes that is sent', async () => {
      await postIssue(minimal('LT-3', { resolutionDate: '2026-03-10T15:00:00Z', leadTimeMinutes: '7' }));
      expect((await issueOf('LT-3'))!.leadTimeMinutes).toBe(7);
    });

    it('close keeps a resolution date that was sent, in its offset form', async () => {
      await postIssue(minimal('LT-4', { type: 'Incident', resolutionDate: '2026-03-10T15:45:00+01:00' }));
      const res = await server.request.post(`${BASE}/${cid}/issue/LT-4/close`);
      expect(res.status).toBe(200);
      const issue = (await issueOf('LT-4'))!;
      expect(issue.status).toBe('DONE');
      expect(issue.resolutionDate).toEqual(new Date('2026-03-10T14:45:00Z'));
      expect(issue.leadTimeMinutes).toBe(105);
      expect(await incidentOf('LT-4')).toEqual(incidentRowOf(issue, cid));
    });
  });

  describe('type changes', () => {
    it('a re-post that makes an issue an INCIDENT creates its incident rows', async () => {
      await postIssue(minimal('TC-1', { type: 'BUG', assigneeId: 'dev' }));
      expect(await incidentOf('TC-1')).toBeNull();
      const res = await postIssue(minimal('TC-1', { type: 'Incident', assigneeId: 'dev' }));
      expect(res.body.data.incidentId).toBe(`webhook:${cid}:TC-1`);
      const issue = (await issueOf('TC-1'))!;
      expect(await incidentOf('TC-1')).toEqual(incidentRowOf(issue, cid));
      expect(await repo(IncidentAssignee).countBy({ incidentId: issue.id })).toBe(1);
    });

    it('a re-post that changes the type away from INCIDENT removes the incident and its assignees', async () => {
      const res = await postIssue(minimal('TC-1', { type: 'bug', assigneeId: 'dev' }));
      expect(res.body.data).toMatchObject({ issueId: `webhook:${cid}:TC-1`, incidentId: null });
      expect(await incidentOf('TC-1')).toBeNull();
      expect(await repo(IncidentAssignee).countBy({ incidentId: `webhook:${cid}:TC-1` })).toBe(0);
      // The type as sent, as DevLake stores it.
      expect((await issueOf('TC-1'))!.type).toBe('bug');
      expect(await repo(IssueAssignee).countBy({ issueId: `webhook:${cid}:TC-1` })).toBe(1);
    });
  });

  describe('addressing', () => {
    it('posts and closes in all three addressing forms', async () => {
      const forms = [
        `${BASE}/${cid}`,
        `${BASE}/connections/${cid}`,
        `${BASE}/connections/by-name/${encodeURIComponent(CONNECTION_NAME)}`,
      ];
      for (const [i, prefix] of forms.entries()) {
        const key = `ADDR-${i}`;
        expect((await postIssue(minimal(key), prefix)).status).toBe(200);
        expect((await server.request.post(`${prefix}/issue/${key}/close`)).status).toBe(200);
        expect((await server.request.post(`${prefix}/issue/BOARD/${key}/close`)).status).toBe(200);
        expect((await server.request.post(`${prefix}/issue/close`).send({ issueKey: key })).status).toBe(200);
        expect((await issueOf(key))!.status).toBe('DONE');
      }
    });

    it("answers at DevLake's postIssuesEndpoint and closeIssuesEndpoint with the connection's API key", async () => {
      const rest = `/api/rest/plugins/webhook/connections/${cid}`;
      const posted = await server.request.post(`${rest}/issues`).auth(key, { type: 'bearer' }).send(minimal('REST-1'));
      expect(posted.status).toBe(200);
      const closed = await server.request.post(`${rest}/issue/REST-1/close`).auth(key, { type: 'bearer' });
      expect(closed.status).toBe(200);
      expect((await issueOf('REST-1'))!.status).toBe('DONE');
    });

    it('closes by body, with the key in either case form', async () => {
      await postIssue(minimal('BODY-1'));
      await postIssue(minimal('BODY-2'));
      const one = await server.request.post(`${BASE}/${cid}/issue/close`).send({ issueKey: 'BODY-1' });
      const two = await server.request
        .post(`${BASE}/${cid}/issue/close`)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('{"issue_key":"BODY-2"}');
      expect([one.status, two.status]).toEqual([200, 200]);
      expect((await issueOf('BODY-1'))!.status).toBe('DONE');
      expect((await issueOf('BODY-2'))!.status).toBe('DONE');
    });

    it('decodes keys with / and spaces in the close path, in both path forms', async () => {
      const key = 'OPS/incident 42';
      await postIssue(minimal(key));
      const res = await server.request.post(`${BASE}/${cid}/issue/${encodeURIComponent(key)}/close`);
      expect(res.status).toBe(200);
      expect(res.body.data.issueId).toBe(`webhook:${cid}:${key}`);
      expect((await issueOf(key))!.status).toBe('DONE');

      const other = 'team a/INC 7';
      await postIssue(minimal(other));
      const seedForm = await server.request.post(
        `${BASE}/${cid}/issue/${encodeURIComponent('my board')}/${encodeURIComponent(other)}/close`,
      );
      expect(seedForm.status).toBe(200);
      expect((await issueOf(other))!.status).toBe('DONE');
    });

    it('keeps connections apart: the same key in another connection is another issue', async () => {
      await postIssue(minimal('SHARED-1', { title: 'mine' }));
      await postIssue(minimal('SHARED-1', { title: 'theirs' }), `${BASE}/${otherCid}`);
      expect((await issueOf('SHARED-1'))!.title).toBe('mine');
      expect((await issueOf('SHARED-1', otherCid))!.title).toBe('theirs');
    });

    it('keys are case-sensitive; trailing spaces do not count (as on MySQL), on both databases', async () => {
      await postIssue(minimal('CASE-1', { title: 'upper' }));
      await postIssue(minimal('case-1', { title: 'lower' }));
      expect((await issueOf('CASE-1'))!.title).toBe('upper');
      expect((await issueOf('case-1'))!.title).toBe('lower');

      const padded = await postIssue(minimal('CASE-1  ', { title: 'padded' }));
      expect(padded.body.data.issueId).toBe(`webhook:${cid}:CASE-1`);
      expect(await issueOf('CASE-1')).toMatchObject({ issueKey: 'CASE-1', title: 'padded' });
      expect(await repo(Issue).countBy({ issueKey: 'CASE-1' })).toBe(1);
      expect((await server.request.post(`${BASE}/${cid}/issue/CASE-1%20/close`)).status).toBe(200);
    });

    it('answers 404 naming the key and the connection when closing an unknown issue', async () => {
      for (const call of [
        server.request.post(`${BASE}/${cid}/issue/NOPE-1/close`),
        server.request.post(`${BASE}/${cid}/issue/DLK/NOPE-1/close`),
        server.request.post(`${BASE}/${cid}/issue/close`).send({ issueKey: 'NOPE-1' }),
      ]) {
        const res = await call;
        expect(res.status).toBe(404);
        expect(res.body.success).toBe(false);
        expect(res.body.message).toContain('NOPE-1');
        expect(res.body.message).toContain(String(cid));
        expect(res.body.message).toContain(CONNECTION_NAME);
      }
    });
  });

  describe('rejections: 400 naming each field, nothing written', () => {
    const causesOf = async (body: object) => {
      const res = await postIssue(body);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      // A field may carry several causes (required, type...): the rule is which fields are named.
      return [...new Set((res.body.causes as { field: string }[]).map((c) => c.field))];
    };

    it('names every missing required field', async () => {
      expect((await causesOf({})).sort()).toEqual(['createdDate', 'issueKey', 'originalStatus', 'status', 'title']);
    });

    it('names status when it is not TODO, IN_PROGRESS or DONE', async () => {
      expect(await causesOf(minimal('REJ-1', { status: 'CLOSED' }))).toEqual(['status']);
    });

    it('names createdDate when its time-zone offset does not exist', async () => {
      expect(await causesOf(minimal('REJ-2', { createdDate: '2020-01-01T12:00:00+24:00' }))).toEqual(['createdDate']);
    });

    it('names each key whose webhook:<cid>: id would not fit 255 characters', async () => {
      const long = 'k'.repeat(250);
      expect(
        await causesOf(minimal(long, { creatorId: long, assigneeId: long, parentIssueKey: long, deploymentId: long })),
      ).toEqual(['issueKey', 'parentIssueKey', 'creatorId', 'assigneeId', 'deploymentId']);
      const close = await server.request.post(`${BASE}/${cid}/issue/close`).send({ issueKey: long });
      expect(close.status).toBe(400);
      expect(close.body.causes).toEqual([{ field: 'issueKey', message: expect.any(String) }]);
    });

    it("names fields longer than DevLake's columns", async () => {
      expect(
        await causesOf(
          minimal('REJ-5', { type: 't'.repeat(101), originalStatus: 's'.repeat(101), severity: 'x'.repeat(256) }),
        ),
      ).toEqual(['originalStatus', 'type', 'severity']);
    });

    it('names numbers that are not numbers or out of range', async () => {
      expect(
        await causesOf(minimal('REJ-6', { storyPoint: 'lots', leadTimeMinutes: -1, timeSpentMinutes: 'x' })),
      ).toEqual(['storyPoint', 'leadTimeMinutes', 'timeSpentMinutes']);
    });

    it('names issueKey when closing by body without it', async () => {
      const res = await server.request.post(`${BASE}/${cid}/issue/close`).set('Content-Type', 'application/json');
      expect(res.status).toBe(400);
      expect(res.body.causes).toContainEqual({ field: 'issueKey', message: 'issueKey is required' });
      expect(new Set(res.body.causes.map((c: { field: string }) => c.field))).toEqual(new Set(['issueKey']));
    });

    it('wrote nothing for the rejected payloads', async () => {
      const keys = ['REJ-1', 'REJ-2', 'REJ-5', 'REJ-6', 'k'.repeat(250)];
      for (const key of keys) expect(await issueOf(key)).toBeNull();
    });
  });

  describe('accepted as DevLake accepts them', () => {
    it('stores an issue resolved before it was created, and the answer says so', async () => {
      const res = await postIssue(minimal('SKEW-1', { resolutionDate: '2026-03-10T12:59:00Z' }));
      expect(res.status).toBe(200);
      expect(res.body.data.warnings).toEqual([
        { field: 'resolutionDate', message: expect.stringMatching(/before createdDate/) },
      ]);
      expect(await issueOf('SKEW-1')).toMatchObject({
        resolutionDate: new Date('2026-03-10T12:59:00Z'),
        leadTimeMinutes: 0,
      });
    });

    it('stores an issueKey of only spaces, as DevLake does, and closes it by the same key', async () => {
      const res = await postIssue(minimal('  ', { title: 'blank key' }));
      expect(res.status).toBe(200);
      expect(res.body.data.issueId).toBe(`webhook:${cid}:`);
      expect((await server.request.post(`${BASE}/${cid}/issue/%20%20/close`)).status).toBe(200);
      expect(await repo(Issue).findOneBy({ id: `webhook:${cid}:` })).toMatchObject({
        title: 'blank key',
        status: 'DONE',
      });
    });

    it('truncates fractions in whole-number fields (leadTimeMinutes 2.5 is 2), as DevLake does', async () => {
      const res = await postIssue(
        minimal('FRAC-1', { leadTimeMinutes: 2.5, timeSpentMinutes: 1.7, originalEstimateMinutes: '-3.9' }),
      );
      expect(res.status).toBe(200);
      expect(await issueOf('FRAC-1')).toMatchObject({
        leadTimeMinutes: 2,
        timeSpentMinutes: 1,
        originalEstimateMinutes: -3,
      });
    });

    it("answers 400 naming component when it is longer than DevLake's varchar(255)", async () => {
      const res = await postIssue(minimal('LONG-1', { component: 'c'.repeat(256) }));
      expect(res.status).toBe(400);
      expect(res.body.causes).toEqual([{ field: 'component', message: expect.stringMatching(/255/) }]);
      expect(await issueOf('LONG-1')).toBeNull();
    });
  });

  it('reads weak types and nulls as DevLake does; absent ids are empty as DevLake stores them, not "webhook:<cid>:"', async () => {
    const res = await postIssue({
      IssueKey: 'WEAK-1',
      TITLE: 123,
      status: ' done ',
      original_status: 'Closed',
      created_date: 1_767_225_600_000,
      storyPoint: '3.5',
      creatorId: null,
      assigneeId: '',
      parentIssueKey: null,
      leadTimeMinutes: null,
      senderOwnField: 'ignored',
    });
    expect(res.status).toBe(200);
    expect(await issueOf('WEAK-1')).toEqual(
      issueRow({
        id: `webhook:${cid}:WEAK-1`,
        issueKey: 'WEAK-1',
        title: '123',
        status: 'DONE',
        originalStatus: 'Closed',
        createdDate: new Date(1_767_225_600_000),
        storyPoint: 3.5,
      }),
    );
    expect(await repo(IssueAssignee).countBy({ issueId: `webhook:${cid}:WEAK-1` })).toBe(0);
  });
});
