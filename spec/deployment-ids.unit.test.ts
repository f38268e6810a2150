import { charCount, deploymentRowId, deriveDeploymentId, normalizeResult } from '../src/deployments/deployment-ids';

// The derived id of a deployment sent without one (README, "Deployment ids"): SHA-256 of the
// environment, the start instant and the sorted repoUrl + commitSha pairs, first 32 hex digits.

const START = new Date('2026-01-01T10:00:00Z');
const A1 = { repoUrl: 'https://a', commitSha: '1' };
const A2 = { repoUrl: 'https://a', commitSha: '2' };
const B1 = { repoUrl: 'https://b', commitSha: '1' };

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('derived deployment ids', () => {
  it('is the first 32 hex digits of SHA-256 over [environment, start, sorted pairs] as JSON', () => {
    // Computed apart, with Python: sha256(json.dumps([...], separators=(',', ':'))).hexdigest()[:32].
    expect(deriveDeploymentId('PRODUCTION', START, [B1, A2, A1])).toBe('4429d51a1cc0cd4a2c02b680e9219240');
    expect(deriveDeploymentId('PRODUCTION', undefined, [A1])).toBe('5c4955da220490a858bf77331bfe7fb7');
  });

  it('gives one id for every order of the same commits, including commits of one repository', () => {
    const ids = permutations([A1, A2, B1]).map((commits) => deriveDeploymentId('PRODUCTION', START, commits));
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(1);
  });

  it('orders pairs of one repository by commit and pairs of one commit by repository', () => {
    expect(deriveDeploymentId('PRODUCTION', START, [A2, A1])).toBe(deriveDeploymentId('PRODUCTION', START, [A1, A2]));
    expect(deriveDeploymentId('PRODUCTION', START, [B1, A1])).toBe(deriveDeploymentId('PRODUCTION', START, [A1, B1]));
  });

  it('orders by code unit, not by locale: upper case before lower case', () => {
    const upper = { repoUrl: 'https://x', commitSha: 'B' };
    const lower = { repoUrl: 'https://x', commitSha: 'a' };
    expect(deriveDeploymentId('PRODUCTION', START, [lower, upper])).toBe(
      deriveDeploymentId('PRODUCTION', START, [upper, lower]),
    );
  });

  it('keeps the same commit sent twice apart from the commit sent once', () => {
    expect(deriveDeploymentId('PRODUCTION', START, [A1, A1])).not.toBe(deriveDeploymentId('PRODUCTION', START, [A1]));
  });

  it('keeps repoUrl and commitSha apart: swapping them is another deployment', () => {
    expect(deriveDeploymentId('PRODUCTION', START, [{ repoUrl: '1', commitSha: 'https://a' }])).not.toBe(
      deriveDeploymentId('PRODUCTION', START, [A1]),
    );
  });
});

describe('stored ids and words', () => {
  it('prefixes the stored deployment id with the connection', () => {
    expect(deploymentRowId(12, 'deploy-1')).toBe('webhook:12:deploy-1');
  });

  it('counts characters as code points, as a utf8mb4 column does', () => {
    expect(charCount('')).toBe(0);
    expect(charCount('abc')).toBe(3);
    expect(charCount('a😀b')).toBe(3);
  });

  it.each([
    ['  succeeded ', 'SUCCESS'],
    ['Cancelled', 'ABORT'],
    ['unstable', 'UNSTABLE'],
  ])('stores the sent result %p as %s', (sent, stored) => {
    expect(normalizeResult(sent)).toBe(stored);
  });
});
