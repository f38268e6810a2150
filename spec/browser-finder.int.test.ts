import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findBrowser } from './helpers/browser';

/** An executable file standing in for a browser binary (only its path is looked at). */
function fakeExecutable(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('the browser tests find a browser on any machine', () => {
  let scratch: string;
  // A machine with no browser at all: empty PATH, no system paths, an empty home.
  let bare: { env: NodeJS.ProcessEnv; systemPaths: string[]; unpackDir: string };

  beforeEach(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'dlw-browser-finder-'));
    bare = { env: { PATH: '', HOME: path.join(scratch, 'home') }, systemPaths: [], unpackDir: scratch };
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('uses CHROMIUM_PATH before any other browser', async () => {
    const configured = fakeExecutable(path.join(scratch, 'my-chrome'));
    const system = fakeExecutable(path.join(scratch, 'bin', 'chromium'));
    const found = await findBrowser({
      ...bare,
      env: { ...bare.env, CHROMIUM_PATH: configured, PATH: path.dirname(system) },
    });
    expect(found).toEqual({ executablePath: configured, source: 'CHROMIUM_PATH' });
  });

  it('refuses a CHROMIUM_PATH that is not an executable file, naming the setting', async () => {
    await expect(
      findBrowser({ ...bare, env: { ...bare.env, CHROMIUM_PATH: path.join(scratch, 'missing') } }),
    ).rejects.toThrow(/^CHROMIUM_PATH: .*missing is not an executable file$/);
  });

  it('uses a system chromium found on PATH', async () => {
    const system = fakeExecutable(path.join(scratch, 'bin', 'chromium'));
    const found = await findBrowser({ ...bare, env: { ...bare.env, PATH: path.dirname(system) } });
    expect(found).toEqual({ executablePath: system, source: 'system' });
  });

  it("uses the newest Chromium in Playwright's cache when there is no system browser", async () => {
    const cache = path.join(scratch, 'pw');
    fakeExecutable(path.join(cache, 'chromium-1100', 'chrome-linux', 'chrome'));
    const newest = fakeExecutable(path.join(cache, 'chromium-1200', 'chrome-linux64', 'chrome'));
    const found = await findBrowser({ ...bare, env: { ...bare.env, PLAYWRIGHT_BROWSERS_PATH: cache } });
    expect(found).toEqual({ executablePath: newest, source: 'playwright-cache' });
  });

  it('otherwise unpacks the Chromium shipped in the npm dev dependency, and it renders a page', async () => {
    const found = await findBrowser(bare);
    expect(found.source).toBe('npm-package');
    expect(found.executablePath.startsWith(scratch)).toBe(true);
    // A second search reuses the unpacked binary.
    expect((await findBrowser(bare)).executablePath).toBe(found.executablePath);

    const browser = await chromium.launch({
      executablePath: found.executablePath,
      args: CHROMIUM_ARGS,
      headless: true,
    });
    try {
      const page = await browser.newPage();
      await page.setContent('<main><h1>Webhooks</h1></main>');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Webhooks');
    } finally {
      await browser.close();
    }
  });
});
