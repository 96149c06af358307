/**
 * What the browser checks on a report page, shared by the browser tier (report.browser.ts) and
 * `npm run screenshots`: no console error, no request leaving the file (the page is
 * self-contained), every chart drawn with marks, every Slack card present, no horizontal overflow.
 */
import type { Page } from 'playwright-core';

export interface PageFindings {
  readonly consoleErrors: string[];
  readonly externalRequests: string[];
}

/** Starts recording console errors, page errors and any request that is not the file itself. */
export function watchPage(page: Page): PageFindings {
  const findings: PageFindings = { consoleErrors: [], externalRequests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') findings.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => findings.consoleErrors.push(String(error)));
  page.on('request', (request) => {
    if (!request.url().startsWith('file://')) findings.externalRequests.push(request.url());
  });
  return findings;
}

export interface PageLayout {
  readonly viewportWidth: number;
  readonly scrollWidth: number;
  /** Per chart: marks drawn (paths with geometry) and the width it takes. */
  readonly charts: ReadonlyArray<{ readonly id: string; readonly points: number; readonly marks: number; readonly width: number }>;
  readonly slackCards: number;
  readonly decisionRows: number;
  /** The smallest computed font size of text in the page's paragraphs, cards and tables. */
  readonly smallestFontPx: number;
}

/** Runs in the page (a string: the project compiles without the DOM library). */
const MEASURE = `(() => {
  const charts = [...document.querySelectorAll('figure[data-testid="chart"]')].map((figure) => {
    const svg = [...figure.querySelectorAll('svg')].find((el) => el.getBoundingClientRect().width > 0);
    const marks = svg ? [...svg.querySelectorAll('g[class*="mark-"] path, g[class*="mark-"] line')].filter((el) => (el.getAttribute('d') ?? 'line').length > 2).length : 0;
    return { id: figure.id, points: Number(figure.dataset.points ?? 0), marks, width: svg ? svg.getBoundingClientRect().width : 0 };
  });
  const texts = [...document.querySelectorAll('p, td, .slack-section, .figure .label')];
  return {
    viewportWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    charts,
    slackCards: document.querySelectorAll('[data-testid="slack-card"]').length,
    decisionRows: document.querySelectorAll('table[data-testid="decisions"] tbody tr').length,
    smallestFontPx: Math.min(...texts.map((el) => parseFloat(getComputedStyle(el).fontSize))),
  };
})()`;

export async function measure(page: Page): Promise<PageLayout> {
  return (await page.evaluate(MEASURE)) as PageLayout;
}
