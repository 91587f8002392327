// The browser harness itself: the accessibility check finds what it must (a field with no label,
// text without contrast) and passes a page without such faults, so a clean run of the page tests
// means something; screenshots land in the folder given.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  chromiumSkipReason,
  launchChromium,
  newUserContext,
  screenshot,
  seriousViolations,
} from './browser.js';

const skip = chromiumSkipReason('the browser harness test');

describe('the browser harness', { skip }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('reports a field without a label and grey-on-white text, and passes a clean page', async () => {
    const context = await newUserContext(browser);
    const page = await context.newPage();
    await page.setContent(
      '<!DOCTYPE html><html lang="nb"><head><title>Feil</title></head><body><main>' +
        '<h1>Skjema</h1><input type="text"><p style="color:#eee;background:#fff">Lys tekst</p>' +
        '</main></body></html>',
    );
    const ids = (await seriousViolations(page)).map((v) => v.id).sort();
    assert.deepEqual(ids, ['color-contrast', 'label']);

    await page.setContent(
      '<!DOCTYPE html><html lang="nb"><head><title>Riktig</title></head><body><main>' +
        '<h1>Skjema</h1><label for="e">E-postadresse</label><input id="e" type="email">' +
        '<p>Mørk tekst</p></main></body></html>',
    );
    assert.deepEqual(await seriousViolations(page), []);

    const dir = mkdtempSync(join(tmpdir(), 'krr-shots-'));
    try {
      const path = await screenshot(page, 'nb/riktig side', dir);
      assert.equal(path, join(dir, 'nb-riktig-side.png'));
      assert.ok(existsSync(path) && statSync(path).size > 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await context.close();
  });
});
