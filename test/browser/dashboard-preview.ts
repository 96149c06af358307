/**
 * The CloudWatch dashboard as a picture, for the README: the stack is synthesized for the demo's
 * cluster, its DashboardBody parsed, and every widget drawn where CloudWatch puts it (24-column
 * grid, x/y/width/height) with the demo's numbers: the EMF values the sampler emitted each sweep
 * for metric widgets, the handlers' structured log lines for the Logs Insights widgets (each
 * query evaluated in JS for what it selects), the handlers' wall time for Lambda durations, and
 * zeros for the AWS metrics a local run cannot have (queues drained, no throttles, no errors).
 */
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { DASHBOARD_QUERIES } from '../../lib/constructs/monitoring.js';
import { LOG_MESSAGES } from '../../src/config/metric-names.js';
import type { DemoResult } from '../../src/sandbox/demo/run-demo.js';
import { escapeHtml } from '../../src/sandbox/report/slack-card.js';
import { renderWithPlaceholders, resourcesOfType, synthesize } from '../cdk/support/synth.js';

interface Widget {
  readonly type: 'text' | 'metric' | 'log' | 'alarm';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, unknown> & {
    readonly title?: string;
    readonly markdown?: string;
    readonly query?: string;
    readonly view?: string;
    readonly stacked?: boolean;
    readonly metrics?: unknown[][];
    readonly alarms?: string[];
    readonly annotations?: { horizontal?: Array<{ value: number; label: string; color?: string }> };
    readonly yAxis?: { left?: { label?: string } };
  };
}

type Series = { label: string; color?: string; values: Array<{ at: string; value: number }> };

/** The dashboard body of the stack deployed for the demo's cluster, intrinsics resolved to names. */
export function demoDashboardWidgets(cluster: string, rateMinutes: number): Widget[] {
  const input = { region: 'eu-west-1', clusters: [{ name: cluster, schedule: { rateMinutes } }], notifications: { slackWebhookSecret: 'mesh-cert-watch/slack-webhook' } };
  parseDeploymentConfig(input);
  const { template } = synthesize(input);
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
  const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
  const body = renderWithPlaceholders(dashboards[0]!.Properties.DashboardBody, (intrinsic) => {
    const getAtt = (intrinsic as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt && alarms[getAtt[0]]) return String(alarms[getAtt[0]]!.Properties.AlarmName);
    const ref = (intrinsic as { Ref?: string }).Ref ?? getAtt?.[0] ?? 'resource';
    return ref.replace(/[0-9A-F]{8}$/, '');
  });
  return (JSON.parse(body) as { widgets: Widget[] }).widgets;
}

/** A metric row: [namespace, name, ...dims, options] or [{expression, label, id}]. */
function rowParts(row: unknown[]): { namespace?: string; name?: string; dimensions: string; options: Record<string, unknown> } {
  const last = row[row.length - 1];
  const options = typeof last === 'object' && last !== null ? (last as Record<string, unknown>) : {};
  if (typeof row[0] !== 'string') return { dimensions: '', options };
  const dims = row.slice(2).filter((cell): cell is string => typeof cell === 'string');
  const pairs: string[] = [];
  for (let i = 0; i + 1 < dims.length; i += 2) pairs.push(`${dims[i]}=${dims[i + 1]}`);
  return { namespace: row[0], name: String(row[1]), dimensions: pairs.join(','), options };
}

/** A CloudWatch statistic over data points (Sum, Maximum, Average, pNN). */
function statistic(points: readonly number[], stat: string): number {
  if (points.length === 0) return NaN;
  const sorted = [...points].sort((a, b) => a - b);
  if (stat === 'Sum') return sorted.reduce((a, b) => a + b, 0);
  if (stat === 'Maximum') return sorted.at(-1)!;
  if (stat === 'Minimum') return sorted[0]!;
  const percentile = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (percentile) return sorted[Math.min(sorted.length - 1, Math.ceil((Number(percentile[1]) / 100) * sorted.length) - 1)]!;
  return sorted.reduce((a, b) => a + b, 0) / sorted.length;
}

/** The value of one AWS or custom metric at one demo sweep. */
function metricAt(result: DemoResult, index: number, namespace: string, name: string, hint: string, row?: ReturnType<typeof rowParts>): number {
  const sweep = result.sweeps[index]!;
  // Metrics without the Cluster dimension (the rotation metrics, by Source): every data point of
  // the metric's period up to this sweep, reduced with the widget's statistic.
  if (namespace === 'MeshCertWatch' && row && row.dimensions !== '' && !row.dimensions.startsWith('Cluster=')) {
    const periodMs = Number(row.options.period ?? 300) * 1000;
    const points = result.sweeps
      .filter((s) => s.at.getTime() <= sweep.at.getTime() && s.at.getTime() > sweep.at.getTime() - periodMs)
      .flatMap((s) => s.metricDataPoints[`${name}{${row.dimensions}}`] ?? []);
    return statistic(points, String(row.options.stat ?? 'Average'));
  }
  if (namespace === 'MeshCertWatch') return sweep.metricValues[name] ?? NaN;
  if (namespace === 'AWS/Lambda' && name === 'Duration') {
    const fn = (['sampler', 'remediator', 'notifier'] as const).find((f) => hint.includes(f)) ?? 'sampler';
    return sweep.wallMs[fn];
  }
  return 0;
}

function evaluate(expression: string, values: Record<string, number>): number {
  const helpers = {
    MAX: (list: number[]) => Math.max(...list),
    FILL: (value: number, fill: number) => (Number.isFinite(value) ? value : fill),
    IF: (condition: unknown, a: number, b: number) => (condition ? a : b),
  };
  const js = expression.replace(/\bAND\b/g, '&&').replace(/\bOR\b/g, '||');
  const run = new Function(...Object.keys(helpers), ...Object.keys(values), `return (${js});`) as (...args: unknown[]) => number;
  return run(...Object.values(helpers), ...Object.values(values));
}

/** The visible series of a metric widget over the demo's sweeps. */
function metricSeries(widget: Widget, result: DemoResult): Series[] {
  const rows = (widget.properties.metrics ?? []).map(rowParts);
  const series: Series[] = [];
  for (const row of rows) {
    if (row.options.visible === false) continue;
    const label = String(row.options.label ?? row.name ?? row.options.expression ?? '');
    const values = result.sweeps.map((sweep, index) => {
      let value: number;
      if (row.name) value = metricAt(result, index, row.namespace!, row.name, `${widget.properties.title ?? ''} ${label}`, row);
      else {
        const ids: Record<string, number> = {};
        for (const other of rows) {
          const id = other.options.id as string | undefined;
          if (id && other.name) ids[id] = metricAt(result, index, other.namespace!, other.name, `${widget.properties.title ?? ''} ${label}`);
        }
        value = evaluate(String(row.options.expression), ids);
      }
      return { at: sweep.at.toISOString(), value: Math.round(value * 100) / 100 };
    });
    series.push({ label, ...(typeof row.options.color === 'string' ? { color: row.options.color } : {}), values });
  }
  return series;
}

async function lineChart(series: Series[], widget: Widget, width: number, height: number): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const values = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v.value)).map((v) => ({ ...v, series: s.label })));
  const colors = series.map((s, i) => s.color ?? ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'][i % 6]!);
  const annotations = widget.properties.annotations?.horizontal ?? [];
  const legendRows = Math.ceil(series.length / (series.length > 4 ? 2 : 3));
  const spec = {
    width,
    height: height - 16 * Math.max(0, legendRows - 1),
    config: {
      font: 'Amazon Ember, Helvetica Neue, Arial, sans-serif',
      axis: { labelFontSize: 10, titleFontSize: 10, gridColor: '#eaeded' },
      // Many series: a compact legend, so the plot keeps the widget's width.
      legend: { orient: 'bottom', labelFontSize: 10, symbolSize: 60, columns: series.length > 4 ? 2 : 3, labelLimit: series.length > 4 ? 130 : 220 },
      view: { stroke: null },
    },
    layer: [
      {
        data: { values },
        mark: widget.properties.stacked ? { type: 'area', interpolate: 'step-after' } : { type: 'line', strokeWidth: 1.5, point: { size: 10 } },
        encoding: {
          x: { field: 'at', type: 'temporal', title: null, scale: { type: 'utc' }, axis: { format: '%H:%M', tickCount: 5 } },
          y: {
            field: 'value',
            type: 'quantitative',
            title: widget.properties.yAxis?.left?.label ?? null,
            scale: { domainMin: 0, ...(Math.max(0, ...values.map((v) => v.value), ...annotations.map((a) => a.value)) === 0 ? { domainMax: 1 } : {}) },
            axis: { format: '~r' },
            ...(widget.properties.stacked ? { stack: 'zero' } : { stack: null }),
          },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: series.map((s) => s.label), range: colors } },
        },
      },
      ...(annotations.length > 0
        ? [
            {
              data: { values: annotations },
              mark: { type: 'rule', strokeDash: [4, 3] },
              encoding: { y: { field: 'value', type: 'quantitative' }, color: { field: 'color', type: 'nominal', scale: null } },
            },
          ]
        : []),
    ],
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: 'none' });
  try {
    return (await view.toSVG()).replace(/^<svg([^>]*?) width="[\d.]+" height="[\d.]+"/, '<svg$1');
  } finally {
    view.finalize();
  }
}

/** What a Logs Insights query of the dashboard returns over the demo's log lines. */
function logRows(widget: Widget, result: DemoResult): { head: string[]; rows: string[][] } | { bars: Array<{ at: string; series: string; value: number }> } {
  const query = widget.properties.query ?? '';
  const records = result.sweeps.flatMap((sweep) => sweep.logRecords.map((r) => ({ at: sweep.at.toISOString(), ...r.record }) as Record<string, unknown> & { at: string }));
  const is = (key: keyof typeof DASHBOARD_QUERIES) => query.includes(DASHBOARD_QUERIES[key].join('\n| '));
  const str = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const hour = (at: string) => `${at.slice(0, 13)}:00:00.000Z`;
  if (is('unhealthyNow')) {
    const latest = new Map<string, Record<string, unknown> & { at: string }>();
    for (const r of records) if (r.message === LOG_MESSAGES.podUnhealthy || r.message === LOG_MESSAGES.podStateChanged) latest.set(`${str(r.cluster)}/${str(r.namespace)}/${str(r.pod)}`, r);
    const rows = [...latest.values()]
      .filter((r) => r.state !== 'healthy' && r.state !== 'gone')
      .sort((a, b) => Number(a.remainingSeconds ?? Infinity) - Number(b.remainingSeconds ?? Infinity))
      .map((r) => [str(r.cluster), str(r.namespace), str(r.workload), str(r.pod), str(r.node), str(r.state), str(r.findings), r.remainingSeconds == null ? '' : String(Math.floor(Number(r.remainingSeconds) / 60)), str(r.source), str((r.agent as { pod?: string } | undefined)?.pod), str((r.agent as { version?: string } | undefined)?.version), r.at.slice(11, 16)]);
    return { head: ['cluster', 'namespace', 'workload', 'pod', 'node', 'state', 'findings', 'remaining_min', 'source', 'agentPod', 'agentVersion', 'lastSeen'], rows };
  }
  if (is('changes')) {
    const rows = records
      .filter((r) => r.message === LOG_MESSAGES.podStateChanged)
      .reverse()
      .map((r) => [r.at.slice(11, 16), str(r.cluster), str(r.namespace), str(r.workload), str(r.pod), str(r.previousState), str(r.state), str(r.change), str(r.findings), r.remainingSeconds == null ? '' : String(Math.floor(Number(r.remainingSeconds) / 60)), str(r.source)]);
    return { head: ['@timestamp', 'cluster', 'namespace', 'workload', 'pod', 'previousState', 'state', 'change', 'findings', 'remaining_min', 'source'], rows };
  }
  if (is('remediatorDecisions')) {
    const groups = new Map<string, { row: string[]; events: number; last: string; detail: string }>();
    for (const r of records.filter((x) => x.message === LOG_MESSAGES.restartOutcome || x.message === LOG_MESSAGES.agentRestartOutcome)) {
      const w = (r.workload ?? {}) as { kind?: string; name?: string };
      const key = [str(r.cluster), str(r.namespace), str(w.kind), str(w.name), str(r.node), str(r.agentPod), str(r.outcome), str(r.reason)];
      const group = groups.get(key.join('|')) ?? { row: key, events: 0, last: '', detail: '' };
      group.events += 1;
      group.last = r.at.slice(11, 16);
      group.detail = str(r.detail);
      groups.set(key.join('|'), group);
    }
    const rows = [...groups.values()].sort((a, b) => b.last.localeCompare(a.last)).map((g) => [String(g.events), g.detail, g.last, ...g.row]);
    return { head: ['events', 'lastDetail', 'last', 'cluster', 'namespace', 'workload.kind', 'workload.name', 'node', 'agentPod', 'outcome', 'reason'], rows };
  }
  if (is('restartsPerHour')) {
    const bars = new Map<string, number>();
    for (const r of records.filter((x) => x.message === LOG_MESSAGES.restartOutcome)) {
      const series = r.outcome === 'restarted' ? 'rollout_restarts' : r.outcome === 'dry-run' ? 'dry_run' : r.outcome === 'failed' ? 'failed_restarts' : null;
      if (series) bars.set(`${hour(r.at)}|${series}`, (bars.get(`${hour(r.at)}|${series}`) ?? 0) + 1);
    }
    return { bars: [...bars].map(([key, value]) => ({ at: key.split('|')[0]!, series: key.split('|')[1]!, value })) };
  }
  if (is('slackPerHour')) {
    const bars = new Map<string, number>();
    for (const r of records.filter((x) => x.message === LOG_MESSAGES.slackPosted || x.message === LOG_MESSAGES.slackNotPosted)) {
      const key = `${hour(r.at)}|${r.message === LOG_MESSAGES.slackPosted ? 'posted' : 'not_posted'}`;
      bars.set(key, (bars.get(key) ?? 0) + 1);
    }
    return { bars: [...bars].map(([key, value]) => ({ at: key.split('|')[0]!, series: key.split('|')[1]!, value })) };
  }
  if (is('sweepDuration')) {
    return {
      bars: records
        .filter((r) => r.message === LOG_MESSAGES.sweepCompleted || r.message === LOG_MESSAGES.sweepPartial)
        // The demo's clock stands still while a handler runs: its durationMs is 0; use the real time.
        .map((r) => {
          const sweep = result.sweeps.find((s) => s.at.toISOString() === r.at);
          const ms = Number(r.durationMs) || (sweep?.wallMs.sampler ?? 0);
          return { at: r.at, series: 'slowest_sweep_s', value: Math.round(ms / 10) / 100 };
        }),
    };
  }
  if (query.includes('largest_sweep_execs')) {
    // The sampling widget: execs and pods judged from history per sweep, from the sweep line's summary.
    const cluster = /cluster = "([^"]+)"/.exec(query)?.[1];
    const bars = records
      .filter((r) => (r.message === LOG_MESSAGES.sweepCompleted || r.message === LOG_MESSAGES.sweepPartial) && r.cluster === cluster)
      .flatMap((r) => {
        const summary = r.summary as { sampled: number; fromHistory?: number };
        const fromHistory = summary.fromHistory ?? 0;
        return [
          { at: r.at, series: 'largest_sweep_execs', value: summary.sampled - fromHistory },
          { at: r.at, series: 'judged_from_history', value: fromHistory },
          { at: r.at, series: 'partial_sweeps', value: r.message === LOG_MESSAGES.sweepPartial ? 1 : 0 },
        ];
      });
    return bars.length > 0 ? { bars } : { head: ['no sweep of this cluster in this run'], rows: [] };
  }
  if (query.includes('rotations.')) {
    // The rotation widgets: the sweep line's `rotations` fields, when the run kept a history.
    const bars = records
      .filter((r) => (r.message === LOG_MESSAGES.sweepCompleted || r.message === LOG_MESSAGES.sweepPartial) && r.rotations)
      .flatMap((r) => {
        const rotations = r.rotations as Record<string, number | null>;
        const keys = query.includes('interval') ? ['tbot_interval_p50_s', 'istio_agent_interval_p50_s'] : ['observed', 'overdue', 'proven'];
        return keys.filter((k) => typeof rotations[k] === 'number').map((k) => ({ at: r.at, series: k, value: rotations[k]! }));
      });
    return bars.length > 0 ? { bars } : { head: ['no rotation history in this run'], rows: [] };
  }
  return { head: ['(query not evaluated)'], rows: [] };
}

async function barChart(bars: Array<{ at: string; series: string; value: number }>, view: string, width: number, height: number): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const spec = {
    width,
    height,
    config: { font: 'Amazon Ember, Helvetica Neue, Arial, sans-serif', axis: { labelFontSize: 10, titleFontSize: 10, gridColor: '#eaeded' }, legend: { orient: 'bottom', labelFontSize: 10 }, view: { stroke: null } },
    data: { values: bars },
    mark: view === 'bar' ? { type: 'bar' } : { type: 'line', point: { size: 10 } },
    encoding: {
      x: view === 'bar' ? { field: 'at', type: 'ordinal', timeUnit: 'utchoursminutes', title: null } : { field: 'at', type: 'temporal', scale: { type: 'utc' }, axis: { format: '%H:%M', tickCount: 5 }, title: null },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domainMin: 0 }, axis: { format: '~r' }, ...(view === 'bar' ? { stack: 'zero' } : {}) },
      color: { field: 'series', type: 'nominal', title: null },
      ...(view === 'bar' ? { xOffset: undefined } : {}),
    },
  };
  const v = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: 'none' });
  try {
    return (await v.toSVG()).replace(/^<svg([^>]*?) width="[\d.]+" height="[\d.]+"/, '<svg$1');
  } finally {
    v.finalize();
  }
}

const markdown = (text: string): string =>
  text
    .split('\n')
    .map((line) => {
      const html = escapeHtml(line.replace(/^#+ /, '')).replace(/`([^`]+)`/g, '<code>$1</code>');
      return line.startsWith('## ') ? `<h3>${html}</h3>` : line.startsWith('# ') ? `<h2>${html}</h2>` : `<p>${html}</p>`;
    })
    .join('');

const COLUMN_PX = 56;
const ROW_PX = 34;

/** Alarm states at the end of the demo, from the same numbers the alarms read. */
function alarmState(name: string, result: DemoResult): 'ALARM' | 'OK' {
  const last = result.sweeps.at(-1)!.metricValues;
  if (name.endsWith('-expired-pods')) return (last.PodsExpired ?? 0) >= 1 ? 'ALARM' : 'OK';
  if (name.endsWith('-breaker-open')) {
    const unhealthy = (last.PodsSampled ?? 0) - (last.PodsHealthy ?? 0);
    return unhealthy >= 2 && unhealthy / (last.PodsSampled ?? 1) > 0.5 ? 'ALARM' : 'OK';
  }
  if (name.endsWith('-sampling-errors')) return (last.PodsUnreachable ?? 0) / (last.PodsSampled ?? 1) > 0.2 ? 'ALARM' : 'OK';
  return 'OK';
}

/** The dashboard page: every widget of the synthesized body, drawn with the demo's data. */
export async function renderDashboardPreview(widgets: readonly Widget[], result: DemoResult, dashboardName: string): Promise<string> {
  const cells: string[] = [];
  for (const widget of widgets) {
    const width = widget.width * COLUMN_PX - 32;
    const height = widget.height * ROW_PX - 70;
    const title = widget.properties.title ? `<div class="w-title">${escapeHtml(widget.properties.title)}</div>` : '';
    let body = '';
    if (widget.type === 'text') body = `<div class="w-text">${markdown(widget.properties.markdown ?? '')}</div>`;
    else if (widget.type === 'alarm') {
      body = `<div class="w-alarms">${(widget.properties.alarms ?? [])
        .map((name) => {
          const state = alarmState(name, result);
          return `<span class="alarm-state ${state.toLowerCase()}">${state === 'OK' ? '✓' : '!'} ${escapeHtml(name.replace(/^mesh-cert-watch-/, ''))}</span>`;
        })
        .join('')}</div>`;
    } else if (widget.type === 'metric' && widget.properties.view === 'singleValue') {
      const series = metricSeries(widget, result);
      body = `<div class="w-single">${series
        .map((s) => {
          const last = s.values.at(-1)?.value;
          return `<div class="single"><div class="single-label">${escapeHtml(s.label)}</div><div class="single-value" style="color:${s.color ?? '#16191f'}">${last === undefined || !Number.isFinite(last) ? '–' : Math.round(last * 10) / 10}</div></div>`;
        })
        .join('')}</div>`;
    } else if (widget.type === 'metric') {
      body = await lineChart(metricSeries(widget, result), widget, width - 60, height - 40);
    } else if (widget.type === 'log') {
      const rows = logRows(widget, result);
      if ('bars' in rows) body = await barChart(rows.bars, String(widget.properties.view), width - 60, height - 40);
      else {
        body = `<div class="w-table"><table><thead><tr>${rows.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.rows
          .slice(0, Math.max(1, widget.height - 2))
          .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table></div>`;
      }
    }
    cells.push(
      `<section class="widget ${widget.type}" data-testid="widget" style="grid-column:${widget.x + 1} / span ${widget.width};grid-row:${widget.y + 1} / span ${widget.height}">${title}${body}</section>`,
    );
  }
  const rows = Math.max(...widgets.map((w) => w.y + w.height));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(dashboardName)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body { margin: 0; background: #f2f3f3; font: 13px/1.4 "Amazon Ember", "Helvetica Neue", Arial, sans-serif; color: #16191f; }
header { background: #232f3e; color: #fff; padding: 10px 20px; font-size: 15px; }
header small { color: #aab7b8; margin-left: 12px; }
.grid { display: grid; grid-template-columns: repeat(24, ${COLUMN_PX}px); grid-auto-rows: ${ROW_PX}px; grid-template-rows: repeat(${rows}, ${ROW_PX}px); gap: 0; padding: 12px; width: ${24 * COLUMN_PX}px; }
.widget { background: #fff; margin: 4px; border: 1px solid #d5dbdb; border-radius: 2px; padding: 8px 10px; overflow: hidden; }
.widget.text { background: transparent; border: 0; padding: 0 4px; }
.w-title { font-weight: 700; font-size: 13px; margin-bottom: 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.w-text h2 { font-size: 20px; margin: 4px 0; } .w-text h3 { font-size: 16px; margin: 6px 0 0; } .w-text p { margin: 2px 0; color: #545b64; }
code { background: #eaeded; padding: 0 3px; border-radius: 2px; }
.w-alarms { display: flex; flex-wrap: wrap; gap: 6px; }
.alarm-state { padding: 3px 8px; border-radius: 2px; font-size: 12px; }
.alarm-state.ok { background: #e9f5ea; color: #1d8102; } .alarm-state.alarm { background: #fde9e9; color: #d13212; font-weight: 700; }
.w-single { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 12px; }
.single-label { color: #545b64; font-size: 12px; } .single-value { font-size: 30px; font-weight: 300; }
.widget svg { width: 100%; height: auto; }
.w-table { overflow: hidden; } table { border-collapse: collapse; font-size: 11px; width: 100%; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eaeded; white-space: nowrap; } th { color: #545b64; font-weight: 700; }
</style></head><body><header>CloudWatch › Dashboards › <b>${escapeHtml(dashboardName)}</b><small>drawn from the synthesized DashboardBody with the demo's metrics and log lines</small></header>
<div class="grid">${cells.join('\n')}</div></body></html>`;
}
