import { commitRowId, deriveDeploymentId, normalizeResult, repoUrlHash16 } from '../src/deployments/deployment-ids';
import { DeploymentDto } from '../src/deployments/deployment.dto';
import { buildDeploymentRows } from '../src/deployments/deployment.service';
import { validateBody } from '../src/http/validate-body';

const REPO = 'https://github.com/apache/incubator-devlake/';
const SHA = '015e3d3b480e417aede5a1293bd61de9b0fd051d';
const START = new Date('2026-01-01T10:00:00Z');
const ARRIVAL = new Date('2026-01-01T10:30:00Z');

describe('deployment ids (contract §5)', () => {
  it('hashes the exact repoUrl with MD5 and keeps the first 16 hex characters', () => {
    // `echo -n 'https://github.com/apache/incubator-devlake/' | md5sum`
    expect(repoUrlHash16(REPO)).toBe('c47dd68db2cd4548');
    expect(repoUrlHash16(REPO.slice(0, -1))).not.toBe('c47dd68db2cd4548');
  });

  it('builds the commit id as webhook:<cid>:<deploymentId>:<md5hex(repoUrl)[0:16]>:<sha>', () => {
    expect(commitRowId(7, 'd-1', REPO, SHA)).toBe(`webhook:7:d-1:c47dd68db2cd4548:${SHA}`);
  });

  it('derives the same id whatever the order of the commits', () => {
    const a = { repoUrl: 'https://a', commitSha: '1' };
    const b = { repoUrl: 'https://b', commitSha: '2' };
    expect(deriveDeploymentId('PRODUCTION', START, [a, b])).toBe(deriveDeploymentId('PRODUCTION', START, [b, a]));
    expect(deriveDeploymentId('PRODUCTION', START, [a, b])).toMatch(/^[0-9a-f]{32}$/);
  });

  it('derives another id for another environment, start time or commit set', () => {
    const commits = [{ repoUrl: REPO, commitSha: SHA }];
    const ids = [
      deriveDeploymentId('PRODUCTION', START, commits),
      deriveDeploymentId('STAGING', START, commits),
      deriveDeploymentId('PRODUCTION', new Date(START.getTime() + 1000), commits),
      deriveDeploymentId('PRODUCTION', undefined, commits),
      deriveDeploymentId('PRODUCTION', START, [{ repoUrl: REPO, commitSha: 'other' }]),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('does not confuse a repoUrl/commitSha split with another', () => {
    const one = deriveDeploymentId('PRODUCTION', START, [{ repoUrl: 'https://a:', commitSha: 'b' }]);
    const other = deriveDeploymentId('PRODUCTION', START, [{ repoUrl: 'https://a', commitSha: ':b' }]);
    expect(one).not.toBe(other);
  });
});

describe('result mapping (contract §5, §9)', () => {
  it.each([
    ['SUCCESS', 'SUCCESS'],
    ['succeeded', 'SUCCESS'],
    ['Successful', 'SUCCESS'],
    ['passed', 'SUCCESS'],
    ['FAILURE', 'FAILURE'],
    ['failed', 'FAILURE'],
    ['error', 'FAILURE'],
    ['ABORT', 'ABORT'],
    ['aborted', 'ABORT'],
    ['canceled', 'ABORT'],
    ['Cancelled', 'ABORT'],
    ['UNSTABLE', 'UNSTABLE'],
    [' manual ', 'MANUAL'],
  ])('stores %j as %s', (sent, stored) => {
    expect(normalizeResult(sent)).toBe(stored);
  });
});

describe('building the rows of a deployment', () => {
  const dto = (body: object): Promise<DeploymentDto> => validateBody(DeploymentDto, body);

  it('leaves the finish time out of the derived id, so a retry without end_time updates the same deployment', async () => {
    const body = { commit_sha: SHA, repo_url: REPO, start_time: '2026-01-01T10:00:00+0000' };
    const first = buildDeploymentRows(1, await dto(body), ARRIVAL);
    const retry = buildDeploymentRows(1, await dto(body), new Date(ARRIVAL.getTime() + 60_000));
    expect(retry.id).toBe(first.id);
    expect(retry.deployment.finishedDate).not.toEqual(first.deployment.finishedDate);
  });

  it('takes an unsent finish as the start when the sender’s clock runs ahead of ours, not a rejection', async () => {
    const rows = buildDeploymentRows(
      1,
      await dto({ commit_sha: SHA, repo_url: REPO, start_time: '2026-01-01T10:31:00Z' }),
      ARRIVAL,
    );
    expect(rows.deployment).toMatchObject({ finishedDate: new Date('2026-01-01T10:31:00Z'), durationSec: 0 });
  });

  it('truncates the duration to whole seconds and leaves it NULL without a start', async () => {
    const timed = buildDeploymentRows(
      1,
      await dto({ commitSha: SHA, repoUrl: REPO, startedDate: START, finishedDate: '2026-01-01T10:00:01.999Z' }),
      ARRIVAL,
    );
    expect(timed.deployment.durationSec).toBe(1);
    const untimed = buildDeploymentRows(1, await dto({ commitSha: SHA, repoUrl: REPO }), ARRIVAL);
    expect(untimed.deployment).toMatchObject({ durationSec: null, startedDate: null, createdDate: ARRIVAL });
  });

  it('stores one row for a commit listed twice', async () => {
    const rows = buildDeploymentRows(
      1,
      await dto({
        id: 'd',
        deploymentCommits: [
          { repoUrl: REPO, commitSha: SHA, refName: 'first' },
          { repoUrl: REPO, commitSha: SHA, refName: 'second' },
        ],
      }),
      ARRIVAL,
    );
    expect(rows.commits).toHaveLength(1);
    expect(rows.commits[0].refName).toBe('second');
    expect(rows.deployment.name).toBe(`deploy ${SHA} to PRODUCTION`);
  });

  it('uses deploymentCommits and ignores the top-level commit when a body has both', async () => {
    const rows = buildDeploymentRows(
      1,
      await dto({ id: 'd', commitSha: 'top', repoUrl: REPO, deploymentCommits: [{ repoUrl: REPO, commitSha: SHA }] }),
      ARRIVAL,
    );
    expect(rows.commits.map((row) => row.commitSha)).toEqual([SHA]);
  });

  it("keeps a sent originalEnvironment and stores '' when none was sent, as DevLake does", async () => {
    const build = async (body: object) =>
      buildDeploymentRows(1, await dto({ commitSha: SHA, repoUrl: REPO, ...body }), ARRIVAL).deployment;
    expect(await build({ environment: 'staging', originalEnvironment: 'stage-eu' })).toMatchObject({
      environment: 'STAGING',
      originalEnvironment: 'stage-eu',
    });
    expect(await build({ environment: 'staging' })).toMatchObject({ originalEnvironment: '' });
    expect(await build({})).toMatchObject({ environment: 'PRODUCTION', originalEnvironment: '' });
  });

  it('warns, naming deploymentCommits[0].finishedDate, when a commit finishes before the deployment started', async () => {
    const body = await dto({
      id: 'd',
      startedDate: '2026-01-01T11:00:00Z',
      deploymentCommits: [{ repoUrl: REPO, commitSha: SHA, finishedDate: '2026-01-01T10:59:00Z' }],
    });
    const rows = buildDeploymentRows(1, body, ARRIVAL);
    expect(rows.warnings.map((cause) => cause.field)).toEqual(['deploymentCommits[0].finishedDate']);
    expect(rows.commits[0].finishedDate).toEqual(new Date('2026-01-01T10:59:00Z'));
  });
});
