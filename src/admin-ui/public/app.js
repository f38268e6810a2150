// The admin page: plain DOM, no framework. Data is always put in the page with textContent,
// never as HTML. The API key lives only in memory (and on screen) until the panel closes: it is
// never written to localStorage or sessionStorage.

import { el } from './dom.js';
import { loadDeliveries } from './deliveries.js';
import { loadSources } from './sources.js';

const body = document.body;
const API_BASE = body.dataset.apiBase || '/api/plugins/webhook';
const POST_BASE = body.dataset.postBase || '/api/rest/plugins/webhook';
const POLL_MS = 5000;
/** Webhooks per page of the list: a platform team may have thousands. */
const PAGE_SIZE = 50;
/** Typing pauses this long before the list is asked again. */
const SEARCH_DELAY_MS = 120;

const $ = (id) => document.getElementById(id);

const state = {
  connections: [],
  // The list's page: `GET /activity` answers one page, searched by name on the server.
  list: { offset: 0, total: 0, search: '', request: 0, searchTimer: null },
  selectedId: null,
  pollTimer: null,
  // From `GET /projects`: the projects, and each linked connection's project by connection id.
  projects: [],
  projectOf: new Map(),
  selectedProject: null,
  // Incidents of the selected webhook without a resolution date (the DORA card leaves them out).
  openIncidents: 0,
};

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, envelope) {
    super((envelope && envelope.message) || `the server answered ${status}`);
    this.status = status;
    this.causes = (envelope && envelope.causes) || [];
  }
}

async function api(method, path, payload) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (payload !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(payload);
  }
  let response;
  try {
    response = await fetch(`${API_BASE}${path}`, init);
  } catch {
    throw new ApiError(0, { message: 'the server cannot be reached: is it running?' });
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    if (response.status === 401) {
      throw new ApiError(401, { message: 'sign-in required: reload the page and enter the admin credentials' });
    }
    throw new ApiError(response.status, json);
  }
  return json;
}

// ---------------------------------------------------------------- small helpers

/** `1 incident`, `2 incidents`. */
function count(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function formatTime(value) {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

function ago(value) {
  if (!value) return '';
  const seconds = Math.round((Date.now() - new Date(value).getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function timeCell(value) {
  const cell = el('td', { 'data-label': 'Received' });
  if (!value) {
    cell.textContent = '—';
    return cell;
  }
  cell.append(el('time', { datetime: new Date(value).toISOString(), text: formatTime(value) }));
  return cell;
}

/** A repository URL (https or `git@host:owner/repo.git`) → `owner/repo`: the part a person recognises. */
export function shortRepo(url) {
  if (!url) return '';
  const text = String(url)
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  const match = /[/:]([^/:]+\/[^/:]+)$/.exec(text);
  return match ? match[1] : text;
}

/** Each deployed commit as repo, short sha and ref, one per line; the full sha on hover. */
function commitsCell(commits) {
  const cell = el('td', { 'data-label': 'What was deployed', class: 'commits' });
  if (commits.length === 0) {
    cell.textContent = '—';
    return cell;
  }
  for (const commit of commits) {
    cell.append(
      el(
        'span',
        { class: 'commit', 'data-commit-sha': commit.commitSha, title: `${commit.repoUrl || ''} ${commit.commitSha}` },
        el('span', { class: 'repo', text: shortRepo(commit.repoUrl) }),
        ' ',
        el('code', { class: 'sha', text: String(commit.commitSha).slice(0, 7) }),
        commit.refName ? el('span', { class: 'ref', text: ` on ${commit.refName}` }) : null,
      ),
    );
  }
  return cell;
}

function say(message, kind = 'info') {
  const status = $('status');
  status.textContent = message;
  status.dataset.kind = kind;
}

function showFieldError(input, errorNode, message) {
  errorNode.textContent = message || '';
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** The message for the `name` field from an API error, if it names that field. */
function nameErrorOf(error) {
  const cause = (error.causes || []).find((c) => c && c.field === 'name');
  if (!cause) return null;
  if (error.status === 409) return 'This name is already used by another webhook: choose another.';
  return `Name ${cause.message}.`;
}

async function copyText(text, button) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    // Plain http on another host is no secure context: the old way still copies.
    const area = el('textarea', { readonly: true, class: 'visually-hidden' });
    area.value = text;
    document.body.append(area);
    area.select();
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = ok ? 'Copied' : 'Select and copy by hand';
  setTimeout(() => {
    button.textContent = label;
  }, 2000);
}

// ---------------------------------------------------------------- curl commands

/** An ISO date a shell and DevLake both take as it is: seconds, UTC. */
function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Single quotes keep a shell from touching anything inside; a quote itself is closed and escaped. */
function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

/** The commands shown after "Create webhook": each works pasted into a shell as it is. */
export function buildCommands(origin, postBase, connectionId, key) {
  const base = `${origin}${postBase}/connections/${connectionId}`;
  const auth = key ? `-H ${shellQuote(`Authorization: Bearer ${key}`)}` : '-H "Authorization: Bearer $WEBHOOK_KEY"';
  const now = new Date();
  const started = new Date(now.getTime() - 10 * 60 * 1000);
  const json = (value) => shellQuote(JSON.stringify(value, null, 2));
  // Each command keeps its route and payload beside its text: "Try it" sends exactly these.
  const post = (path, payload) => ({
    path,
    payload,
    command: [`curl -sS -X POST ${shellQuote(`${base}${path}`)}`, auth, `-H 'Content-Type: application/json'`]
      .concat(payload === undefined ? [] : [`-d ${json(payload)}`])
      .join(' \\\n  '),
  });
  const sha = '015e3d3b480e417aede5a1293bd61de9b0fd051d';
  const repo = 'https://github.com/apache/incubator-devlake/';
  return [
    {
      id: 'deployment-seed',
      title: 'Deployment of one commit',
      ...post('/deployments', {
        commit_sha: sha,
        repo_url: repo,
        environment: 'PRODUCTION',
        start_time: isoSeconds(started),
        end_time: isoSeconds(now),
      }),
    },
    {
      id: 'deployment-v1',
      title: 'Deployment of several commits or repos',
      ...post('/deployments', {
        id: `deploy-${Math.floor(now.getTime() / 1000)}`,
        displayTitle: 'Release from my pipeline',
        result: 'SUCCESS',
        environment: 'PRODUCTION',
        startedDate: isoSeconds(started),
        finishedDate: isoSeconds(now),
        deploymentCommits: [{ repoUrl: repo, refName: 'main', commitSha: sha, commitMsg: 'the change deployed' }],
      }),
    },
    {
      id: 'issue',
      title: 'Issue (create or update)',
      ...post('/issues', {
        issueKey: 'DLK-1234',
        boardKey: 'DLK',
        title: 'A feature from DLK',
        type: 'REQUIREMENT',
        status: 'TODO',
        originalStatus: 'created',
        createdDate: isoSeconds(started),
      }),
    },
    {
      id: 'incident',
      title: 'Incident (an issue of type INCIDENT)',
      ...post('/issues', {
        issueKey: 'INC-1',
        boardKey: 'DLK',
        title: 'Checkout is down',
        type: 'INCIDENT',
        status: 'IN_PROGRESS',
        originalStatus: 'open',
        createdDate: isoSeconds(now),
      }),
    },
    {
      id: 'close-issue',
      title: 'Close an issue or incident',
      path: '/issue/DLK-1234/close',
      command: [`curl -sS -X POST ${shellQuote(`${base}/issue/DLK-1234/close`)}`, auth].join(' \\\n  '),
    },
  ];
}

// ---------------------------------------------------------------- try it (dry run)

/** `Would write: 1 row in cicd_deployments, 2 in cicd_deployment_commits.`, from a dry run's `data.rows`. */
export function dryRunSummary(rows) {
  const parts = Object.entries(rows && typeof rows === 'object' ? rows : {})
    .map(([table, list]) => [table, Array.isArray(list) ? list.length : 0])
    .filter(([, n]) => n > 0)
    .map(([table, n], index) => (index === 0 ? `${count(n, 'row')} in ${table}` : `${n} in ${table}`));
  return parts.length ? `Would write: ${parts.join(', ')}.` : 'Would write nothing.';
}

function causeText(cause) {
  if (!cause || typeof cause !== 'object') return String(cause);
  return cause.field ? `${cause.field}: ${cause.message}` : String(cause.message);
}

/**
 * Sends a command's own payload to its route with `?dryRun=true`. It goes through the admin API
 * with the page's credentials, which its ingestion routes accept, rather than the Bearer form
 * with the key: the key is not on the page when the panel was opened with "Commands", and a
 * key's use is recorded, which a dry run must not write.
 */
async function tryCommand(connectionId, item, button, output) {
  button.disabled = true;
  output.hidden = false;
  delete output.dataset.outcome;
  output.replaceChildren(el('p', { class: 'help', text: 'Sending a dry run…' }));
  let shown;
  try {
    const answer = await api('POST', `/connections/${connectionId}${item.path}?dryRun=true`, item.payload);
    const data = (answer && answer.data) || {};
    const warnings = Array.isArray(data.warnings) ? data.warnings : [];
    output.dataset.outcome = 'accepted';
    shown = [
      el('p', { class: 'try-summary', text: dryRunSummary(data.rows) }),
      el('p', { class: 'help', text: 'Dry run: checked as a real post would be; nothing was written.' }),
      warnings.length
        ? el('ul', { class: 'try-warnings' }, ...warnings.map((w) => el('li', { text: `Warning: ${causeText(w)}` })))
        : null,
      el(
        'details',
        {},
        el('summary', { text: 'The answer (JSON)' }),
        el('pre', { tabindex: '0' }, el('code', { text: JSON.stringify(answer, null, 2) })),
      ),
    ];
  } catch (error) {
    output.dataset.outcome = 'refused';
    shown = [
      el('p', {
        class: 'error',
        text: error.status ? `The server answered ${error.status}: ${error.message}` : error.message,
      }),
      error.causes.length
        ? el('ul', { class: 'try-causes' }, ...error.causes.map((c) => el('li', { text: causeText(c) })))
        : null,
    ];
  } finally {
    button.disabled = false;
  }
  output.replaceChildren(...shown.filter(Boolean));
}

function showKeyPanel(connection, key) {
  const panel = $('key-panel');
  $('key-title').textContent = `Commands for “${connection.name}” (id ${connection.id})`;
  $('key-once').hidden = !key;
  $('key-env-hint').hidden = Boolean(key);
  $('key-value').value = key || '';
  const list = $('commands');
  list.replaceChildren();
  for (const item of buildCommands(window.location.origin, POST_BASE, connection.id, key)) {
    const codeId = `command-${item.id}`;
    const copy = el('button', { type: 'button', class: 'copy', 'aria-describedby': `${codeId}-title` }, 'Copy');
    copy.addEventListener('click', () => copyText(item.command, copy));
    // Every ingestion route takes `?dryRun=true`: each command with a route can be tried.
    const output = el('div', { class: 'try-result', id: `${codeId}-try`, role: 'status', hidden: true });
    const tryIt = item.path
      ? el(
          'button',
          { type: 'button', class: 'try', 'aria-describedby': `${codeId}-title`, 'aria-controls': output.id },
          'Try it (dry run)',
        )
      : null;
    if (tryIt) tryIt.addEventListener('click', () => tryCommand(connection.id, item, tryIt, output));
    list.append(
      el(
        'figure',
        { class: 'command', 'data-command': item.id },
        el(
          'figcaption',
          {},
          el('span', { id: `${codeId}-title`, text: item.title }),
          el('span', { class: 'command-actions' }, tryIt, copy),
        ),
        el('pre', { tabindex: '0' }, el('code', { id: codeId, text: item.command })),
        output,
      ),
    );
  }
  panel.hidden = false;
  panel.scrollIntoView({ block: 'start' });
  $('key-title').setAttribute('tabindex', '-1');
  $('key-title').focus();
}

function closeKeyPanel() {
  // Forget the key: it was only ever in this input and the commands.
  $('key-value').value = '';
  $('commands').replaceChildren();
  $('key-panel').hidden = true;
}

// ---------------------------------------------------------------- list

function listPath() {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.list.offset) });
  if (state.list.search) query.set('search', state.list.search);
  return `/activity?${query}`;
}

async function loadList() {
  const request = ++state.list.request;
  const [answer, projects] = await Promise.all([api('GET', listPath()), api('GET', '/projects')]);
  // A later request (the user kept typing) has the newer answer: this one is dropped.
  if (request !== state.list.request) return;
  // The page emptied (its last webhook was deleted): show the one before.
  if (answer.connections.length === 0 && answer.total > 0 && state.list.offset > 0) {
    state.list.offset = Math.max(0, Math.floor((answer.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    return loadList();
  }
  state.connections = answer.connections;
  state.list.total = answer.total;
  state.projects = Array.isArray(projects) ? projects : [];
  state.projectOf = new Map(state.projects.flatMap((p) => p.connections.map((c) => [c.id, p.name])));
  renderList();
  renderProjects();
}

function actionButton(text, label, handler) {
  return el('button', { type: 'button', 'aria-label': label, onclick: handler }, text);
}

function renderPages() {
  const { offset, total, search } = state.list;
  const shown = state.connections.length;
  $('list-position').textContent =
    shown === 0 ? '' : `${offset + 1}–${offset + shown} of ${total}${search ? ` matching “${search}”` : ''}`;
  $('list-prev').disabled = offset === 0;
  $('list-next').disabled = offset + shown >= total;
  $('list-pages').hidden = total <= PAGE_SIZE && offset === 0 && !search;
}

function goToPage(direction) {
  state.list.offset = Math.max(0, state.list.offset + direction * PAGE_SIZE);
  refreshList();
}

function onSearch() {
  clearTimeout(state.list.searchTimer);
  state.list.searchTimer = setTimeout(() => {
    state.list.search = $('list-search').value.trim();
    state.list.offset = 0;
    refreshList();
  }, SEARCH_DELAY_MS);
}

function renderList() {
  const tbody = $('connections').querySelector('tbody');
  tbody.replaceChildren();
  const searching = state.list.search !== '';
  $('list-empty').textContent = searching
    ? `No webhook name contains “${state.list.search}”.`
    : 'No webhook yet: create one above.';
  $('list-empty').hidden = state.connections.length > 0;
  $('connections').hidden = state.connections.length === 0;
  renderPages();
  for (const c of state.connections) {
    const last = c.lastDataAt ? `${formatTime(c.lastDataAt)} (${ago(c.lastDataAt)})` : 'nothing yet';
    const row = el(
      'tr',
      { 'data-connection-id': c.id, class: c.id === state.selectedId ? 'selected' : undefined },
      el('th', { scope: 'row', 'data-label': 'Name', text: c.name }),
      el('td', { 'data-label': 'ID', class: 'wide-only', text: String(c.id) }),
      el('td', { 'data-label': 'Project', 'data-field': 'project', text: state.projectOf.get(c.id) || '—' }),
      el('td', { 'data-label': 'Created', class: 'wide-only', text: formatTime(c.createdAt) }),
      el('td', { 'data-label': 'Last data received', 'data-field': 'last', text: last }),
      el('td', {
        'data-label': 'Deployments',
        class: 'count',
        'data-field': 'deployments',
        text: String(c.deployments),
      }),
      el('td', { 'data-label': 'Issues', class: 'count', 'data-field': 'issues', text: String(c.issues) }),
      el('td', { 'data-label': 'Incidents', class: 'count', 'data-field': 'incidents', text: String(c.incidents) }),
      el(
        'td',
        { class: 'actions', 'data-label': 'Actions' },
        actionButton('What arrived', `What arrived at ${c.name}`, () => select(c.id)),
        actionButton('Commands', `Commands for ${c.name}`, () => showKeyPanel(c, null)),
        actionButton('Rename', `Rename ${c.name}`, () => openRename(c)),
        actionButton('Rotate key', `Rotate the key of ${c.name}`, () => confirmRotate(c)),
        // Apart from the harmless actions, and red: it cannot be undone.
        el(
          'span',
          { class: 'danger-zone' },
          el(
            'button',
            {
              type: 'button',
              class: 'danger-outline',
              'aria-label': `Delete ${c.name}`,
              onclick: () => confirmDelete(c),
            },
            'Delete',
          ),
        ),
      ),
    );
    tbody.append(row);
  }
}

async function refreshList() {
  try {
    await loadList();
  } catch (error) {
    say(`Could not load the webhooks: ${error.message}`, 'error');
  }
}

// ---------------------------------------------------------------- what arrived

async function select(id) {
  state.selectedId = id;
  renderList();
  $('detail').hidden = false;
  fillProjectForm();
  await loadDetail();
  $('detail').scrollIntoView({ block: 'start' });
  $('detail-title').setAttribute('tabindex', '-1');
  $('detail-title').focus();
  clearInterval(state.pollTimer);
  // While the panel is open, new posts show up by themselves: the user pastes curl and looks.
  state.pollTimer = setInterval(() => {
    if (document.visibilityState === 'visible') loadDetail().catch(() => undefined);
  }, POLL_MS);
}

function unselect() {
  state.selectedId = null;
  clearInterval(state.pollTimer);
  $('detail').hidden = true;
}

async function loadDetail() {
  const id = state.selectedId;
  if (id === null) return;
  const connection = state.connections.find((c) => c.id === id);
  let activity;
  try {
    activity = await api('GET', `/connections/${id}/activity`);
  } catch (error) {
    if (error.status === 404) {
      unselect();
      await refreshList();
      return;
    }
    say(`Could not load what arrived: ${error.message}`, 'error');
    return;
  }
  if (state.selectedId !== id) return;
  $('detail-title').textContent = `What arrived at “${connection ? connection.name : id}”`;
  const resolved = activity.resolvedIncidents ?? 0;
  $('detail-summary').textContent =
    `${count(activity.deployments, 'deployment')}, ${count(activity.issues, 'issue')} (incidents included), ` +
    `${count(activity.incidents, 'incident')}` +
    (activity.incidents ? ` (${activity.incidents - resolved} open, ${resolved} resolved)` : '') +
    '. Last data received: ' +
    (activity.lastDataAt ? `${formatTime(activity.lastDataAt)} (${ago(activity.lastDataAt)}).` : 'nothing yet.');
  state.openIncidents = activity.incidents - resolved;

  const deployments = $('arrived-deployments').querySelector('tbody');
  deployments.replaceChildren(
    ...activity.latestDeployments.map((d) =>
      el(
        'tr',
        { 'data-deployment-id': d.id },
        timeCell(d.receivedAt),
        commitsCell(d.commits || []),
        el('td', { 'data-label': 'Environment', text: d.environment || '—' }),
        el('td', { 'data-label': 'Result', text: d.result || '—', class: `result ${String(d.result).toLowerCase()}` }),
        el(
          'td',
          { 'data-label': 'Deployment' },
          d.displayTitle ? el('span', { class: 'title', text: d.displayTitle }) : null,
          el('span', { class: 'muted id', text: `id ${d.id}` }),
        ),
      ),
    ),
  );
  $('deployments-empty').hidden = activity.latestDeployments.length > 0;
  $('arrived-deployments').hidden = activity.latestDeployments.length === 0;

  const issues = $('arrived-issues').querySelector('tbody');
  issues.replaceChildren(
    ...activity.latestIssues.map((i) =>
      el(
        'tr',
        { 'data-issue-key': i.issueKey },
        timeCell(i.receivedAt),
        el('td', { 'data-label': 'Key', class: 'key', text: i.issueKey }),
        el('td', { 'data-label': 'Title', text: i.title || '' }),
        el('td', { 'data-label': 'Type', text: i.incident ? 'INCIDENT' : i.type || '—' }),
        el(
          'td',
          { 'data-label': 'Status' },
          i.status || '—',
          i.incident
            ? el('span', {
                class: `badge ${i.resolutionDate ? 'resolved' : 'open'}`,
                'data-incident-state': i.resolutionDate ? 'resolved' : 'open',
                text: i.resolutionDate ? `resolved ${formatTime(i.resolutionDate)}` : 'open: not resolved yet',
              })
            : null,
        ),
      ),
    ),
  );
  $('issues-empty').hidden = activity.latestIssues.length > 0;
  $('arrived-issues').hidden = activity.latestIssues.length === 0;

  // Keep the list's counts in step with what the panel shows.
  if (connection) {
    Object.assign(connection, {
      deployments: activity.deployments,
      issues: activity.issues,
      incidents: activity.incidents,
      lastDataAt: activity.lastDataAt,
    });
    renderList();
  }
  await Promise.all([loadDora(id), loadSources(api, API_BASE, id), loadDeliveries(api, id)]);
}

// ---------------------------------------------------------------- DORA (shown when the API has it)

const METRICS = [
  ['deploymentFrequency', 'Deployment frequency'],
  ['leadTimeForChanges', 'Lead time for changes'],
  ['changeFailureRate', 'Change failure rate'],
  ['recoveryTime', 'Failed deployment recovery time'],
];

/** Field names as a newcomer reads them; recovery time counts resolved incidents only. */
const FIELD_WORDS = { incidents: 'resolved incidents' };

function describeMetric(metric) {
  if (metric === null || metric === undefined) return 'no data';
  if (typeof metric !== 'object') return String(metric);
  const parts = [];
  for (const [name, value] of Object.entries(metric)) {
    if (name === 'level' || value === null || typeof value === 'object') continue;
    const shown = typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(2) : String(value);
    const words = FIELD_WORDS[name] || name.replace(/([A-Z])/g, ' $1').toLowerCase();
    parts.push(`${words}: ${shown}`);
    if (parts.length === 3) break;
  }
  return parts.join(' · ') || 'no data';
}

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function weeklyChart(weekly) {
  const width = 600;
  const height = 190;
  // Room on the left for the count axis and its title, below for the dates and theirs.
  const left = 44;
  const bottom = 40;
  const top = 10;
  const max = Math.max(1, ...weekly.map((w) => Math.max(w.deployments || 0, w.incidents || 0)));
  const slot = (width - left) / Math.max(1, weekly.length);
  const bar = Math.max(2, slot / 2 - 2);
  const base = height - bottom;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Deployments and incidents per week, ${weekly.length} weeks`,
    class: 'chart',
  });
  chart.append(svg('line', { x1: left, y1: base, x2: width, y2: base, class: 'axis' }));
  chart.append(svg('line', { x1: left, y1: top, x2: left, y2: base, class: 'axis' }));
  chart.append(svg('text', { x: left - 6, y: top + 8, class: 'tick', 'text-anchor': 'end' }, String(max)));
  chart.append(svg('text', { x: left - 6, y: base, class: 'tick', 'text-anchor': 'end' }, '0'));
  chart.append(
    svg(
      'text',
      {
        x: 12,
        y: (top + base) / 2,
        class: 'axis-title',
        'text-anchor': 'middle',
        transform: `rotate(-90 12 ${(top + base) / 2})`,
      },
      'count per week',
    ),
  );
  chart.append(
    svg(
      'text',
      { x: (left + width) / 2, y: height - 4, class: 'axis-title', 'text-anchor': 'middle' },
      'week starting (month-day)',
    ),
  );
  weekly.forEach((week, index) => {
    const x = left + index * slot;
    const scale = (value) => ((value || 0) / max) * (base - top);
    const dh = scale(week.deployments);
    const ih = scale(week.incidents);
    const d = svg('rect', { x, y: base - dh, width: bar, height: dh, class: 'bar-deployments' });
    d.append(svg('title', {}, `week of ${week.weekStart}: ${week.deployments || 0} deployments`));
    const i = svg('rect', { x: x + bar + 1, y: base - ih, width: bar, height: ih, class: 'bar-incidents' });
    i.append(svg('title', {}, `week of ${week.weekStart}: ${week.incidents || 0} incidents`));
    chart.append(d, i);
    if (weekly.length <= 12 || index % Math.ceil(weekly.length / 12) === 0) {
      chart.append(svg('text', { x, y: base + 14, class: 'tick' }, String(week.weekStart || '').slice(5, 10)));
    }
  });
  return chart;
}

/** A DORA answer (connection or project: the same shape), or null when the API has none. */
async function fetchDora(path) {
  const answer = await api('GET', path);
  const dora =
    answer && typeof answer === 'object' && answer.data && !answer.deploymentFrequency ? answer.data : answer;
  return dora && typeof dora === 'object' ? dora : null;
}

/**
 * Fills a DORA panel (a connection's or a project's: the same markup, found by class) with the
 * four metrics, their levels and the weekly chart; hides it when there is nothing to show.
 */
function renderDora(panel, dora) {
  if (!dora) {
    panel.hidden = true;
    return;
  }
  const day = (value) => String(value || '').slice(0, 10);
  panel.querySelector('.dora-window').textContent =
    dora.from && dora.to ? `From ${day(dora.from)} to ${day(dora.to)}, ${dora.benchmark || ''} benchmark.` : '';
  panel.querySelector('.dora-metrics').replaceChildren(
    ...METRICS.map(([key, title]) => {
      const metric = dora[key];
      const level = metric && typeof metric === 'object' && metric.level ? String(metric.level) : '—';
      return el(
        'div',
        { class: 'metric', 'data-metric': key },
        el('h4', { text: title }),
        el('p', { class: `level level-${level.toLowerCase()}`, text: level }),
        el('p', { class: 'help', text: describeMetric(metric) }),
      );
    }),
  );
  const weekly = Array.isArray(dora.weekly) ? dora.weekly : [];
  panel
    .querySelector('.dora-chart')
    .replaceChildren(
      ...(weekly.length
        ? [
            weeklyChart(weekly),
            el(
              'p',
              { class: 'legend' },
              el('span', { class: 'swatch deployments' }),
              ' deployments ',
              el('span', { class: 'swatch incidents' }),
              ' incidents (opened that week)',
            ),
          ]
        : []),
    );
  panel.hidden = false;
}

async function loadDora(id) {
  let dora;
  try {
    dora = await fetchDora(`/connections/${id}/dora`);
  } catch {
    dora = null;
  }
  if (state.selectedId !== id) return;
  renderDora($('dora'), dora);
  // The card counts resolved incidents only: say how many open ones it leaves out.
  const recovery = $('dora').querySelector('[data-metric="recoveryTime"]');
  if (recovery && state.openIncidents > 0) {
    recovery.append(
      el('p', {
        class: 'help open-incidents',
        text: `${count(state.openIncidents, 'open incident')} not counted yet: recovery time is measured once an incident is resolved.`,
      }),
    );
  }
}

// ---------------------------------------------------------------- projects

function renderProjects() {
  const tbody = $('projects').querySelector('tbody');
  $('projects-empty').hidden = state.projects.length > 0;
  $('projects').hidden = state.projects.length === 0;
  tbody.replaceChildren(
    ...state.projects.map((p) =>
      el(
        'tr',
        { 'data-project': p.name, class: p.name === state.selectedProject ? 'selected' : undefined },
        el('th', { scope: 'row', 'data-label': 'Project', text: p.name }),
        el('td', {
          'data-label': 'Webhooks',
          text: p.connections.length ? p.connections.map((c) => `${c.name} (id ${c.id})`).join(', ') : 'none',
        }),
        el(
          'td',
          { class: 'actions', 'data-label': 'Actions' },
          actionButton('DORA metrics', `DORA metrics of project ${p.name}`, () => selectProject(p.name)),
        ),
      ),
    ),
  );
  $('project-names').replaceChildren(...state.projects.map((p) => el('option', { value: p.name })));
  if (state.selectedProject !== null && !state.projects.some((p) => p.name === state.selectedProject)) {
    state.selectedProject = null;
    $('project-dora').hidden = true;
  }
}

async function selectProject(name) {
  state.selectedProject = name;
  renderProjects();
  await loadProjectDora();
  const title = $('project-dora-title');
  title.setAttribute('tabindex', '-1');
  title.focus();
}

async function loadProjectDora() {
  const name = state.selectedProject;
  if (name === null) return;
  let dora;
  try {
    dora = await fetchDora(`/projects/${encodeURIComponent(name)}/dora`);
  } catch (error) {
    say(`Could not load the metrics of project “${name}”: ${error.message}`, 'error');
    return;
  }
  if (state.selectedProject !== name) return;
  $('project-dora-title').textContent = `DORA metrics of project “${name}”`;
  renderDora($('project-dora'), dora);
}

/** The selected connection's project in the details: shown, and the field set to it. */
function fillProjectForm() {
  const current = state.projectOf.get(state.selectedId) || null;
  const input = $('project-name');
  input.value = current || '';
  showFieldError(input, $('project-error'), '');
  $('project-current').textContent = current ? `In project “${current}”.` : 'Not in a project.';
  $('project-unlink').hidden = !current;
}

async function setProject(projectName) {
  const id = state.selectedId;
  const input = $('project-name');
  const errorNode = $('project-error');
  if (id === null) return;
  try {
    const updated = await api('PATCH', `/connections/${id}`, { projectName });
    await refreshList();
    if (state.selectedId === id) fillProjectForm();
    say(
      updated.projectName
        ? `“${updated.name}” is now in project “${updated.projectName}”.`
        : `“${updated.name}” is no longer in a project.`,
    );
    // Unlinking hides the button that had the focus: keep the keyboard user in the form.
    if (!updated.projectName) input.focus();
    await loadProjectDora();
  } catch (error) {
    const cause = (error.causes || []).find((c) => c && c.field === 'projectName');
    showFieldError(input, errorNode, cause ? `Project name ${cause.message}.` : error.message);
    input.focus();
  }
}

async function onLinkProject(event) {
  event.preventDefault();
  const input = $('project-name');
  const projectName = input.value.trim();
  if (!projectName) {
    showFieldError(input, $('project-error'), 'Enter a project name.');
    input.focus();
    return;
  }
  showFieldError(input, $('project-error'), '');
  await setProject(projectName);
}

// ---------------------------------------------------------------- create, rename, rotate, delete

async function onCreate(event) {
  event.preventDefault();
  const input = $('new-name');
  const errorNode = $('new-name-error');
  const name = input.value.trim();
  if (!name) {
    showFieldError(input, errorNode, 'Enter a name.');
    input.focus();
    return;
  }
  showFieldError(input, errorNode, '');
  try {
    const created = await api('POST', '/connections', { name });
    input.value = '';
    say(`Webhook “${created.name}” created.`);
    await refreshList();
    showKeyPanel(created, created.apiKey && created.apiKey.apiKey);
  } catch (error) {
    const message = nameErrorOf(error);
    if (message) {
      showFieldError(input, errorNode, message);
      input.focus();
    } else say(`Could not create the webhook: ${error.message}`, 'error');
  }
}

let renaming = null;

function openRename(connection) {
  renaming = connection;
  const input = $('rename-name');
  input.value = connection.name;
  showFieldError(input, $('rename-name-error'), '');
  $('rename-dialog').showModal();
  input.select();
}

async function onRename(event) {
  event.preventDefault();
  const input = $('rename-name');
  const errorNode = $('rename-name-error');
  const name = input.value.trim();
  if (!name) {
    showFieldError(input, errorNode, 'Enter a name.');
    return;
  }
  try {
    const renamed = await api('PATCH', `/connections/${renaming.id}`, { name });
    $('rename-dialog').close();
    say(`Renamed to “${renamed.name}”.`);
    await refreshList();
    if (state.selectedId === renamed.id) await loadDetail();
  } catch (error) {
    const message = nameErrorOf(error);
    if (message) showFieldError(input, errorNode, message);
    else showFieldError(input, errorNode, error.message);
    input.focus();
  }
}

let confirmAction = null;

function openConfirm(title, paragraphs, yesLabel, action) {
  $('confirm-title').textContent = title;
  $('confirm-text').replaceChildren(...paragraphs.map((text) => el('p', { text })));
  $('confirm-yes').textContent = yesLabel;
  $('confirm-error').textContent = '';
  confirmAction = action;
  $('confirm-dialog').showModal();
}

async function onConfirm(event) {
  event.preventDefault();
  if (!confirmAction) return;
  try {
    await confirmAction();
    $('confirm-dialog').close();
  } catch (error) {
    $('confirm-error').textContent = error.message;
  }
}

function confirmRotate(connection) {
  openConfirm(
    `Rotate the key of “${connection.name}”?`,
    [
      'A new key is made and shown once. The current key stops working at once: every CI job or tracker that posts with it gets 401 until it uses the new key.',
    ],
    'Rotate key',
    async () => {
      const rotated = await api('POST', `/connections/${connection.id}/rotate-key`);
      say(`The key of “${rotated.name}” was rotated: the old key no longer works.`);
      showKeyPanel(rotated, rotated.apiKey && rotated.apiKey.apiKey);
    },
  );
}

async function confirmDelete(connection) {
  // Say what stays with today's numbers, not the list's: a post may have landed since.
  try {
    const now = await api('GET', `/connections/${connection.id}/activity?limit=1`);
    Object.assign(connection, { deployments: now.deployments, issues: now.issues, incidents: now.incidents });
  } catch {
    // The list's numbers will do.
  }
  openConfirm(
    `Delete “${connection.name}” (id ${connection.id})?`,
    [
      'This deletes the webhook connection and its API key: posts to its URLs will be refused from now on.',
      'The data it received stays in the database, as in DevLake: ' +
        `${count(connection.deployments, 'deployment')}, ${count(connection.issues, 'issue')} and ` +
        `${count(connection.incidents, 'incident')}.`,
    ],
    'Delete webhook',
    async () => {
      await api('DELETE', `/connections/${connection.id}`);
      say(`Webhook “${connection.name}” deleted.`);
      if (state.selectedId === connection.id) unselect();
      if (!$('key-panel').hidden && $('key-title').textContent.includes(`(id ${connection.id})`)) closeKeyPanel();
      await refreshList();
    },
  );
}

// ---------------------------------------------------------------- wiring

$('create-form').addEventListener('submit', onCreate);
$('rename-form').addEventListener('submit', onRename);
$('project-form').addEventListener('submit', onLinkProject);
$('project-unlink').addEventListener('click', () => setProject(null));
$('projects-refresh').addEventListener('click', async () => {
  await refreshList();
  await loadProjectDora();
});
$('project-dora-refresh').addEventListener('click', loadProjectDora);
$('confirm-form').addEventListener('submit', onConfirm);
$('key-close').addEventListener('click', closeKeyPanel);
$('list-refresh').addEventListener('click', refreshList);
$('list-search').addEventListener('input', onSearch);
$('list-prev').addEventListener('click', () => goToPage(-1));
$('list-next').addEventListener('click', () => goToPage(1));
$('detail-refresh').addEventListener('click', async () => {
  await refreshList();
  fillProjectForm();
  await loadDetail();
});
$('key-panel').addEventListener('click', (event) => {
  const button = event.target.closest('[data-copy-from]');
  if (button) copyText($(button.dataset.copyFrom).value, button);
});
for (const button of document.querySelectorAll('dialog [data-close]')) {
  button.addEventListener('click', () => button.closest('dialog').close());
}

refreshList();
