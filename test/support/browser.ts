// The browser the page tests drive: Debian's Chromium through playwright-core (never a browser
// download), with an accessibility check (axe-core) and screenshots to a folder that is not
// committed (docs/minprofil.md#pages).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT } from './processes.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Where screenshots go (gitignored); `KRR_SCREENSHOTS` names another folder. */
export const SCREENSHOT_DIR = process.env.KRR_SCREENSHOTS ?? join(ROOT, 'screenshots');

/**
 * Why a browser test cannot run here, or false. In CI (CI=true) a missing browser is a failure at
 * launch, never a skip; elsewhere the reason is printed.
 */
export function chromiumSkipReason(what: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') return false;
  const reason = `${CHROMIUM} is missing (apt-get install -y chromium); CI=true requires it`;
  console.log(`# skipping ${what}: ${reason}`);
  return reason;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A context for one user. `bypassCSP` lets the test inject axe-core into pages whose
 * Content-Security-Policy forbids it (the pages' own header is checked separately, on the wire).
 */
export function newUserContext(browser: Browser, locale = 'nb-NO'): Promise<BrowserContext> {
  return browser.newContext({ bypassCSP: true, locale, viewport: { width: 1024, height: 900 } });
}

const axeSource = (() => {
  let source: string | undefined;
  return () => (source ??= readAxe());
})();

function readAxe(): string {
  const require = createRequire(import.meta.url);
  return (require('axe-core') as { source: string }).source;
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

/** Runs axe-core on the page; answers the violations of impact serious or critical. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource() });
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as {
      axe: { run: (c: unknown) => Promise<unknown> };
      document: unknown;
    };
    const result = (await page.axe.run(page.document)) as {
      violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails when the page has a serious or critical accessibility violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations)}`);
}

/** Writes a full-page screenshot as `<dir>/<name>.png`. */
export async function screenshot(page: Page, name: string, dir = SCREENSHOT_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
