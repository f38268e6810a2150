// The baseline of the ingestion bench: the best a hand-written server could do. Express +
// mysql2, the same routes, and per request the same rows written with the same SQL text
// (what TypeORM sends for the plugin, statement for statement) in one transaction, retried on a
// deadlock as the plugin's is; but no validation, no authentication, no connection lookup.
// Whatever the plugin costs beyond this is the price of its checks and its layers.
//
// Environment: DB_URL (mysql://...), PORT (0 = any), CONNECTION_NAME (the board's name, which
// the plugin reads from the connection row), POOL_SIZE (10, TypeORM's default here).
import { createHash } from 'node:crypto';
import express from 'express';
import mysql from 'mysql2/promise';

const RAW = ['_raw_data_params', '_raw_data_table', '_raw_data_id', '_raw_data_remark'];

/**
 * An upsert as TypeORM's `insert().orUpdate()` writes it on MySQL: `columns` in order (a name
 * in `defaults` is written `DEFAULT`), one tuple per row, then `ON DUPLICATE KEY UPDATE` of
 * `update`.
 */
function upsertSql(table, columns, defaults, update, rowCount) {
  const tuple = `(${columns.map((c) => (defaults.includes(c) ? 'DEFAULT' : '?')).join(', ')})`;
  return (
    `INSERT INTO \`${table}\`(${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ` +
    Array.from({ length: rowCount }, () => tuple).join(', ') +
    ` ON DUPLICATE KEY UPDATE ${update.map((c) => `\`${c}\` = VALUES(\`${c}\`)`).join(', ')}`
  );
}

/** A table's upsert: every column but the key and those kept is overwritten (src/db/upsert.ts). */
function table(name, columns, { key, keep = ['created_at'], defaults = [] }) {
  const all = ['created_at', 'updated_at', ...RAW, ...columns];
  const update = all.filter((c) => !key.includes(c) && !keep.includes(c));
  const defaulted = [...RAW, ...defaults];
  const sqlByCount = new Map();
  return {
    sql(rowCount) {
      if (!sqlByCount.has(rowCount)) sqlByCount.set(rowCount, upsertSql(name, all, defaulted, update, rowCount));
      return sqlByCount.get(rowCount);
    },
    /** The parameters of `rows` (objects keyed by column), in statement order. */
    params(rows) {
      return rows.flatMap((row) => all.filter((c) => !defaulted.includes(c)).map((c) => row[c] ?? null));
    },
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
  ['id', 'cicd_scope_id', 'name', 'display_title', 'url', ...DEPLOYMENT_STATE, 'subtask_name'],
  { key: ['id'] },
);
const deploymentCommits = table(
  'cicd_deployment_commits',
  [
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
  { key: ['id', 'commit_sha'] },
);
const boards = table('boards', ['id', 'name', 'description', 'url', 'created_date', 'type'], {
  key: ['id'],
  keep: ['created_at', 'description', 'url', 'created_date', 'type'],
  defaults: ['description', 'url', 'created_date', 'type'],
});
/** The board only has to exist: INSERT IGNORE, as src/db/upsert.ts `insertMissingRows` writes it. */
const boardInsertSql = boards
  .sql(1)
  .replace(/^INSERT INTO/, 'INSERT IGNORE INTO')
  .replace(/ ON DUPLICATE KEY UPDATE .*$/, '');
const issues = table(
  'issues',
  [
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
  { key: ['id'] },
);
const boardIssues = table('board_issues', ['board_id', 'issue_id'], { key: ['board_id', 'issue_id'] });
const issueAssignees = table('issue_assignees', ['issue_id', 'assignee_id', 'assignee_name'], {
  key: ['issue_id', 'assignee_id'],
});
const incidents = table(
  'incidents',
  [
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
  { key: ['id'] },
);
const incidentAssignees = table('incident_assignees', ['incident_id', 'assignee_id', 'assignee_name'], {
  key: ['incident_id', 'assignee_id'],
});

const md5 = (text) => createHash('md5').update(text, 'utf8').digest('hex');
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const dateOf = (value) => (value === undefined || value === null ? null : new Date(value));
const durationSec = (started, finished) =>
  started ? Math.trunc((finished.getTime() - started.getTime()) / 1000) : null;

/** The id the plugin derives for a deployment sent without one (src/deployments/deployment-ids.ts). */
function derivedId(environment, started, commits) {
  const pairs = commits.map((c) => [c.repoUrl, c.commitSha]);
  pairs.sort(([ua, sa], [ub, sb]) => (ua < ub ? -1 : ua > ub ? 1 : sa < sb ? -1 : sa > sb ? 1 : 0));
  return sha256(JSON.stringify([environment, started ? started.toISOString() : '', pairs])).slice(0, 32);
}

/** The rows of one deployment: trusts the body entirely (both forms the bench sends). */
function deploymentRows(cid, b, receivedAt) {
  const commits = b.deploymentCommits ?? [
    { commitSha: b.commit_sha, repoUrl: b.repo_url, refName: b.ref_name, commitMsg: b.commit_msg },
  ];
  const environment = String(b.environment ?? 'PRODUCTION').toUpperCase();
  const started = dateOf(b.startedDate ?? b.start_time);
  const finished = dateOf(b.finishedDate ?? b.end_time) ?? receivedAt;
  const created = dateOf(b.createdDate ?? b.create_time) ?? started ?? finished;
  const result = b.result ?? 'SUCCESS';
  const id = b.id ?? derivedId(environment, started, commits);
  const rowId = `webhook:${cid}:${id}`;
  const now = new Date();
  const state = {
    created_at: now,
    updated_at: now,
    result: result.toUpperCase(),
    status: 'DONE',
    original_status: 'DONE',
    original_result: result,
    environment,
    original_environment: environment,
    created_date: created,
    queued_date: null,
    started_date: started,
    finished_date: finished,
    duration_sec: durationSec(started, finished),
    queued_duration_sec: null,
  };
  const deployment = {
    ...state,
    id: rowId,
    cicd_scope_id: `webhook:${cid}`,
    name: b.name ?? `deploy ${commits.map((c) => c.commitSha).join(',')} to ${environment}`,
    display_title: b.displayTitle ?? '',
    url: b.url ?? '',
    subtask_name: '',
  };
  const commitRows = commits.map((c) => ({
    ...state,
    id: `${rowId}:${md5(c.repoUrl).slice(0, 16)}:${c.commitSha}`,
    commit_sha: c.commitSha,
    cicd_scope_id: `webhook:${cid}`,
    cicd_deployment_id: rowId,
    name: `deployment for ${c.commitSha}`,
    display_title: deployment.display_title,
    url: deployment.url,
    commit_msg: c.commitMsg ?? '',
    ref_name: c.refName ?? '',
    repo_id: '',
    repo_url: c.repoUrl,
    prev_success_deployment_commit_id: '',
    subtask_name: '',
  }));
  return { id, deployment, commits: commitRows };
}

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/**
 * One transaction on a pooled connection, retried on a deadlock as the plugin's
 * `withTransaction` does (src/db/transaction.ts): concurrent upserts make InnoDB roll one back,
 * and a baseline that answered 500 instead would be doing less work, not better work.
 */
async function inTransaction(pool, work, attempts = 5) {
  for (let attempt = 1; ; attempt += 1) {
    const connection = await pool.getConnection();
    try {
      // The minimal durable write: START TRANSACTION, the rows, COMMIT (the session's own
      // isolation level, no SET TRANSACTION).
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
    await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
  }
}

const SUMMARY_INSERT = `INSERT INTO _tool_webhook_deployment_summaries
    (cicd_deployment_id, cicd_scope_id, finished_date, started_date, ref_low, ref_high)
  SELECT c.cicd_deployment_id, MIN(c.cicd_scope_id), MAX(c.finished_date),
         MIN(COALESCE(c.started_date, c.finished_date)), MIN(c.ref_name), MAX(c.ref_name)
    FROM cicd_deployment_commits c
   WHERE c.environment = 'PRODUCTION' AND c.result = 'SUCCESS' AND c.finished_date IS NOT NULL
     AND c.cicd_deployment_id IN (?) GROUP BY c.cicd_deployment_id`;

async function recordDeployment(pool, cid, body) {
  const rows = deploymentRows(cid, body, new Date());
  const commitIds = rows.commits.map((c) => c.id);
  await inTransaction(pool, async (db) => {
    await db.query(deployments.sql(1), deployments.params([rows.deployment]));
    // First-seen deployments (the bench posts new ids): nothing stale to delete.
    await db.query(deploymentCommits.sql(rows.commits.length), deploymentCommits.params(rows.commits));
    // The deployment summary DORA reads (src/deployments/deployment-summary.ts), same SQL.
    await db.query('DELETE FROM `_tool_webhook_deployment_summaries` WHERE `cicd_deployment_id` IN (?)', [
      rows.deployment.id,
    ]);
    await db.query(SUMMARY_INSERT, [rows.deployment.id]);
  });
  return { deploymentId: rows.deployment.id, id: rows.id, commitIds };
}

async function saveIssue(pool, cid, connectionName, b) {
  const scope = `webhook:${cid}`;
  const prefixed = (key) => (key === undefined || key === null ? null : `${scope}:${key}`);
  const key = b.issue_key ?? b.issueKey;
  const id = prefixed(key);
  const now = new Date();
  const stamps = { created_at: now, updated_at: now };
  const sentType = b.type ?? null;
  const type = sentType === null ? null : sentType.trim().toUpperCase();
  const issue = {
    ...stamps,
    id,
    url: b.url ?? null,
    icon_url: null,
    issue_key: key,
    title: b.title,
    description: b.description ?? null,
    epic_key: b.epic_key ?? null,
    type,
    original_type: sentType,
    status: b.status,
    original_status: b.original_status,
    story_point: b.story_point ?? null,
    resolution_date: dateOf(b.resolution_date),
    created_date: dateOf(b.created_date),
    updated_date: dateOf(b.updated_date),
    lead_time_minutes: b.lead_time_minutes ?? null,
    original_estimate_minutes: null,
    time_spent_minutes: null,
    time_remaining_minutes: null,
    creator_id: prefixed(b.creator_id),
    creator_name: b.creator_name ?? null,
    assignee_id: prefixed(b.assignee_id),
    assignee_name: b.assignee_name ?? null,
    parent_issue_id: prefixed(b.parent_issue_key),
    priority: b.priority ?? null,
    severity: null,
    urgency: null,
    component: null,
    original_project: b.board_key ?? null,
    is_subtask: null,
    due_date: null,
    fix_versions: null,
  };
  const incident = type === 'INCIDENT';
  const assignee = { ...stamps, assignee_id: issue.assignee_id, assignee_name: issue.assignee_name };
  await inTransaction(pool, async (db) => {
    // The board is created once per process; first-seen issues have nothing stale to delete.
    if (!boardsMade.has(scope)) {
      await db.query(boardInsertSql, boards.params([{ ...stamps, id: scope, name: connectionName }]));
      boardsMade.add(scope);
    }
    await db.query(issues.sql(1), issues.params([issue]));
    await db.query(boardIssues.sql(1), boardIssues.params([{ ...stamps, board_id: scope, issue_id: id }]));
    if (issue.assignee_id)
      await db.query(issueAssignees.sql(1), issueAssignees.params([{ ...assignee, issue_id: id }]));
    if (incident) {
      const row = {
        ...issue,
        incident_key: issue.issue_key,
        parent_incident_id: issue.parent_issue_id,
        table: 'boards',
        scope_id: scope,
      };
      await db.query(incidents.sql(1), incidents.params([row]));
      if (issue.assignee_id) {
        await db.query(incidentAssignees.sql(1), incidentAssignees.params([{ ...assignee, incident_id: id }]));
      }
    }
  });
  return { issueId: id, incidentId: incident ? id : null };
}

const boardsMade = new Set();

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
