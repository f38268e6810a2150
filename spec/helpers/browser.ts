import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Where the browser for the browser tests comes from, first found wins:
 *
 * 1. `CHROMIUM_PATH` (or Playwright's own `PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH`): any Chromium or
 *    Chrome binary, used as it is;
 * 2. a system Chromium or Chrome (`chromium`, `chromium-browser`, `google-chrome`, ... on PATH,
 *    or the usual install places);
 * 3. a Chromium that Playwright installed in its cache (`PLAYWRIGHT_BROWSERS_PATH`, or
 *    `~/.cache/ms-playwright`);
 * 4. otherwise the headless Chromium that the `@sparticuz/chromium` dev dependency carries inside
 *    its npm tarball (brotli-compressed), unpacked once into the temp directory.
 *
 * So `npm install && npm test` needs nothing but Node and the npm registry.
 */
export type BrowserSource = 'CHROMIUM_PATH' | 'system' | 'playwright-cache' | 'npm-package';

export interface FoundBrowser {
  executablePath: string;
  source: BrowserSource;
}

/** What the search looks at; the defaults are this machine's, tests pass their own. */
export interface BrowserSearch {
  env?: NodeJS.ProcessEnv;
  /** Absolute paths tried after PATH lookups, in order. */
  systemPaths?: string[];
  /** Directory where the npm package's Chromium is unpacked. */
  unpackDir?: string;
}

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A Chromium in Playwright's browser cache, newest revision first. */
function inPlaywrightCache(env: NodeJS.ProcessEnv): string | undefined {
  const roots = [env.PLAYWRIGHT_BROWSERS_PATH, path.join(env.HOME ?? homedir(), '.cache', 'ms-playwright')].filter(
    (root): root is string => Boolean(root) && root !== '0',
  );
  // Layouts Playwright has used for full Chromium and for its headless shell, Linux and macOS.
  const inside = [
    ['chrome-linux64', 'chrome'],
    ['chrome-linux', 'chrome'],
    ['chrome-headless-shell-linux64', 'chrome-headless-shell'],
    ['chrome-linux', 'headless_shell'],
    ['chrome-mac', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'],
  ];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    const revisions = readdirSync(root)
      .filter((dir) => /^chromium(_headless_shell)?-\d+$/.test(dir))
      .sort((a, b) => Number(b.split('-').pop()) - Number(a.split('-').pop()));
    for (const revision of revisions) {
      for (const parts of inside) {
        const candidate = path.join(root, revision, ...parts);
        if (isExecutable(candidate)) return candidate;
      }
    }
  }
  return undefined;
}

/**
 * Unpacks the Chromium binary shipped in `@sparticuz/chromium` (a brotli file inside the npm
 * tarball: nothing is downloaded). Written to a temporary name and renamed, so two test workers
 * unpacking at once never launch a half-written file.
 */
async function unpackNpmChromium(unpackDir: string): Promise<string> {
  // The package's exports hide package.json: walk up from its entry point to find its folder.
  let packageDir = path.dirname(require.resolve('@sparticuz/chromium'));
  while (!existsSync(path.join(packageDir, 'bin', 'chromium.br'))) {
    const parent = path.dirname(packageDir);
    if (parent === packageDir) throw new Error('@sparticuz/chromium: bin/chromium.br not found (run npm install)');
    packageDir = parent;
  }
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const dir = path.join(unpackDir, `devlake-webhook-chromium-${version}`);
  const executable = path.join(dir, 'chromium');
  if (isExecutable(executable)) return executable;
  mkdirSync(dir, { recursive: true });
  const partial = `${executable}.${process.pid}.partial`;
  await pipeline(
    createReadStream(path.join(packageDir, 'bin', 'chromium.br')),
    createBrotliDecompress(),
    createWriteStream(partial, { mode: 0o755 }),
  );
  renameSync(partial, executable);
  return executable;
}

/** Finds a browser as described above. Throws only when even the npm package is missing. */
export async function findBrowser(search: BrowserSearch = {}): Promise<FoundBrowser> {
  const env = search.env ?? process.env;
  const configured = env.CHROMIUM_PATH || env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH;
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`CHROMIUM_PATH: ${configured} is not an executable file`);
    return { executablePath: configured, source: 'CHROMIUM_PATH' };
  }
  for (const name of SYSTEM_NAMES) {
    const found = onPath(name, env);
    if (found) return { executablePath: found, source: 'system' };
  }
  for (const candidate of search.systemPaths ?? SYSTEM_PATHS) {
    if (isExecutable(candidate)) return { executablePath: candidate, source: 'system' };
  }
  const cached = inPlaywrightCache(env);
  if (cached) return { executablePath: cached, source: 'playwright-cache' };
  return { executablePath: await unpackNpmChromium(search.unpackDir ?? tmpdir()), source: 'npm-package' };
}

/** Flags that let Chromium run headless as root in a container, with nothing reaching out. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches the found browser under playwright-core with a persistent profile in `profileDir`;
 * `httpCredentials` answer a Basic challenge as a person would in the browser's prompt.
 */
export async function launchBrowser(
  profileDir: string,
  options: {
    viewport: { width: number; height: number };
    httpCredentials?: { username: string; password: string };
  },
): Promise<BrowserContext> {
  const { executablePath } = await findBrowser();
  return chromium.launchPersistentContext(profileDir, {
    executablePath,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: options.viewport,
    httpCredentials: options.httpCredentials,
  });
}
