// The baseline of the ingestion bench: the least work a hand-written server could do to store
// the rows the plugin stores and answer what it answers. Express + mysql2, the same routes, and
// per request the same rows written with the same SQL text as the plugin's upserts
// (src/db/upsert.ts, src/db/dialect.ts) in one transaction, retried on a deadlock as the
// plugin's is; but no validation, no authentication, no connection lookup, no event log, no
// checks (so no warnings), and none of the plugin's work after the commit (DevLake's DORA tables).
//
// It trusts the body: it reads the fields the bench sends (bench/payloads.mjs), in the spellings
// it sends them, and applies the plugin's rules for what is stored when a field is absent. Its
// `checkEquivalence` (bench/run.mjs, `node bench/run.mjs --equivalence-only`) posts one body of
// each kind to both servers and requires identical rows and answers.
//
// Statements: a deployment is START TRANSACTION, its row, its commit rows (one statement), its
// summary row, COMMIT; an issue is START TRANSACTION, the issue, its board_issues row, its
// assignee, for an INCIDENT the incident and its assignee, COMMIT (and the board once per
// process). A re-post in the bench lists the same commits and assignees as before, so the same
// statements store the same rows: nothing is stale, and nothing is deleted (the plugin, which
// cannot know that, removes what a re-post no longer lists).
//
// Environment: DB_URL (mysql://...), PORT (0 = any), CONNECTION_NAME (the board's name, which
// the plugin reads from the connection row), POOL_SIZE (10, TypeORM's default here).
import { createHash } from 'node:crypto';
import express from 'express';
import mysql from 'mysql2/promise';

/** DevLake's common columns, first in every statement as in the plugin's entities. */
const COMMON = ['created_at', 'updated_at', '_raw_data_params', '_raw_data_table', '_raw_data_id', '_raw_data_remark'];
/** The `_raw_data_*` columns as DevLake's webhook leaves them (no raw table: this server keeps no event log). */
const NO_RAW_DATA = { _raw_data_params: '', _raw_data_table: '', _raw_data_id: 0, _raw_data_remark: '' };

const quote = (name) => `\`${name}\``;

/**
 * A table's statements as the plugin's MySQL dialect writes them: an upsert overwriting every
 * column but the key and `created_at`, and an INSERT IGNORE; the SQL per row count built once.
 */
function table(name, columns, key) {
  const names = columns.map(quote).join(', ');
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const overwrite = columns.filter((c) => !key.includes(c) && c !== 'created_at');
  const tail = ` ON DUPLICATE KEY UPDATE ${overwrite.map((c) => `${quote(c)} = VALUES(${quote(c)})`).join(', ')}`;
  const cached = new Map();
  const statement = (verb, rows, end) => {
    const id = `${verb}${rows}`;
    if (!cached.has(id)) {
      cached.set(id, `${verb} ${quote(name)} (${names}) VALUES ${Array(rows).fill(tuple).join(', ')}${end}`);
    }
    return cached.get(id);
  };
  const params = (rows) => rows.flatMap((row) => columns.map((c) => row[c] ?? null));
  return {
    /** Upserts `rows` (objects keyed by column; absent = NULL) on `db`. */
    upsert: (db, rows) => db.query(statement('INSERT INTO', rows.length, tail), params(rows)),
    insertIgnore: (db, rows) => db.query(statement('INSERT IGNORE INTO', rows.length, ''), params(rows)),
  };
}

const DEPLOYMENT_STATE = [
  'result',
  'status',
  'original_status',
  'original_result',
  'environment',
  'original_environment',
  'created_date',
  'queued_date',
  'started_date',
  'finished_date',
  'duration_sec',
  'queued_duration_sec',
];
const deployments = table(
  'cicd_deployments',
  [...COMMON, 'id', 'cicd_scope_id', 'name', 'display_title', 'url', ...DEPLOYMENT_STATE, 'subtask_name'],
  ['id'],
);
const deploymentCommits = table(
  'cicd_deployment_commits',
  [
    ...COMMON,
    'id',
    'commit_sha',
    'cicd_scope_id',
    'cicd_deployment_id',
    'name',
    'display_title',
    'url',
    ...DEPLOYMENT_STATE,
    'commit_msg',
    'ref_name',
    'repo_id',
    'repo_url',
    'prev_success_deployment_commit_id',
    'subtask_name',
  ],
  ['id', 'commit_sha'],
);
const summaries = table(
  '_tool_webhook_deployment_summaries',
  ['cicd_deployment_id', 'cicd_scope_id', 'finished_date', 'started_date', 'ref_low', 'ref_high'],
  ['cicd_deployment_id'],
);
const boards = table('boards', [...COMMON, 'id', 'name', 'description', 'url', 'created_date', 'type'], ['id']);
const issues = table(
  'issues',
  [
    ...COMMON,
    'id',
    'url',
    'icon_url',
    'issue_key',
    'title',
    'description',
    'epic_key',
    'type',
    'original_type',
    'status',
    'original_status',
    'story_point',
    'resolution_date',
    'created_date',
    'updated_date',
    'lead_time_minutes',
    'original_estimate_minutes',
    'time_spent_minutes',
    'time_remaining_minutes',
    'creator_id',
    'creator_name',
    'assignee_id',
    'assignee_name',
    'parent_issue_id',
    'priority',
    'severity',
    'urgency',
    'component',
    'original_project',
    'is_subtask',
    'due_date',
    'fix_versions',
  ],
  ['id'],
);
const boardIssues = table('board_issues', [...COMMON, 'board_id', 'issue_id'], ['board_id', 'issue_id']);
const issueAssignees = table(
  'issue_assignees',
  [...COMMON, 'issue_id', 'assignee_id', 'assignee_name'],
  ['issue_id', 'assignee_id'],
);
const incidents = table(
  'incidents',
  [
    ...COMMON,
    'id',
    'url',
    'incident_key',
    'title',
    'description',
    'status',
    'original_status',
    'resolution_date',
    'created_date',
    'updated_date',
    'lead_time_minutes',
    'original_estimate_minutes',
    'time_spent_minutes',
    'time_remaining_minutes',
    'creator_id',
    'creator_name',
    'parent_incident_id',
    'priority',
    'severity',
    'urgency',
    'component',
    'original_project',
    'table',
    'scope_id',
    'assignee_id',
    'assignee_name',
  ],
  ['id'],
);
const incidentAssignees = table(
  'incident_assignees',
  [...COMMON, 'incident_id', 'assignee_id', 'assignee_name'],
  ['incident_id', 'assignee_id'],
);

const md5 = (text) => createHash('md5').update(text, 'utf8').digest('hex');
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The dates of a body, read under the first of `names` it uses, for the rows and for the answer's
 * `dates` (each date sent, under the sender's name, as an ISO instant, in the plugin's field order).
 */
function readDates(body, fields) {
  const values = {};
  const dates = {};
  for (const [field, names] of Object.entries(fields)) {
    const name = names.find((n) => body[n] !== undefined && body[n] !== null);
    values[field] = name === undefined ? null : new Date(body[name]);
    if (name !== undefined) dates[name] = values[field].toISOString();
  }
  return { values, dates };
}

/** The id the plugin derives for a deployment sent without one (src/deployments/deployment-ids.ts). */
function derivedId(environment, started, commits) {
  const pairs = commits.map((c) => [c.repoUrl, c.commitSha]);
  pairs.sort(([ua, sa], [ub, sb]) => (ua < ub ? -1 : ua > ub ? 1 : sa < sb ? -1 : sa > sb ? 1 : 0));
  return sha256(JSON.stringify([environment, started ? started.toISOString() : '', pairs])).slice(0, 32);
}

const DEPLOYMENT_DATES = {
  created: ['createdDate', 'create_time'],
  started: ['startedDate', 'start_time'],
  finished: ['finishedDate', 'end_time'],
};

/**
 * The rows of one deployment, by the plugin's rules (src/deployments/deployment.service.ts
 * `buildDeploymentRows`) for the fields the bench sends, in both forms.
 */
function deploymentRows(cid, b, receivedAt) {
  const commits = b.deploymentCommits ?? [
    { commitSha: b.commit_sha, repoUrl: b.repo_url, refName: b.ref_name, commitMsg: b.commit_msg },
  ];
  const { values, dates } = readDates(b, DEPLOYMENT_DATES);
  const environment = String(b.environment ?? 'PRODUCTION').toUpperCase();
  const started = values.started;
  const finished = values.finished ?? receivedAt;
  const duration = started ? Math.trunc((finished.getTime() - started.getTime()) / 1000) || 0 : null;
  const originalResult = b.result ?? 'SUCCESS';
  const id = b.id ?? derivedId(environment, started, commits);
  const rowId = `webhook:${cid}:${id}`;
  const scope = `webhook:${cid}`;
  const url = b.url ?? '';
  const now = new Date();
  const state = {
    created_at: now,
    updated_at: now,
    ...NO_RAW_DATA,
    result: originalResult.toUpperCase(),
    original_result: originalResult,
    environment,
    original_environment: b.originalEnvironment ?? b.original_environment ?? '',
    created_date: values.created ?? started ?? finished,
    queued_date: null,
    started_date: started,
    finished_date: finished,
    duration_sec: duration,
    queued_duration_sec: null,
  };
  const commitRows = commits.map((c) => ({
    ...state,
    id: `${rowId}:${md5(c.repoUrl).slice(0, 16)}:${c.commitSha}`,
    commit_sha: c.commitSha,
    cicd_scope_id: scope,
    cicd_deployment_id: rowId,
    name: `deployment for ${c.commitSha}`,
    display_title: c.displayTitle ?? '',
    url,
    status: c.status ?? 'DONE',
    original_status: c.status ?? 'DONE',
    commit_msg: c.commitMsg ?? '',
    ref_name: c.refName ?? '',
    repo_id: '',
    repo_url: c.repoUrl,
    prev_success_deployment_commit_id: '',
    subtask_name: '',
  }));
  const deployment = {
    ...state,
    id: rowId,
    cicd_scope_id: scope,
    name: b.name ?? `deploy ${commits.map((c) => c.commitSha).join(',')} to ${environment}`,
    display_title: b.displayTitle ?? '',
    url,
    // The first commit's, as DevLake's.
    status: commitRows[0].status,
    original_status: commitRows[0].original_status,
    subtask_name: '',
  };
  return { id, deployment, commits: commitRows, dates };
}

/**
 * The deployment's summary row (src/deployments/deployment-summary.ts `summaryRowsOf`) from its
 * commit rows: the ones SUCCESS in PRODUCTION with a finish, or none.
 */
function summaryRow(commits) {
  const counted = commits.filter((c) => c.environment === 'PRODUCTION' && c.result === 'SUCCESS' && c.finished_date);
  if (counted.length === 0) return undefined;
  const refs = counted.map((c) => c.ref_name).sort();
  return {
    cicd_deployment_id: counted[0].cicd_deployment_id,
    cicd_scope_id: counted[0].cicd_scope_id,
    finished_date: new Date(Math.max(...counted.map((c) => c.finished_date.getTime()))),
    started_date: new Date(Math.min(...counted.map((c) => (c.started_date ?? c.finished_date).getTime()))),
    ref_low: refs[0],
    ref_high: refs[refs.length - 1],
  };
}

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/**
 * One transaction on a pooled connection, retried on a deadlock as the plugin's
 * `withTransaction` does (src/db/transaction.ts): concurrent upserts make InnoDB roll one back,
 * and a baseline that answered 500 instead would be doing less work, not better work.
 */
async function inTransaction(pool, work, attempts = 8) {
  for (let attempt = 1; ; attempt += 1) {
    const connection = await pool.getConnection();
    try {
      // The minimal durable write: START TRANSACTION, the rows, COMMIT (the session's own
      // isolation level, no SET TRANSACTION), as the plugin's.
      await connection.query('START TRANSACTION');
      const result = await work(connection);
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      if (attempt >= attempts || !RETRYABLE.has(error?.code)) throw error;
    } finally {
      connection.release();
    }
    const pauseMs = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

async function recordDeployment(pool, cid, body) {
  const rows = deploymentRows(cid, body, new Date());
  const summary = summaryRow(rows.commits);
  await inTransaction(pool, async (db) => {
    await deployments.upsert(db, [rows.deployment]);
    await deploymentCommits.upsert(db, rows.commits);
    if (summary) await summaries.upsert(db, [summary]);
  });
  return {
    deploymentId: rows.deployment.id,
    id: rows.id,
    commitIds: rows.commits.map((c) => c.id),
    dates: rows.dates,
    warnings: [],
  };
}

const ISSUE_DATES = {
  created: ['created_date'],
  resolved: ['resolution_date'],
  updated: ['updated_date'],
};

/** Boards this process wrote: the board only has to exist, so it is inserted once. */
const boardsMade = new Set();

/** The rows of one issue, by the plugin's rules (src/issues/issue.service.ts `plan`) for the fields the bench sends. */
async function saveIssue(pool, cid, connectionName, b) {
  const scope = `webhook:${cid}`;
  const prefixed = (key) => (key === undefined || key === null ? '' : `${scope}:${key}`);
  const key = b.issue_key;
  const id = prefixed(key);
  const { values, dates } = readDates(b, ISSUE_DATES);
  const now = new Date();
  const stamps = { created_at: now, updated_at: now, ...NO_RAW_DATA };
  const type = b.type ?? '';
  const leadTime =
    b.lead_time_minutes ||
    (values.created && values.resolved
      ? Math.max(0, Math.floor((values.resolved.getTime() - values.created.getTime()) / 60_000))
      : (b.lead_time_minutes ?? 0));
  const issue = {
    ...stamps,
    id,
    url: b.url ?? '',
    icon_url: '',
    issue_key: key,
    title: b.title,
    description: b.description ?? '',
    epic_key: b.epic_key ?? '',
    type,
    original_type: '',
    status: b.status,
    original_status: b.original_status,
    story_point: b.story_point ?? 0,
    resolution_date: values.resolved,
    created_date: values.created,
    updated_date: values.updated,
    lead_time_minutes: leadTime,
    original_estimate_minutes: b.original_estimate_minutes ?? 0,
    time_spent_minutes: b.time_spent_minutes ?? 0,
    time_remaining_minutes: b.time_remaining_minutes ?? 0,
    creator_id: prefixed(b.creator_id),
    creator_name: b.creator_name ?? '',
    assignee_id: prefixed(b.assignee_id),
    assignee_name: b.assignee_name ?? '',
    parent_issue_id: prefixed(b.parent_issue_key),
    priority: b.priority ?? '',
    severity: b.severity ?? '',
    urgency: b.urgency ?? '',
    component: b.component ?? '',
    original_project: b.board_key ?? '',
    is_subtask: false,
    due_date: null,
    fix_versions: '',
  };
  const incident = type.trim().toUpperCase() === 'INCIDENT';
  const assignee = { ...stamps, assignee_id: issue.assignee_id, assignee_name: issue.assignee_name };
  const board = { ...stamps, id: scope, name: connectionName, description: '', url: '', created_date: null, type: '' };
  await inTransaction(pool, async (db) => {
    if (!boardsMade.has(scope)) await boards.insertIgnore(db, [board]);
    await issues.upsert(db, [issue]);
    await boardIssues.upsert(db, [{ ...stamps, board_id: scope, issue_id: id }]);
    if (issue.assignee_id) await issueAssignees.upsert(db, [{ ...assignee, issue_id: id }]);
    if (incident) {
      const { issue_key: incidentKey, parent_issue_id: parent, ...same } = issue;
      await incidents.upsert(db, [
        { ...same, incident_key: incidentKey, parent_incident_id: parent, table: 'boards', scope_id: scope },
      ]);
      if (issue.assignee_id) await incidentAssignees.upsert(db, [{ ...assignee, incident_id: id }]);
    }
  });
  boardsMade.add(scope);
  return { issueId: id, incidentId: incident ? id : null, dates, warnings: [] };
}

const envelope = (data) => ({ code: 0, success: true, message: 'success', causes: null, data });

function createBaselineApp(pool, connectionName) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ type: () => true, limit: '1mb' }));
  const prefix = '/api/plugins/webhook/connections/:connectionId';
  app.post(`${prefix}/deployments`, async (req, res) => {
    res.json(envelope(await recordDeployment(pool, Number(req.params.connectionId), req.body)));
  });
  app.post(`${prefix}/issues`, async (req, res) => {
    res.json(envelope(await saveIssue(pool, Number(req.params.connectionId), connectionName, req.body)));
  });
  app.use((error, _req, res, _next) => {
    process.stderr.write(`baseline: ${error?.code ?? ''} ${error?.message ?? error}\n`);
    res.status(500).json({ code: 500, success: false, message: String(error?.message ?? error) });
  });
  return app;
}

async function main() {
  const pool = mysql.createPool({
    uri: process.env.DB_URL,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    connectionLimit: Number(process.env.POOL_SIZE || 10),
    queueLimit: 200,
    enableKeepAlive: true,
  });
  const app = createBaselineApp(pool, process.env.CONNECTION_NAME ?? 'bench');
  const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    process.stdout.write(`baseline listening on http://127.0.0.1:${server.address().port}\n`);
  });
  server.keepAliveTimeout = 5_000;
  const stop = () => server.close(() => pool.end().finally(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`baseline: ${error.stack ?? error}\n`);
  process.exit(1);
});
