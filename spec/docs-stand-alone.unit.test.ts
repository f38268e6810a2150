import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');

/** What users read: the code's comments and messages, the README, the API description, docs/. */
function readerFacingFiles(): string[] {
  const out: string[] = ['README.md', 'openapi.yaml'];
  const walk = (dir: string) => {
    if (!existsSync(path.join(ROOT, dir))) return;
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const rel = path.join(dir, name);
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|js|md|html|css|yaml)$/.test(name)) out.push(rel);
    }
  };
  walk('src');
  walk('docs');
  return out;
}

/** References to documents or trackers that are not in the repository. */
const OUTSIDE = [
  /contract §/i,
  /house style/i,
  /seed (doc|form)/i,
  /the seed's/i,
  /\.\.\/shared/,
  /webhook-plugin-doc/,
  /dora-metrics\.md/,
  /\(issue \d+\)|\bissue \d+'s\b/i,
];

describe('the docs stand alone', () => {
  it.each(readerFacingFiles())('%s points at nothing outside the repository', (file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const found = OUTSIDE.filter((pattern) => pattern.test(text)).map(String);
    expect(found).toEqual([]);
  });

  it.each(['docs/devlake-compatibility.md', 'docs/payloads.md'])('%s exists and is linked from the README', (doc) => {
    expect(existsSync(path.join(ROOT, doc))).toBe(true);
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain(`](${doc})`);
  });

  it('docs/payloads.md states the epoch rule the code uses', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'payloads.md'), 'utf8');
    const code = readFileSync(path.join(ROOT, 'src', 'http', 'dates.ts'), 'utf8');
    expect(code).toContain('EPOCH_MILLISECONDS_FROM = 100_000_000_000');
    expect(doc).toContain('below 100,000,000,000');
  });
});
