/**
 * Browser tier (`npm run test:browser`): the HTML reports of `demo --report` and
 * `simulate --report`, opened from disk in Debian's headless Chromium (test/browser/chromium.ts),
 * at a desktop width (1280 px) and a phone width (390 px). The page must raise no console error,
 * request nothing beyond itself, draw every chart with data, show every Slack message the demo
 * posted as a card, and never scroll sideways.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCliProcess as runCli } from '../support/cli.js';
import { launchChromium, type LaunchedChromium } from './chromium.js';
import { measure, watchPage } from './report-page.js';

const WIDTHS = [1280, 390] as const;
let directory: string;
let browser: LaunchedChromium;
let demoSlackMessages = 0;
let demoDecisions = 0;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'mcw-report-'));
  const demo = await runCli(['demo', '--quiet', '--report', join(directory, 'demo-report.html')]);
  expect(demo.code).toBe(0);
  // What the demo printed, counted independently of the report: "Slack, N messages posted".
  demoSlackMessages = [...demo.stdout.matchAll(/^Slack, (\d+) messages? posted/gm)].reduce((n, m) => n + Number(m[1]), 0);
  demoDecisions = [...demo.stdout.matchAll(/^remediator outcomes: (.*)$/gm)].flatMap((m) => [...m[1]!.matchAll(/×(\d+)/g)]).reduce((n, m) => n + Number(m[1]), 0);
  const simulate = await runCli(['simulate', '--pods', '1000', '--hours', '12', '--report', join(directory, 'simulate-report.html')]);
  expect(simulate.code).toBe(0);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe.each([
  ['demo-report.html', 3],
  ['simulate-report.html', 4],
])('%s in headless Chromium', (file, charts) => {
  it.each(WIDTHS)('renders at %i px: no console error, nothing fetched, every chart drawn with data, no sideways scrolling', async (width) => {
    const page = await browser.context.newPage();
    try {
      const findings = watchPage(page);
      await page.setViewportSize({ width, height: 900 });
      await page.goto(pathToFileURL(join(directory, file)).href, { waitUntil: 'load' });
      const layout = await measure(page);
      expect(findings).toEqual({ consoleErrors: [], externalRequests: [] });
      expect(layout.charts).toHaveLength(charts);
      for (const chart of layout.charts) {
        expect([chart.id, chart.points > 0, chart.marks > 0]).toEqual([chart.id, true, true]);
        expect(chart.width).toBeGreaterThan(width * 0.6);
        expect(chart.width).toBeLessThanOrEqual(width);
      }
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.viewportWidth);
      expect(layout.smallestFontPx).toBeGreaterThanOrEqual(12);
    } finally {
      await page.close();
    }
  });
});

describe('the demo report', () => {
  it('shows every Slack message the demo posted as a card, and every remediator decision', async () => {
    expect(demoSlackMessages).toBeGreaterThan(0);
    const page = await browser.context.newPage();
    try {
      await page.goto(pathToFileURL(join(directory, 'demo-report.html')).href);
      const layout = await measure(page);
      expect(layout.slackCards).toBe(demoSlackMessages);
      expect(layout.decisionRows).toBe(demoDecisions);
      // Cards carry the blocks' content: a header and the mrkdwn bold workload names.
      expect(await page.locator('[data-testid="slack-card"] .slack-header').count()).toBe(demoSlackMessages);
      expect(await page.locator('[data-testid="slack-card"] .slack-section b').count()).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  });

  it('is one file: no script, no stylesheet or image link, a CSP that forbids fetching', () => {
    const html = readFileSync(join(directory, 'demo-report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link |src="http|@import/i);
    expect(html).toContain("default-src 'none'");
  });
});
