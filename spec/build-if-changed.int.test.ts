import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'build-if-changed.cjs');

/** What `npm start` would decide in `root`, without building. */
function decide(root: string): string {
  return execFileSync(process.execPath, [SCRIPT, '--dry-run', root], { encoding: 'utf8' }).trim();
}

function touch(file: string, secondsAgo: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, at, at);
}

describe('npm start rebuilds only when sources changed', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'dlw-build-'));
    touch(path.join(root, 'src', 'server', 'main.ts'), 600);
    touch(path.join(root, 'tsconfig.json'), 600);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds when there is no build yet', () => {
    expect(decide(root)).toBe('rebuilding dist/: dist/server/main.js does not exist');
  });

  it('does not build when the last build is newer than every source (right after npm install)', () => {
    touch(path.join(root, 'dist', 'server', 'main.js'), 60);
    expect(decide(root)).toBe('dist/ is up to date: not rebuilding');
  });

  it('builds when a source file changed after the last build, naming it', () => {
    touch(path.join(root, 'dist', 'server', 'main.js'), 60);
    touch(path.join(root, 'src', 'http', 'dates.ts'), 1);
    expect(decide(root)).toBe(`rebuilding dist/: ${path.join('src', 'http', 'dates.ts')} changed since the last build`);
  });

  it('builds when the compiler settings changed after the last build', () => {
    touch(path.join(root, 'dist', 'server', 'main.js'), 60);
    touch(path.join(root, 'tsconfig.json'), 1);
    expect(decide(root)).toBe('rebuilding dist/: tsconfig.json changed since the last build');
  });
});
