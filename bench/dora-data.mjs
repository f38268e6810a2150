// History for the DORA-at-scale figures, written straight into the tables with bulk inserts
// (the ingestion API would take minutes for 100k deployments). Per deployment i: one commit
// row; one deployment in ten is to STAGING and one in twenty failed (neither counts); each counted
// deployment has its summary row and one merged pull request whose merge commit it deploys, with
// the lead-time row the plugin derives for it (attributed by its merge commit: no other deployment
// names that commit; the bench checks these rows against the plugin's own rebuild); one deployment
// in ten is followed by an incident, half of which name the deployment. Times are spread over
// three years before `now` by a golden-ratio sequence, so that any prefix 0..N is evenly spread
// too: growing 1k -> 10k -> 100k keeps the same span and makes the history denser, as years of a
// busy organisation do.

const SPAN_MS = 3 * 365 * 86_400_000;
const GOLDEN = 0.6180339887498949;
const HOUR = 3_600_000;

const hex40 = (i) => i.toString(16).padStart(12, '0').padStart(40, 'b');

/**
 * The rows of deployments [from, to) of connection `cid`, as column lists and value arrays,
 * finishing within `spanMs` before `now` (three years by default; the in-window figures use 80
 * days, so that every deployment falls in the default 90-day window).
 */
export function doraRows(cid, from, to, now, spanMs = SPAN_MS) {
  const scope = `webhook:${cid}`;
  const deployments = [];
  const commits = [];
  const pullRequests = [];
  const incidents = [];
  const links = [];
  const summaries = [];
  const leadTimes = [];
  for (let i = from; i < to; i += 1) {
    const finished = new Date(now - 60_000 - Math.floor(((i * GOLDEN) % 1) * spanMs));
    const started = new Date(finished.getTime() - 600_000);
    const environment = i % 10 === 9 ? 'STAGING' : 'PRODUCTION';
    const result = i % 20 === 7 ? 'FAILURE' : 'SUCCESS';
    const id = `${scope}:dora-${i}`;
    const sha = hex40(i);
    const state = [result, 'DONE', 'DONE', result, environment, environment, started, started, finished, 600];
    deployments.push([id, scope, `deploy ${sha}`, ...state, finished, finished]);
    commits.push([`${id}:0123456789abcdef:${sha}`, sha, scope, id, `deployment for ${sha}`, ...state]);
    commits[commits.length - 1].push('https://github.com/example/app', 'main', finished, finished);
    // The deployment summary, as the plugin writes it with each counted deployment.
    const counted = environment === 'PRODUCTION' && result === 'SUCCESS';
    if (counted) summaries.push([id, scope, finished, started, 'main', 'main']);
    if (counted) {
      const merged = new Date(finished.getTime() - ((i % 48) + 1) * HOUR);
      const opened = new Date(merged.getTime() - ((i % 5) + 1) * 24 * HOUR);
      const pr = `${scope}:pr-${i}`;
      pullRequests.push([pr, scope, scope, 'MERGED', 'merged', `change ${i}`, sha, opened, merged, merged]);
      const minutes = Math.ceil((finished - opened) / 60_000);
      leadTimes.push([pr, scope, opened, merged, id, finished, 'mergeCommit', minutes]);
    }
    if (i % 10 === 3) {
      const created = new Date(finished.getTime() + HOUR);
      const resolved = new Date(created.getTime() + ((i % 7) + 1) * HOUR);
      const incidentId = `${scope}:INC-${i}`;
      const lead = Math.round((resolved - created) / 60_000);
      incidents.push([
        incidentId,
        scope,
        'boards',
        `INC-${i}`,
        `incident ${i}`,
        'DONE',
        'closed',
        created,
        resolved,
        lead,
      ]);
      if (i % 20 === 3) links.push([incidentId, `dora-${i}`, id]);
    }
  }
  const stamps = ['created_at', 'updated_at'];
  const stateColumns = [
    'result',
    'status',
    'original_status',
    'original_result',
    'environment',
    'original_environment',
    'created_date',
    'started_date',
    'finished_date',
    'duration_sec',
  ];
  return [
    {
      table: 'cicd_deployments',
      columns: ['id', 'cicd_scope_id', 'name', ...stateColumns, ...stamps],
      rows: deployments,
    },
    {
      table: 'cicd_deployment_commits',
      columns: ['id', 'commit_sha', 'cicd_scope_id', 'cicd_deployment_id', 'name', ...stateColumns].concat(
        ['repo_url', 'ref_name'],
        stamps,
      ),
      rows: commits,
    },
    {
      table: 'pull_requests',
      columns: ['id', 'base_repo_id', 'head_repo_id', 'status', 'original_status', 'title', 'merge_commit_sha'].concat([
        'created_date',
        'merged_date',
        'closed_date',
      ]),
      rows: pullRequests,
    },
    {
      table: 'incidents',
      columns: ['id', 'scope_id', 'table', 'incident_key', 'title', 'status', 'original_status', 'created_date'].concat(
        ['resolution_date', 'lead_time_minutes'],
      ),
      rows: incidents,
    },
    {
      table: '_tool_webhook_deployment_summaries',
      columns: ['cicd_deployment_id', 'cicd_scope_id', 'finished_date', 'started_date', 'ref_low', 'ref_high'],
      rows: summaries,
    },
    {
      table: '_tool_webhook_pull_request_lead_times',
      columns: [
        'pull_request_id',
        'repo_id',
        'created_date',
        'merged_date',
        'cicd_deployment_id',
        'deployed_date',
        'attributed_by',
        'lead_time_minutes',
      ],
      rows: leadTimes,
    },
    {
      table: '_tool_webhook_incident_deployments',
      columns: ['issue_id', 'deployment_key', 'cicd_deployment_id'],
      rows: links,
    },
  ];
}

const CHUNK = 1000;

/** Bulk insert on MariaDB: multi-row INSERTs of 1000 rows (mysql2 expands `VALUES ?`). */
export async function insertMysql(db, batches) {
  for (const { table, columns, rows } of batches) {
    const sql = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`;
    for (let start = 0; start < rows.length; start += CHUNK) await db.query(sql, [rows.slice(start, start + CHUNK)]);
  }
}

/** SQLite stores datetime(3) as UTC text, `YYYY-MM-DD HH:MM:SS.sss`, as TypeORM writes it. */
const sqliteValue = (value) => (value instanceof Date ? value.toISOString().replace('T', ' ').replace('Z', '') : value);

/** Bulk insert on SQLite: one prepared statement, one transaction. */
export function insertSqlite(db, batches) {
  db.transaction(() => {
    for (const { table, columns, rows } of batches) {
      const statement = db.prepare(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      for (const row of rows) statement.run(row.map(sqliteValue));
    }
  })();
}

/**
 * Bulk insert on PostgreSQL: multi-row INSERTs with numbered parameters, in chunks that stay
 * under the protocol's 65535 parameters per statement, then fresh planner statistics.
 */
export async function insertPostgres(client, batches) {
  for (const { table, columns, rows } of batches) {
    const chunk = Math.floor(60_000 / columns.length);
    for (let start = 0; start < rows.length; start += chunk) {
      const slice = rows.slice(start, start + chunk);
      const values = slice
        .map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`)
        .join(', ');
      await client.query(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${values}`,
        slice.flat(),
      );
    }
  }
  // What autovacuum does within a minute of a bulk load: without statistics the planner takes
  // the fresh tables for empty and joins pull requests to commits by a full scan (10 s at 10k).
  await client.query(`ANALYZE ${batches.map(({ table }) => `"${table}"`).join(', ')}`);
}

/**
 * `count` webhook connections named `hook-<firstName, 5 digits>`…, from id `firstId`, each with `deploymentsEach`
 * deployments (one commit row each) and one issue: the admin list's data.
 */
export function activityRows(firstId, count, deploymentsEach, now, firstName = 0) {
  const connections = [];
  const deployments = [];
  const issues = [];
  for (let n = 0; n < count; n += 1) {
    const cid = firstId + n;
    const scope = `webhook:${cid}`;
    const at = new Date(now - n * 60_000);
    connections.push([cid, `hook-${String(firstName + n).padStart(5, '0')}`, at, at]);
    for (let k = 0; k < deploymentsEach; k += 1) {
      const finished = new Date(at.getTime() - k * HOUR);
      deployments.push([
        `${scope}:a-${k}`,
        scope,
        `deploy ${k}`,
        'SUCCESS',
        'PRODUCTION',
        finished,
        finished,
        finished,
      ]);
    }
    issues.push([`${scope}:ISSUE-1`, 'ISSUE-1', 'issue', 'TODO', at, at]);
  }
  return [
    { table: '_tool_webhook_connections', columns: ['id', 'name', 'created_at', 'updated_at'], rows: connections },
    {
      table: 'cicd_deployments',
      columns: ['id', 'cicd_scope_id', 'name', 'result', 'environment', 'finished_date', 'created_at', 'updated_at'],
      rows: deployments,
    },
    { table: 'issues', columns: ['id', 'issue_key', 'title', 'status', 'created_at', 'updated_at'], rows: issues },
  ];
}
