import {
  attributeChanges,
  branchOf,
  type AttributableChange,
  type AttributableDeployment,
} from '../src/dora/lead-time.attribution';

const at = (iso: string) => new Date(iso);
const REPO = 'webhook:1';

function deployment(
  id: string,
  started: string,
  finished = started,
  branch: string | null = 'main',
): AttributableDeployment {
  return { id, scope: REPO, started: at(started), time: at(finished), branch };
}

function change(id: string, merged: string, overrides: Partial<AttributableChange> = {}): AttributableChange {
  return {
    id,
    repo: REPO,
    branch: 'main',
    created: at('2026-03-01T00:00:00Z'),
    merged: at(merged),
    exact: [],
    linked: [],
    timeRule: true,
    ...overrides,
  };
}

describe('lead time attribution (docs/dora.md)', () => {
  const D1 = deployment('d1', '2026-03-02T10:00:00Z', '2026-03-02T10:30:00Z');
  const D2 = deployment('d2', '2026-03-04T10:00:00Z', '2026-03-04T10:30:00Z');
  const D3 = deployment('d3', '2026-03-06T10:00:00Z', '2026-03-06T10:30:00Z');

  it('time rule: a merge goes to the first deployment of its repository that started at or after it', () => {
    const result = attributeChanges(
      [change('a', '2026-03-02T11:00:00Z'), change('b', '2026-03-04T10:00:00Z'), change('c', '2026-03-04T09:00:00Z')],
      [D3, D1, D2],
    );
    expect(result.get('a')).toEqual({ changeId: 'a', deploymentId: 'd2', deployed: D2.time, rule: 'time' });
    // Merged at the very start of d2: d2 (at or after).
    expect(result.get('b')?.deploymentId).toBe('d2');
    expect(result.get('c')?.deploymentId).toBe('d2');
  });

  it('time rule: a merge during a running deployment waits for the next one (started before the merge)', () => {
    const result = attributeChanges([change('a', '2026-03-02T10:10:00Z')], [D1, D2]);
    expect(result.get('a')?.deploymentId).toBe('d2');
  });

  it('no deployment yet: a merge after the last deployment has none', () => {
    const result = attributeChanges([change('late', '2026-03-07T00:00:00Z')], [D1, D2, D3]);
    expect(result.has('late')).toBe(false);
  });

  it('is branch-aware when both sides name a branch; a deployment naming none ships every branch', () => {
    const release = deployment('rel', '2026-03-03T10:00:00Z', '2026-03-03T10:30:00Z', 'release');
    const tag = deployment('tag', '2026-03-05T10:00:00Z', '2026-03-05T10:30:00Z', null);
    const result = attributeChanges(
      [
        change('main', '2026-03-02T11:00:00Z'),
        change('rel', '2026-03-02T11:00:00Z', { branch: 'release' }),
        change('unknown', '2026-03-02T11:00:00Z', { branch: null }),
        change('main-late', '2026-03-04T11:00:00Z'),
      ],
      [D1, release, D2, tag, D3],
    );
    expect(result.get('main')?.deploymentId).toBe('d2');
    expect(result.get('rel')?.deploymentId).toBe('rel');
    // A pull request without a base branch takes the first deployment of its repository.
    expect(result.get('unknown')?.deploymentId).toBe('rel');
    // The tag deployment (no branch) comes before the next main one.
    expect(result.get('main-late')?.deploymentId).toBe('tag');
  });

  it('keeps repositories apart', () => {
    const other = { ...deployment('other', '2026-03-02T12:00:00Z'), scope: 'webhook:2' };
    const result = attributeChanges([change('a', '2026-03-02T11:00:00Z')], [D1, other, D2]);
    expect(result.get('a')?.deploymentId).toBe('d2');
  });

  it('exact match wins over the time rule: the earliest deployment after the merge that carries the merge commit', () => {
    const result = attributeChanges([change('a', '2026-03-02T11:00:00Z', { exact: ['d1', 'd3'] })], [D1, D2, D3]);
    // d1 finished before the merge; d3 carries the commit; d2 (time rule) loses.
    expect(result.get('a')).toMatchObject({ deploymentId: 'd3', rule: 'mergeCommit' });
  });

  it('an explicit link wins over the exact match, and a named deployment that finished before the merge is ignored', () => {
    const result = attributeChanges(
      [
        change('a', '2026-03-02T11:00:00Z', { exact: ['d2'], linked: ['d3'] }),
        change('b', '2026-03-03T11:00:00Z', { linked: ['d1'] }),
      ],
      [D1, D2, D3],
    );
    expect(result.get('a')).toMatchObject({ deploymentId: 'd3', rule: 'link' });
    expect(result.get('b')).toMatchObject({ deploymentId: 'd2', rule: 'time' });
  });

  it('a link or merge commit naming an unknown (not counted) deployment falls back to the next rule', () => {
    const result = attributeChanges(
      [change('a', '2026-03-02T11:00:00Z', { linked: ['staging'], exact: ['failed'] })],
      [D1, D2],
    );
    expect(result.get('a')).toMatchObject({ deploymentId: 'd2', rule: 'time' });
  });

  it('without the time rule (a deployment before the window comes first) only a link or the merge commit attributes', () => {
    const result = attributeChanges(
      [
        change('a', '2026-03-01T11:00:00Z', { timeRule: false }),
        change('b', '2026-03-01T11:00:00Z', { timeRule: false, exact: ['d2'] }),
      ],
      [D1, D2],
    );
    expect(result.has('a')).toBe(false);
    expect(result.get('b')?.deploymentId).toBe('d2');
  });

  it.each([
    ['refs/heads/main', 'main'],
    ['origin/main', 'main'],
    ['refs/remotes/origin/release/1.x', 'release/1.x'],
    ['main', 'main'],
    ['feature/v2', 'feature/v2'],
    ['refs/tags/v1.2.0', null],
    ['v1.2.0', null],
    ['1.4', null],
    ['refs/pull/12/merge', null],
    ['3f2a9c1', null],
    ['', null],
    [null, null],
  ])('reads the branch of ref %p as %p', (ref, branch) => {
    expect(branchOf(ref)).toBe(branch);
  });
});
