/**
 * `npm run screenshots`: the pictures the README shows, taken in Debian's headless Chromium from
 * what the product writes, never drawn by hand:
 *   docs/images/demo-report.png  the top of `demo --report` (figures and charts)
 *   docs/images/slack-card.png   the demo's Slack message that needs a person (tbot advice)
 *   docs/images/dashboard.png    the CloudWatch dashboard, drawn from the synthesized body with
 *                                the demo's metrics and log lines (dashboard-preview.ts)
 * The pages are checked as in the browser tier (no console error, nothing fetched) before a
 * picture is taken.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEMO_CLUSTER, runDemo } from '../../src/sandbox/demo/run-demo.js';
import { demoReportData } from '../../src/sandbox/report/html-report.js';
import { writeReport } from '../../src/sandbox/report/write-report.js';
import { launchChromium } from './chromium.js';
import { demoDashboardWidgets, renderDashboardPreview } from './dashboard-preview.js';
import { watchPage } from './report-page.js';

// MCW_SCREENSHOTS_DIR: where .ci/run takes them to prove the script works, without touching docs/.
const OUT = process.env.MCW_SCREENSHOTS_DIR ?? join(import.meta.dirname, '../../docs/images');
const work = mkdtempSync(join(tmpdir(), 'mcw-screenshots-'));
const started = Date.now();
const step = (what: string) => console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${what}`);

try {
  mkdirSync(OUT, { recursive: true });
  step('running the demo (24 sweeps)');
  const result = await runDemo();
  const reportFile = join(work, 'demo-report.html');
  await writeReport(reportFile, await demoReportData(result));
  step('synthesizing the stack for the dashboard body');
  const widgets = demoDashboardWidgets(DEMO_CLUSTER, result.intro.intervalMinutes);
  const dashboardFile = join(work, 'dashboard.html');
  writeFileSync(dashboardFile, await renderDashboardPreview(widgets, result, 'mesh-cert-watch'));

  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const findings = watchPage(page);

    step('demo-report.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(reportFile).href);
    const chartsBottom = (await page.evaluate("document.querySelector('#chart-restarts').getBoundingClientRect().bottom + window.scrollY")) as number;
    await page.screenshot({ path: join(OUT, 'demo-report.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(chartsBottom + 16) } });

    step('slack-card.png');
    // The demo's most telling message: one that asks a person, else one with the tbot upgrade advice.
    const cards = page.locator('[data-testid="slack-card"]');
    const wanted = [cards.filter({ hasText: 'need a person' }), cards.filter({ hasText: 'Upgrade tbot' }), cards];
    let card = cards.first();
    for (const candidate of wanted) {
      if ((await candidate.count()) > 0) {
        card = candidate.first();
        break;
      }
    }
    await card.screenshot({ path: join(OUT, 'slack-card.png') });

    step('dashboard.png');
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(pathToFileURL(dashboardFile).href);
    await page.screenshot({ path: join(OUT, 'dashboard.png'), fullPage: true });

    if (findings.consoleErrors.length > 0 || findings.externalRequests.length > 0) {
      throw new Error(`the pages were not clean: ${JSON.stringify(findings)}`);
    }
  } finally {
    await browser.close();
  }
  step(`written to ${OUT}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
