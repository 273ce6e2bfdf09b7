// Headless Chromium for the browser tests (the HTML report, the web export), driven by
// playwright-core with the system's Chromium (Debian's `chromium` package: playwright-core
// downloads no browser). Where no Chromium is installed the tests are skipped with a reason,
// unless ADAREC_REQUIRE_BROWSER=1 (CI, which installs it: scripts/install-browser.sh), where
// the missing browser is a failure.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.ADAREC_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium executable, or null when none is installed. */
export function chromiumPath(): string | null {
  for (const c of CANDIDATES) if (c && existsSync(c)) return c;
  return null;
}

/**
 * `skip` for node:test: false when a browser is there (or required), else why the test is skipped.
 * With ADAREC_REQUIRE_BROWSER=1 it is always false, so a missing browser fails in launchBrowser().
 */
export function browserSkip(): false | string {
  if (process.env.ADAREC_REQUIRE_BROWSER === '1' || chromiumPath()) return false;
  return 'no Chromium (apt-get install chromium, or bash scripts/install-browser.sh; ADAREC_CHROMIUM names another)';
}

/**
 * Headless Chromium with the flags a closed network needs (no background connections, no
 * first-run, no sync) and a fresh profile; --no-sandbox because CI and these machines run as root.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(`no Chromium found (tried ${CANDIDATES.filter(Boolean).join(', ')}): bash scripts/install-browser.sh`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
