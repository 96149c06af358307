/**
 * The HTML report: Slack mrkdwn and Block Kit as HTML (escaped first), and the page written by
 * `demo --report` / `simulate --report` from a short run: one file with inline SVG charts that
 * carry data, a card per Slack message, a row per remediator decision, nothing external.
 * (The browser tier opens the same pages in Chromium.)
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mrkdwnToHtml, renderSlackCard } from '../../src/sandbox/report/slack-card.js';
import { runCliProcess as runCli } from '../support/cli.js';

describe('Slack card rendering', () => {
  it('turns mrkdwn into HTML after escaping: bold, italic, strike, code, links, code blocks', () => {
    expect(mrkdwnToHtml('*Deployment carts*: _restarted_ ~old~ `kubectl get pods` <https://example.com/d|dashboard> <b>')).toBe(
      '<b>Deployment carts</b>: <i>restarted</i> <s>old</s> <code>kubectl get pods</code> <a href="https://example.com/d" target="_blank" rel="noopener noreferrer">dashboard</a> &lt;b&gt;',
    );
    expect(mrkdwnToHtml('line 1\n```a <x>\nb```')).toBe('line 1<br><pre class="slack-pre">a &lt;x&gt;\nb</pre>');
    // `*` inside code stays literal.
    expect(mrkdwnToHtml('`a *b* c`')).toBe('<code>a *b* c</code>');
  });

  it('draws header, section and context blocks in a card with the app name and time', () => {
    const html = renderSlackCard(
      {
        text: 'fallback',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: '🚨 mesh-cert-watch · prod <1>' } },
          { type: 'section', text: { type: 'mrkdwn', text: '*carts*: expired' } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'sweep `s-1`' }] },
        ],
      },
      { app: 'mesh-cert-watch', time: '09:25 UTC' },
    );
    expect(html).toContain('<div class="slack-header">🚨 mesh-cert-watch · prod &lt;1&gt;</div>');
    expect(html).toContain('<div class="slack-section"><b>carts</b>: expired</div>');
    expect(html).toContain('<div class="slack-context"><span>sweep <code>s-1</code></span></div>');
    expect(html).toContain('<time>09:25 UTC</time>');
  });
});

describe('demo --report and simulate --report', () => {
  it('write one self-contained page with charts, Slack cards and the decisions', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'mcw-report-test-'));
    try {
      const demo = await runCli(['demo', '--sweeps', '8', '--quiet', '--report', join(directory, 'demo.html')]);
      expect([demo.code, demo.stderr.replace(/^mesh-cert-watch: .*tsx.*\n/m, '')]).toEqual([0, '']);
      expect(demo.stdout).toMatch(/report written to .*demo\.html \(\d+ KiB, 3 charts, \d+ Slack messages; opens offline\)/);
      const html = await readFile(join(directory, 'demo.html'), 'utf8');
      const posted = [...demo.stdout.matchAll(/^Slack, (\d+) messages? posted/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(posted).toBeGreaterThan(0);
      expect(html.match(/data-testid="slack-card"/g)).toHaveLength(posted);
      expect(html.match(/<figure class="chart"[^>]*data-points="[1-9]\d*"/g)).toHaveLength(3);
      expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(3);
      expect(html).toContain('<table data-testid="decisions">');
      expect(html).not.toMatch(/<script|<link |src="http|@import/i);

      const simulate = await runCli(['simulate', '--pods', '200', '--hours', '3', '-o', 'json', '--report', join(directory, 'sim.html')]);
      expect(simulate.code).toBe(0);
      // With -o json, stdout stays one JSON document.
      expect(() => JSON.parse(simulate.stdout)).not.toThrow();
      const sim = await readFile(join(directory, 'sim.html'), 'utf8');
      expect(sim.match(/<figure class="chart"[^>]*data-points="[1-9]\d*"/g)).toHaveLength(4);
      expect(sim).toContain('Cost breakdown');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 120_000);

  it('says which file it could not write', async () => {
    const run = await runCli(['simulate', '--pods', '10', '--hours', '1', '--report', '/nonexistent-dir/x.html']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--report: cannot write /nonexistent-dir/x.html');
  });
});
