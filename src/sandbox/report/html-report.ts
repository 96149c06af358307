/**
 * One self-contained HTML file for `demo --report FILE` and `simulate --report FILE`: the run's
 * charts as inline SVG (charts.ts), every Slack message as a card (slack-card.ts), the
 * remediator's decisions as a table. No script, no external resource: it opens offline, and a
 * strict Content-Security-Policy says so.
 *
 * The report is built from the runs' own recorded data (DemoResult, SimulationReport) through
 * one neutral shape, ReportData, so a change to the demo's story (new problems, new decisions)
 * shows up without touching this file.
 */
import { parseThreshold, thresholdSeconds } from '../../core/model/threshold.js';
import { STATES } from '../../core/model/types.js';
import type { DemoResult } from '../demo/run-demo.js';
import type { SimulationReport } from '../simulation/report.js';
import { STATE_COLORS } from '../../core/render/state-colors.js';
import { barsChart, remainingChart, restartsChart, statesChart, type Chart, type RemainingPoint, type RestartPoint, type StatePoint } from './charts.js';
import { escapeHtml, renderSlackCard, SLACK_CARD_CSS, type CardMessage } from './slack-card.js';

const CRONJOB_MINUTES = 45;

export interface ReportDecision {
  readonly at: string;
  readonly subject: string;
  readonly namespace: string;
  readonly outcome: string;
  readonly reason: string;
  readonly message: string;
}

export interface ReportData {
  readonly title: string;
  readonly intro: readonly string[];
  /** Key figures, shown as tiles. */
  readonly figures: ReadonlyArray<{ readonly label: string; readonly value: string; readonly tone?: 'good' | 'bad' | 'neutral' }>;
  readonly charts: readonly Chart[];
  readonly slack: ReadonlyArray<{ readonly at: string; readonly message: CardMessage }>;
  readonly decisions: readonly ReportDecision[];
  /** Extra tables (e.g. the cost breakdown): title, header row, rows. */
  readonly tables: ReadonlyArray<{ readonly title: string; readonly head: readonly string[]; readonly rows: ReadonlyArray<readonly string[]> }>;
  readonly footer: string;
}

const hhmm = (iso: string): string => iso.slice(11, 16);

/** The demo's recorded sweeps as report data. */
export async function demoReportData(result: DemoResult): Promise<ReportData> {
  const { intro, sweeps } = result;
  const timeTitle = `time (UTC), ${intro.start.toISOString().slice(0, 10)}`;
  const states: StatePoint[] = sweeps.flatMap((sweep) => STATES.map((state) => ({ at: sweep.at.toISOString(), state, pods: sweep.report.summary[state] })));
  const remaining: RemainingPoint[] = sweeps.flatMap((sweep) => {
    const left = sweep.report.pods.flatMap((pod) => (pod.certificate ? [pod.certificate.remainingSeconds] : []));
    return left.length > 0 ? [{ at: sweep.at.toISOString(), minutes: Math.round((Math.min(...left) / 60) * 10) / 10 }] : [];
  });
  const first = sweeps[0]?.report;
  const lifetime = Math.max(0, ...sweeps.flatMap((s) => s.report.pods.flatMap((p) => (p.certificate ? [p.certificate.lifetimeSeconds] : []))));
  const thresholdLines = first && lifetime > 0
    ? [
        { label: `stale (older than ${first.thresholds.staleAfter})`, minutes: Math.round((lifetime - thresholdSeconds(parseThreshold(first.thresholds.staleAfter), lifetime)) / 60), color: STATE_COLORS.stale },
        { label: `expiring (within ${first.thresholds.expiringWithin})`, minutes: Math.round(thresholdSeconds(parseThreshold(first.thresholds.expiringWithin), lifetime) / 60), color: STATE_COLORS.expiring },
      ]
    : [];

  // Restarts: pods the watcher's rollouts replaced, against the CronJob restarting every pod every 45 minutes from the start.
  const restarts: RestartPoint[] = [];
  let watcherPods = 0;
  const startMs = intro.start.getTime();
  for (const sweep of sweeps) {
    watcherPods += sweep.replacements.reduce((n, r) => n + r.removed.length, 0);
    const runs = Math.floor((sweep.at.getTime() - startMs) / (CRONJOB_MINUTES * 60_000)) + 1;
    restarts.push({ at: sweep.at.toISOString(), who: 'mesh-cert-watch', pods: watcherPods });
    restarts.push({ at: sweep.at.toISOString(), who: `CronJob (every ${CRONJOB_MINUTES} min)`, pods: runs * intro.podCount });
  }

  // Workload restarts and tbot agent restarts, in the order the remediator decided them per sweep.
  const decisions: ReportDecision[] = sweeps.flatMap((sweep) => [
    ...sweep.remediation.map((detail) => {
      const subject = detail.workload ? `${detail.workload.kind} ${detail.workload.name}` : detail.podUid;
      return { at: hhmm(sweep.at.toISOString()), subject, namespace: detail.namespace, outcome: detail.outcome, reason: String(detail.reason), message: detail.message };
    }),
    ...sweep.agentRestarts.map((detail) => ({
      at: hhmm(sweep.at.toISOString()),
      subject: `tbot agent ${detail.agentPod ?? '(none)'} on node ${detail.node}`,
      namespace: detail.namespace,
      outcome: detail.outcome,
      reason: String(detail.reason),
      message: detail.message,
    })),
  ]);
  const slack = sweeps.flatMap((sweep) => sweep.slack.map((post) => ({ at: hhmm(sweep.at.toISOString()), message: post.payload as CardMessage })));
  const expired = new Set(sweeps.flatMap((s) => s.report.pods.filter((p) => p.state === 'expired').map((p) => `${p.namespace}/${p.name}`)));
  const minutes = intro.sweeps * intro.intervalMinutes;
  const cronJob = Math.floor((minutes - 1) / CRONJOB_MINUTES + 1) * intro.podCount;

  return {
    title: `mesh-cert-watch demo: ${intro.cluster}, ${intro.sweeps} sweeps`,
    intro: [
      `The real sampler, remediator and notifier Lambda handlers watching a simulated EKS cluster "${intro.cluster}" (${intro.podCount} injected pods), one sweep every ${intro.intervalMinutes} minutes from ${intro.start.toISOString().slice(0, 16).replace('T', ' ')} UTC, on an accelerated clock. Restarts are real (dry-run off).`,
      `Scripted problems: ${intro.problems.map((p) => `${p.where}: ${p.description}`).join('; ')}.`,
    ],
    figures: [
      { label: 'pods', value: String(intro.podCount) },
      { label: 'sweeps', value: `${intro.sweeps} × ${intro.intervalMinutes} min` },
      { label: 'pods restarted by the watcher', value: String(watcherPods), tone: 'good' },
      { label: `by the ${CRONJOB_MINUTES}-minute CronJob`, value: String(cronJob), tone: 'bad' },
      { label: 'certificates seen expired', value: String(expired.size), tone: expired.size > 0 ? 'bad' : 'good' },
      { label: 'Slack messages', value: String(slack.length) },
    ],
    charts: [await statesChart(states, timeTitle), await remainingChart(remaining, thresholdLines, timeTitle), await restartsChart(restarts, timeTitle)],
    slack,
    decisions,
    tables: [],
    footer: `Written by \`mesh-cert-watch demo --report\`. ${result.metrics.length} distinct CloudWatch metrics were emitted as EMF during the run.`,
  };
}

/** The simulation's timeline and cost as report data (no Slack: the model has no messages). */
export async function simulationReportData(report: SimulationReport): Promise<ReportData> {
  const { result, cost } = report;
  const { settings, timeline } = result;
  const at = (minute: number): string => new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString();
  const timeTitle = 'time into the run (HH:MM)';
  const states: StatePoint[] = timeline.sweeps.flatMap((sweep) =>
    (['healthy', 'stale', 'expiring', 'expired'] as const).map((state) => ({ at: at(sweep.minute), state, pods: sweep[state] })),
  );
  const remaining: RemainingPoint[] = timeline.sweeps.map((sweep) => ({ at: at(sweep.minute), minutes: sweep.minRemainingMinutes }));
  const lifetime = settings.lifetimeMinutes;
  const restarts: RestartPoint[] = [
    ...timeline.sweeps.map((sweep) => ({ at: at(sweep.minute), who: 'mesh-cert-watch', pods: sweep.watcherPodRestarts })),
    ...timeline.cronJobRuns.map((run) => ({ at: at(run.minute), who: `CronJob (every ${settings.cronJobIntervalMinutes} min)`, pods: run.podRestarts })),
  ];
  const usd = (n: number): string => `$${n.toFixed(2)}`;
  const scopeTitle = { cluster: 'per cluster (fixed)', pods: `for ${cost.pods.toLocaleString('en-US')} pods`, deployment: 'per deployment (fixed)' } as const;
  return {
    title: `mesh-cert-watch simulate: ${settings.pods.toLocaleString('en-US')} pods, ${result.brokenPods} broken, ${settings.hours} h`,
    intro: [
      `A model of the mesh minute by minute (no Kubernetes): ${lifetime}-minute certificates renewed at half-life; ${result.brokenPods} pods stop renewing at random times. The watcher sweeps every ${settings.scheduleMinutes} minutes and restarts expiring or expired pods under a cooldown of ${settings.cooldownMinutes} min and a budget of ${settings.budgetPerHour} restarts an hour; the CronJob restarts every pod every ${settings.cronJobIntervalMinutes} minutes.`,
    ],
    figures: [
      { label: 'pod restarts per day, watcher', value: Math.round(report.perDay.watcherPodRestarts).toLocaleString('en-US'), tone: 'good' },
      { label: 'pod restarts per day, CronJob', value: Math.round(report.perDay.cronJobPodRestarts).toLocaleString('en-US'), tone: 'bad' },
      { label: 'expiries, watcher', value: String(result.watcher.expiries), tone: result.watcher.expiries > 0 ? 'bad' : 'good' },
      { label: 'cost per month', value: usd(cost.totalUsd) },
      { label: 'fixed per cluster', value: usd(cost.perClusterFixedUsd) },
      { label: 'per 1,000 pods', value: usd(cost.variablePer1000PodsUsd) },
    ],
    charts: [
      await statesChart(states, timeTitle),
      await remainingChart(remaining, [
        { label: `stale (older than ${Math.round(settings.staleAfterShare * 100)}%)`, minutes: Math.round(lifetime * (1 - settings.staleAfterShare)), color: STATE_COLORS.stale },
        { label: `expiring (within ${Math.round(settings.expiringWithinShare * 100)}%)`, minutes: Math.round(lifetime * settings.expiringWithinShare), color: STATE_COLORS.expiring },
      ], timeTitle),
      await restartsChart(restarts, timeTitle),
      await barsChart(
        'chart-cost',
        `What ${cost.pods.toLocaleString('en-US')} pods cost per month`,
        'us-east-1 list prices, no free tier; from this run\'s event rates and the benchmark\'s sampler model.',
        cost.lines.map((line) => ({ label: line.item, group: scopeTitle[line.scope], value: Math.round(line.usd * 100) / 100 })),
        'USD per month',
      ),
    ],
    slack: [],
    decisions: [],
    tables: [
      {
        title: 'Cost breakdown',
        head: ['item', 'per month', 'USD'],
        rows: [...cost.lines.map((line) => [`${line.item} (${scopeTitle[line.scope]})`, line.quantity, usd(line.usd)]), ['total', '', usd(cost.totalUsd)]],
      },
    ],
    footer: 'Written by `mesh-cert-watch simulate --report`.',
  };
}

const PAGE_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d1c1d; font: 15px/1.5 Lato, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 32px 0 12px; }
p { margin: 0 0 8px; max-width: 80ch; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 20px 0; }
.figure { background: #fff; border-radius: 8px; padding: 12px 14px; border: 1px solid #e3e5e8; }
.figure .value { font-size: 26px; font-weight: 700; }
.figure .label { color: #5e6470; font-size: 13px; }
.figure.good .value { color: #1a7f37; }
.figure.bad .value { color: #c62828; }
figure.chart { background: #fff; border: 1px solid #e3e5e8; border-radius: 8px; margin: 0 0 16px; padding: 14px 16px 8px; }
figure.chart h3 { margin: 0 0 4px; font-size: 16px; }
figure.chart figcaption { color: #5e6470; font-size: 13px; margin-bottom: 6px; }
figure.chart svg { width: 100%; height: auto; display: block; }
.chart-narrow { display: none; }
.cards { display: grid; grid-template-columns: 1fr; gap: 0; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid #e3e5e8; border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #eceff1; vertical-align: top; }
th { background: #fafbfc; font-weight: 700; }
td.message { min-width: 280px; }
.outcome { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; font-weight: 700; background: #eceff1; }
.outcome.restarted { background: #dafbe1; color: #1a7f37; }
.outcome.failed { background: #ffebe9; color: #c62828; }
.outcome.skipped { background: #fff8c5; color: #7d5e00; }
footer { color: #5e6470; font-size: 12px; margin-top: 32px; }
@media (max-width: 600px) {
  .chart-wide { display: none; }
  .chart-narrow { display: block; }
  figure.chart { padding: 10px 8px 6px; }
  main { padding: 16px 12px 32px; }
  h1 { font-size: 21px; }
  .figure .value { font-size: 21px; }
  th, td { padding: 5px 6px; }
  td.message { min-width: 200px; }
}
${SLACK_CARD_CSS}`;

const inlineCode = (text: string): string => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

/** The HTML page of a report. */
export function renderReportHtml(data: ReportData): string {
  const figures = data.figures.map((f) => `<div class="figure${f.tone ? ` ${f.tone}` : ''}"><div class="value">${escapeHtml(f.value)}</div><div class="label">${escapeHtml(f.label)}</div></div>`).join('\n');
  const charts = data.charts
    .map((c) => `<figure class="chart" id="${c.id}" data-testid="chart" data-points="${c.points}"><h3>${escapeHtml(c.title)}</h3><figcaption>${escapeHtml(c.caption)}</figcaption><div class="chart-wide">${c.svg}</div><div class="chart-narrow">${c.narrowSvg}</div></figure>`)
    .join('\n');
  const slack = data.slack.length
    ? `<h2 id="slack">Slack messages (${data.slack.length})</h2>
<p>Each message as the notifier posted it (Block Kit), drawn the way Slack shows it.</p>
<div class="cards">${data.slack.map((s) => renderSlackCard(s.message, { app: 'mesh-cert-watch', time: `${s.at} UTC` })).join('\n')}</div>`
    : '';
  const decisions = data.decisions.length
    ? `<h2 id="decisions">The remediator's decisions (${data.decisions.length})</h2>
<div class="table-wrap"><table data-testid="decisions"><thead><tr><th>time (UTC)</th><th>namespace</th><th>workload</th><th>outcome</th><th>reason</th><th>why</th></tr></thead><tbody>
${data.decisions.map((d) => `<tr><td>${escapeHtml(d.at)}</td><td>${escapeHtml(d.namespace)}</td><td>${escapeHtml(d.subject)}</td><td><span class="outcome ${escapeHtml(d.outcome)}">${escapeHtml(d.outcome)}</span></td><td>${escapeHtml(d.reason)}</td><td class="message">${escapeHtml(d.message)}</td></tr>`).join('\n')}
</tbody></table></div>`
    : '';
  const tables = data.tables
    .map(
      (t) => `<h2>${escapeHtml(t.title)}</h2>
<div class="table-wrap"><table><thead><tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${t.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
<h1>${escapeHtml(data.title)}</h1>
${data.intro.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<div class="figures">${figures}</div>
<h2 id="charts">Over the run</h2>
${charts}
${slack}
${decisions}
${tables}
<footer>${inlineCode(data.footer)}</footer>
</main>
</body>
</html>
`;
}
