import { exec } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { WebhookConnection } from '../src/connections/connection.entity';
import { CicdDeployment } from '../src/deployments/deployment.entity';
import { Issue } from '../src/issues/issue.entity';
import { launchBrowser } from './helpers/browser';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const run = promisify(exec);

const SHOTS = path.join(__dirname, '..', 'test-output', 'admin-ui');
const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const NAME = 'ci-production';

/** The JSON a shown curl command sends: what its `-d '...'` quotes (the examples hold no quote). */
function payloadOf(command: string): unknown {
  const start = command.indexOf("-d '");
  return JSON.parse(command.slice(start + 4, command.lastIndexOf("'")));
}

/** Rows a connection has in a DevLake table, counted in the database itself. */
async function rowsOf(server: TestServer, table: string, connectionId: number): Promise<number> {
  const [row] = await runSql<{ n: number }[]>(
    server.db.dataSource,
    `SELECT COUNT(*) AS n FROM ${table} WHERE cicd_scope_id = ?`,
    [`webhook:${connectionId}`],
  );
  return Number(row.n);
}

/** Runs a command exactly as the page shows it, in a shell, and reads DevLake's answer. */
async function runInShell(command: string): Promise<{ status: string; body: { success?: boolean } }> {
  // `-w` appends the status on its own line; everything before it is the body.
  const { stdout } = await run(`${command} -w '\\n%{http_code}'`, { shell: '/bin/sh', timeout: 15_000 });
  const lines = stdout.trimEnd().split('\n');
  const status = lines.pop() ?? '';
  return { status, body: JSON.parse(lines.join('\n') || 'null') };
}

describe('admin page in a real browser', () => {
  let server: TestServer;
  let http: Server;
  let origin: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let connectionId: number;
  let firstKey: string;

  const shot = async (name: string) => {
    for (const [label, size] of [
      ['laptop', LAPTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(SHOTS, `${name}-${label}.png`), fullPage: true });
    }
    await page.setViewportSize(LAPTOP);
  };

  const rowOf = (name: string) =>
    page.locator('#connections tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({ encryptionSecret: 'browser-secret' });
    http = await new Promise<Server>((resolve) => {
      const listening = server.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    profile = mkdtempSync(path.join(tmpdir(), 'dlw-chromium-'));
    context = await launchBrowser(profile, { viewport: LAPTOP });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${origin}/`);
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await server?.close();
  });

  it('shows an empty list with a labelled name field on first visit', async () => {
    await page.locator('#list-empty').waitFor();
    expect(await page.getByLabel('Name', { exact: true }).count()).toBe(1);
    await shot('01-empty');
  });

  it('creates a webhook by name and shows its key once, with a warning and copyable commands', async () => {
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.locator('#key-once').waitFor();
    expect(await page.locator('#key-once').textContent()).toContain('will not be shown again');
    firstKey = await page.getByLabel('API key').inputValue();
    expect(firstKey).toMatch(/^[A-Za-z0-9]{128}$/);
    connectionId = (await server.db.dataSource.getRepository(WebhookConnection).findOneByOrFail({ name: NAME })).id;

    const commands = await page
      .locator('[data-command]')
      .evaluateAll((nodes) =>
        nodes.map((n) => ({ id: n.getAttribute('data-command'), text: n.querySelector('code')?.textContent ?? '' })),
      );
    expect(commands.map((c) => c.id)).toEqual(['deployment-seed', 'deployment-v1', 'issue', 'incident', 'close-issue']);
    for (const { text } of commands) {
      expect(text).toContain(`'Authorization: Bearer ${firstKey}'`);
      expect(text).toContain(`'${origin}/api/rest/plugins/webhook/connections/${connectionId}/`);
    }
    expect(await page.locator('[data-command] button', { hasText: 'Copy' }).count()).toBe(5);
    await rowOf(NAME).waitFor();
    await shot('02-created-key-shown');
  });

  it('never keeps the key in the browser storage', async () => {
    const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
    expect(stored).toBe('[{},{}]');
  });

  it('the deployment curl works pasted into a shell, and the deployment shows in "what arrived" and the database', async () => {
    const seedForm = (await page.locator('[data-command="deployment-seed"] code').textContent()) ?? '';
    const answer = await runInShell(seedForm);
    expect(answer.status).toBe('200');
    expect(answer.body.success).toBe(true);

    const rows = await server.db.dataSource
      .getRepository(CicdDeployment)
      .findBy({ cicdScopeId: `webhook:${connectionId}` });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ environment: 'PRODUCTION', result: 'SUCCESS' });

    await rowOf(NAME)
      .getByRole('button', { name: `What arrived at ${NAME}` })
      .click();
    const arrived = page.locator('#arrived-deployments tbody tr');
    await arrived.first().waitFor();
    expect(await arrived.count()).toBe(1);
    expect(await arrived.first().textContent()).toContain('PRODUCTION');
    expect(await arrived.first().textContent()).toContain('SUCCESS');
    expect(await arrived.first().getAttribute('data-deployment-id')).toBe(rows[0].id.split(':').slice(2).join(':'));
    await page.locator('#connections [data-field="deployments"]', { hasText: '1' }).waitFor();
  });

  it('the v1.0 deployment, issue, incident and close commands work as shown too', async () => {
    for (const id of ['deployment-v1', 'issue', 'incident', 'close-issue']) {
      const command = (await page.locator(`[data-command="${id}"] code`).textContent()) ?? '';
      const answer = await runInShell(command);
      expect({ id, status: answer.status, success: answer.body.success }).toEqual({ id, status: '200', success: true });
    }
    const issue = await server.db.dataSource
      .getRepository(Issue)
      .findOneByOrFail({ id: `webhook:${connectionId}:DLK-1234` });
    expect(issue.status).toBe('DONE');

    await page.locator('#key-close').click();
    await page.locator('#detail-refresh').click();
    await page.locator('#arrived-deployments tbody tr').nth(1).waitFor();
    await page.locator('#arrived-issues tbody tr[data-issue-key="INC-1"]', { hasText: 'INCIDENT' }).waitFor();
    await page.locator('#arrived-issues tbody tr[data-issue-key="DLK-1234"]', { hasText: 'DONE' }).waitFor();
    expect(await rowOf(NAME).locator('[data-field="incidents"]').textContent()).toBe('1');
    expect(await rowOf(NAME).locator('[data-field="last"]').textContent()).not.toBe('nothing yet');
    await shot('03-what-arrived');
  });

  it('names the two deployment commands by what they send: one commit, or several commits or repos', async () => {
    await rowOf(NAME)
      .getByRole('button', { name: `Commands for ${NAME}` })
      .click();
    const caption = (id: string) => page.locator(`[data-command="${id}"] figcaption`).textContent();
    expect(await caption('deployment-seed')).toContain('Deployment of one commit');
    expect(await caption('deployment-v1')).toContain('Deployment of several commits or repos');
    const panel = (await page.locator('#key-panel').textContent()) ?? '';
    expect(panel).not.toMatch(/v0\.14|v1\.0|seed/);
    await page.locator('#key-close').click();
  });

  it('shows each deployment as a person knows it: repo, short sha and ref, environment, result', async () => {
    const deployments = page.locator('#arrived-deployments tbody tr');
    const texts = await deployments.allTextContents();
    // The v1.0 command deploys commit 015e3d3 of apache/incubator-devlake on main.
    expect(texts.some((t) => /apache\/incubator-devlake 015e3d3 on main/.test(t))).toBe(true);
    expect(texts.every((t) => t.includes('PRODUCTION') && t.includes('SUCCESS'))).toBe(true);
    const header = await page.locator('#arrived-deployments thead').textContent();
    expect(header).toContain('What was deployed');
    const shaTitle = await deployments.first().locator('[data-commit-sha]').first().getAttribute('title');
    expect(shaTitle).toContain('015e3d3b480e417aede5a1293bd61de9b0fd051d');
  });

  it('tells open incidents from resolved ones, and says the DORA card counts only resolved ones', async () => {
    const incident = page.locator('#arrived-issues tbody tr[data-issue-key="INC-1"]');
    expect(await incident.locator('[data-incident-state]').getAttribute('data-incident-state')).toBe('open');
    expect(await incident.textContent()).toContain('Checkout is down');
    expect(await page.locator('#detail-summary').textContent()).toContain('1 incident (1 open, 0 resolved)');
    const recovery = page.locator('#dora [data-metric="recoveryTime"]');
    await recovery.locator('.open-incidents').waitFor();
    expect(await recovery.textContent()).toContain('resolved incidents: 0');
    expect(await recovery.locator('.open-incidents').textContent()).toContain('1 open incident not counted yet');

    const closed = await server.request
      .post(`/api/plugins/webhook/connections/${connectionId}/issue/INC-1/close`)
      .send({});
    expect(closed.status).toBe(200);
    await page.locator('#detail-refresh').click();
    await incident.locator('[data-incident-state="resolved"]').waitFor();
    expect(await page.locator('#detail-summary').textContent()).toContain('1 incident (0 open, 1 resolved)');
    // The DORA card reloads on its own request after the list: its note of open incidents goes.
    await recovery.locator('.open-incidents').waitFor({ state: 'detached' });
    expect(await recovery.locator('.open-incidents').count()).toBe(0);
  });

  it("labels the weekly chart's axes", async () => {
    const chart = page.locator('#dora svg.chart');
    const titles = await chart.locator('.axis-title').allTextContents();
    expect(titles).toEqual(['count per week', 'week starting (month-day)']);
    expect(await chart.locator('line.axis').count()).toBe(2);
    await page.locator('#dora').scrollIntoViewIfNeeded();
    await shot('03b-incidents-and-chart');
  });

  it('keeps Delete apart from the harmless actions, in red', async () => {
    const row = rowOf(NAME);
    const remove = row.getByRole('button', { name: `Delete ${NAME}` });
    expect(await remove.evaluate((node) => node.parentElement?.className)).toBe('danger-zone');
    expect(await remove.evaluate((node) => getComputedStyle(node).color)).toBe('rgb(179, 38, 30)');
    // A gap and a rule between the last harmless action and Delete.
    const zone = await remove.evaluate((node) => {
      const style = getComputedStyle(node.parentElement as Element);
      return { gap: parseFloat(style.marginLeft) + parseFloat(style.paddingLeft), rule: style.borderLeftStyle };
    });
    expect(zone.gap).toBeGreaterThanOrEqual(16);
    expect(zone.rule).toBe('solid');
  });

  it('has a favicon', async () => {
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const icon = await page.request.get(new URL(href ?? '', page.url()).toString());
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toContain('image/svg+xml');
  });

  it('shows a duplicate name as an error next to the name field', async () => {
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const error = page.locator('#new-name-error');
    await error.filter({ hasText: 'already used' }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#key-panel').isHidden()).toBe(true);
    await page.getByLabel('Name', { exact: true }).scrollIntoViewIfNeeded();
    await shot('04-duplicate-name');
  });

  it('renames a webhook, and refuses a taken name next to the field', async () => {
    await page.getByLabel('Name', { exact: true }).fill('other-team');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.locator('#key-once').waitFor();
    await page.locator('#key-close').click();

    await rowOf(NAME)
      .getByRole('button', { name: `Rename ${NAME}` })
      .click();
    await page.getByLabel('New name').fill('other-team');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#rename-name-error', { hasText: 'already used' }).waitFor();
    await shot('05-rename-taken');

    await page.getByLabel('New name').fill('ci-prod');
    await page.keyboard.press('Enter');
    await rowOf('ci-prod').waitFor();
    expect(await page.locator('#rename-dialog').isVisible()).toBe(false);
    const renamed = await server.db.dataSource.getRepository(WebhookConnection).findOneByOrFail({ id: connectionId });
    expect(renamed.name).toBe('ci-prod');
  });

  it('rotates the key: the new one is shown once and works, the old one then gets 401', async () => {
    await rowOf('ci-prod').getByRole('button', { name: 'Rotate the key of ci-prod' }).click();
    expect(await page.locator('#confirm-text').textContent()).toContain('stops working');
    await page.getByRole('button', { name: 'Rotate key', exact: true }).click();
    await page.locator('#key-once').waitFor();
    const newKey = await page.getByLabel('API key').inputValue();
    expect(newKey).toMatch(/^[A-Za-z0-9]{128}$/);
    expect(newKey).not.toBe(firstKey);

    const command = (await page.locator('[data-command="deployment-seed"] code').textContent()) ?? '';
    expect((await runInShell(command)).status).toBe('200');
    const withOldKey = await runInShell(command.replace(newKey, firstKey));
    expect(withOldKey.status).toBe('401');
    expect(withOldKey.body.success).toBe(false);
    await shot('06-rotated');
  });

  it('deletes after a confirmation that says what is deleted and what stays', async () => {
    await page.locator('#key-close').click();
    await rowOf('ci-prod').getByRole('button', { name: 'Delete ci-prod' }).click();
    await page.getByRole('heading', { name: 'Delete “ci-prod” (id' }).waitFor();
    const text = (await page.locator('#confirm-text').textContent()) ?? '';
    expect(text).toContain('its API key');
    expect(text).toContain('stays in the database');
    const deployments = await server.db.dataSource
      .getRepository(CicdDeployment)
      .countBy({ cicdScopeId: `webhook:${connectionId}` });
    expect(text).toContain(`${deployments} deployments, 2 issues and 1 incident.`);
    await shot('07-delete-confirm');
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    await rowOf('ci-prod').waitFor({ state: 'detached' });
    expect(await server.db.dataSource.getRepository(WebhookConnection).findOneBy({ id: connectionId })).toBeNull();
    // The data it received stays, as in DevLake.
    expect(
      await server.db.dataSource.getRepository(CicdDeployment).countBy({ cicdScopeId: `webhook:${connectionId}` }),
    ).toBe(deployments);
    expect(await page.locator('#detail').isHidden()).toBe(true);
  });

  it('lists five webhooks on a phone in a compact page', async () => {
    for (const name of ['team-a', 'team-b', 'team-c', 'team-d']) await createConnection(server, name);
    await page.goto(`${origin}/`);
    await rowOf('team-d').waitFor();
    expect(await page.locator('#connections tbody tr').count()).toBe(5);
    await page.setViewportSize(PHONE);
    const list = await page.locator('#connections').boundingBox();
    // Each webhook is a short card: name, project, last data, the three counts on one line, actions.
    expect(list!.height / 5).toBeLessThan(300);
    expect(await page.locator('#connections tbody td.wide-only').first().isVisible()).toBe(false);
    await page.setViewportSize(LAPTOP);
    await shot('09-five-webhooks');
  });

  it('reaches every control of the create form from the keyboard', async () => {
    await page.goto(`${origin}/`);
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    const reached: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || ''));
    }
    expect(reached).toEqual(expect.arrayContaining(['new-name', 'Create webhook']));
  });

  describe('projects', () => {
    const HOOK = 'payments-ci';
    const PROJECT = 'Payments';
    let hook: { id: number; key: string };

    const projectRow = (name: string) =>
      page.locator('#projects tbody tr', { has: page.getByRole('rowheader', { name, exact: true }) });

    it('links a webhook to a project from its details, refuses an empty name next to the field, and lists it', async () => {
      hook = await createConnection(server, HOOK);
      await page.goto(`${origin}/`);
      await rowOf(HOOK)
        .getByRole('button', { name: `What arrived at ${HOOK}` })
        .click();
      expect(await page.locator('#project-current').textContent()).toBe('Not in a project.');

      await page.getByRole('button', { name: 'Link to project' }).click();
      await page.locator('#project-error', { hasText: 'Enter a project name.' }).waitFor();
      const field = page.getByLabel('Project', { exact: true });
      expect(await field.getAttribute('aria-invalid')).toBe('true');

      await field.fill(PROJECT);
      await page.keyboard.press('Enter');
      await rowOf(HOOK).locator('[data-field="project"]', { hasText: PROJECT }).waitFor();
      expect(await page.locator('#project-current').textContent()).toBe(`In project “${PROJECT}”.`);
      expect(await field.getAttribute('aria-invalid')).toBeNull();
      const saved = await server.request.get(`/api/plugins/webhook/connections/${hook.id}`);
      expect(saved.body.projectName).toBe(PROJECT);
      expect(await projectRow(PROJECT).textContent()).toContain(`${HOOK} (id ${hook.id})`);
    });

    it("shows the project's four metrics with levels and its weekly chart, counting a deployment posted over HTTP", async () => {
      const now = new Date();
      const posted = await server.request
        .post(`/api/rest/plugins/webhook/connections/${hook.id}/deployments`)
        .set('Authorization', `Bearer ${hook.key}`)
        .send({
          id: 'release-42',
          result: 'SUCCESS',
          environment: 'PRODUCTION',
          startedDate: new Date(now.getTime() - 600_000).toISOString(),
          finishedDate: now.toISOString(),
          deploymentCommits: [{ repoUrl: 'https://example.com/pay', refName: 'main', commitSha: 'a'.repeat(40) }],
        });
      expect(posted.status).toBe(200);
      const dora = (await server.request.get(`/api/plugins/webhook/projects/${PROJECT}/dora`)).body;
      expect(dora.deploymentFrequency.deployments).toBe(1);

      await projectRow(PROJECT)
        .getByRole('button', { name: `DORA metrics of project ${PROJECT}` })
        .click();
      const panel = page.locator('#project-dora');
      await panel.getByRole('heading', { name: `DORA metrics of project “${PROJECT}”` }).waitFor();
      // The title takes the focus: a keyboard user lands on what they asked for.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('project-dora-title');
      expect(await panel.locator('.metric h4').allTextContents()).toEqual([
        'Deployment frequency',
        'Lead time for changes',
        'Change failure rate',
        'Failed deployment recovery time',
      ]);
      const frequency = panel.locator('[data-metric="deploymentFrequency"]');
      expect(await frequency.locator('.level').textContent()).toBe(dora.deploymentFrequency.level ?? '—');
      expect(await frequency.textContent()).toContain('deployments: 1');
      const bars = panel.locator('rect.bar-deployments');
      expect(await bars.count()).toBe(dora.weekly.length);
      const heights = await bars.evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('height'))));
      expect(heights.filter((h) => h > 0)).toHaveLength(1);
      await panel.scrollIntoViewIfNeeded();
      await shot('08-project-dora');
    });

    it('unlinks the webhook: the list, the project and the API no longer pair them', async () => {
      await page.getByRole('button', { name: 'Unlink from project' }).click();
      await rowOf(HOOK).locator('[data-field="project"]', { hasText: '—' }).waitFor();
      expect(await page.locator('#project-current').textContent()).toBe('Not in a project.');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('project-name');
      const saved = await server.request.get(`/api/plugins/webhook/connections/${hook.id}`);
      expect(saved.body.projectName).toBeNull();
      await projectRow(PROJECT).filter({ hasNotText: HOOK }).waitFor();
      const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
      expect(stored).toBe('[{},{}]');
    });
  });

  describe('try it (dry run)', () => {
    const HOOK = 'dry-run-ci';
    let hook: number;

    const command = (id: string) => page.locator(`[data-command="${id}"]`);
    const tryIt = (id: string) => command(id).getByRole('button', { name: 'Try it (dry run)' });

    it('sends the deployment command with ?dryRun=true: the panel says what it would write, and nothing is written', async () => {
      await page.goto(`${origin}/`);
      await page.getByLabel('Name', { exact: true }).fill(HOOK);
      await page.getByRole('button', { name: 'Create webhook' }).click();
      await page.locator('#key-once').waitFor();
      hook = (await server.db.dataSource.getRepository(WebhookConnection).findOneByOrFail({ name: HOOK })).id;
      // Every command posts to a route that takes ?dryRun=true: each has the button.
      expect(await page.locator('[data-command]').getByRole('button', { name: 'Try it (dry run)' }).count()).toBe(5);

      const shown = (await command('deployment-seed').locator('code').textContent()) ?? '';
      const sent = page.waitForRequest(
        (request) => request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/deployments'),
      );
      await tryIt('deployment-seed').click();
      const request = await sent;
      expect(new URL(request.url()).pathname).toBe(`/api/plugins/webhook/connections/${hook}/deployments`);
      expect(new URL(request.url()).searchParams.get('dryRun')).toBe('true');
      expect(request.postDataJSON()).toEqual(payloadOf(shown));

      const result = command('deployment-seed').locator('.try-result[data-outcome="accepted"]');
      await result.waitFor();
      expect(await result.locator('.try-summary').textContent()).toBe(
        'Would write: 1 row in cicd_deployments, 1 in cicd_deployment_commits.',
      );
      const json = result.locator('details pre');
      expect(await json.isVisible()).toBe(false);
      await result.locator('details summary').click();
      const answer = JSON.parse((await json.textContent()) ?? '');
      expect(answer).toMatchObject({ success: true, data: { dryRun: true } });
      expect(answer.data.rows.cicd_deployments[0]).toMatchObject({ cicd_scope_id: `webhook:${hook}` });
      await command('deployment-seed').scrollIntoViewIfNeeded();
      await shot('10-dry-run');

      expect(await rowsOf(server, 'cicd_deployments', hook)).toBe(0);
      expect(await rowsOf(server, 'cicd_deployment_commits', hook)).toBe(0);
      const activity = await server.request.get(`/api/plugins/webhook/connections/${hook}/activity`);
      expect(activity.body).toMatchObject({ deployments: 0, issues: 0, incidents: 0 });
    });

    it('shows the 404 of closing an issue that does not exist, as the server words it', async () => {
      const sent = page.waitForRequest((request) => request.url().includes('/issue/DLK-1234/close'));
      await tryIt('close-issue').click();
      expect(new URL((await sent).url()).searchParams.get('dryRun')).toBe('true');
      const result = command('close-issue').locator('.try-result[data-outcome="refused"]');
      await result.waitFor();
      const text = (await result.textContent()) ?? '';
      expect(text).toContain('The server answered 404');
      expect(text).toContain('"DLK-1234" not found');
    });

    it('lists the issue rows of the issue command, and still nothing is written', async () => {
      await tryIt('issue').click();
      const summary = command('issue').locator('.try-result[data-outcome="accepted"] .try-summary');
      await summary.waitFor();
      expect(await summary.textContent()).toBe('Would write: 1 row in boards, 1 in issues, 1 in board_issues.');
      const [issues] = await runSql<{ n: number }[]>(
        server.db.dataSource,
        'SELECT COUNT(*) AS n FROM issues WHERE id LIKE ?',
        [`webhook:${hook}:%`],
      );
      expect(Number(issues.n)).toBe(0);
    });

    it("shows a refusal's message and each cause by field", async () => {
      // The server's real answer to a deployment without its repository.
      await page.route(/\/deployments\?dryRun=true$/, (route) =>
        route.continue({ postData: JSON.stringify({ commit_sha: 'a'.repeat(40), environment: 'PRODUCTION' }) }),
      );
      try {
        await tryIt('deployment-seed').click();
        const result = command('deployment-seed').locator('.try-result[data-outcome="refused"]');
        await result.waitFor();
        expect(await result.locator('.error').textContent()).toMatch(/^The server answered 400: /);
        const causes = await result.locator('.try-causes li').allTextContents();
        expect(causes.length).toBeGreaterThan(0);
        expect(causes.some((c) => c.startsWith('repo_url: '))).toBe(true);
        expect(await result.locator('.try-summary').count()).toBe(0);
      } finally {
        await page.unroute(/\/deployments\?dryRun=true$/);
      }
      expect(await rowsOf(server, 'cicd_deployments', hook)).toBe(0);
    });

    it('words the summary from the rows by table (dryRunSummary, as app.js exports it)', async () => {
      const cases = [
        { cicd_deployments: [{}], cicd_deployment_commits: [{}, {}] },
        { issues: [{}, {}], incidents: [] },
        { pull_requests: [{}] },
        {},
        null,
      ];
      // A string, not a function: compiled to CommonJS, `import()` would become a `require`.
      // The page already loaded app.js, so this is the same module, not a second run of it.
      const texts = await page.evaluate<string[]>(
        `import(new URL('admin-ui/app.js', document.baseURI).href)
           .then(({ dryRunSummary }) => ${JSON.stringify(cases)}.map(dryRunSummary))`,
      );
      expect(texts).toEqual([
        'Would write: 1 row in cicd_deployments, 2 in cicd_deployment_commits.',
        'Would write: 2 rows in issues.',
        'Would write: 1 row in pull_requests.',
        'Would write nothing.',
        'Would write nothing.',
      ]);
    });
  });
});

describe('admin page with many webhooks: pages and search', () => {
  const COUNT = 120;
  const names = Array.from({ length: COUNT }, (_, n) => `hook-${String(n).padStart(3, '0')}`);
  let server: TestServer;
  let http: Server;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  const listedNames = () => page.locator('#connections tbody th').allTextContents();

  beforeAll(async () => {
    server = await startTestServer({ encryptionSecret: 'browser-secret' });
    const now = new Date();
    await server.db.dataSource
      .getRepository(WebhookConnection)
      .insert(names.map((name) => ({ name, createdAt: now, updatedAt: now })));
    http = await new Promise<Server>((resolve) => {
      const listening = server.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    profile = mkdtempSync(path.join(tmpdir(), 'dlw-chromium-'));
    context = await launchBrowser(profile, { viewport: LAPTOP });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    await page.locator('#list-position', { hasText: `of ${COUNT}` }).waitFor();
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await server?.close();
  });

  it('shows the first page of webhooks and where it is in the whole list', async () => {
    expect(await listedNames()).toEqual(names.slice(0, 50));
    expect(await page.locator('#list-position').textContent()).toBe(`1–50 of ${COUNT}`);
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
  });

  it('moves to the next and the last page, and back', async () => {
    await page.getByRole('button', { name: 'Next' }).click();
    await page.locator('#list-position', { hasText: '51–100' }).waitFor();
    expect(await listedNames()).toEqual(names.slice(50, 100));
    await page.getByRole('button', { name: 'Next' }).click();
    await page.locator('#list-position', { hasText: `101–${COUNT}` }).waitFor();
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.locator('#list-position', { hasText: '51–100' }).waitFor();
  });

  it('lists only the webhooks whose name contains what is typed, from the first match', async () => {
    await page.getByLabel('Search by name').fill('HOOK-11');
    await page.locator('#list-position', { hasText: 'matching' }).waitFor();
    expect(await listedNames()).toEqual(names.slice(110, 120));
    expect(await page.locator('#list-position').textContent()).toBe('1–10 of 10 matching “HOOK-11”');
    await page.getByLabel('Search by name').fill('no such hook');
    await page.locator('#list-empty', { hasText: 'No webhook name contains' }).waitFor();
    await page.getByLabel('Search by name').fill('');
    await page.locator('#list-position', { hasText: `1–50 of ${COUNT}` }).waitFor();
  });
});

describe('admin page behind Basic credentials: try it (dry run) without the key on the page', () => {
  const ADMIN = { username: 'admin', password: 'admin-pass' };
  let server: TestServer;
  let http: Server;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: ADMIN });
    http = await new Promise<Server>((resolve) => {
      const listening = server.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    profile = mkdtempSync(path.join(tmpdir(), 'dlw-chromium-'));
    context = await launchBrowser(profile, { viewport: LAPTOP, httpCredentials: ADMIN });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await server?.close();
  });

  it("tries the deployment command with the admin's credentials from the Commands panel, writing nothing", async () => {
    const hook = await createConnection(server, 'basic-ci', [ADMIN.username, ADMIN.password]);
    await page.reload();
    await page
      .locator('#connections tbody tr', { has: page.getByRole('rowheader', { name: 'basic-ci', exact: true }) })
      .getByRole('button', { name: 'Commands for basic-ci' })
      .click();
    expect(await page.locator('#key-once').isHidden()).toBe(true);
    const seed = page.locator('[data-command="deployment-seed"]');
    await seed.getByRole('button', { name: 'Try it (dry run)' }).click();
    const summary = seed.locator('.try-result[data-outcome="accepted"] .try-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toContain('1 row in cicd_deployments');
    expect(await rowsOf(server, 'cicd_deployments', hook.id)).toBe(0);
  });
});
