/**
 * The CloudWatch dashboard, widget by widget, from the synthesized DashboardBody: the "now" tiles,
 * the graphs in minutes with their thresholds, the Logs Insights tables that name the pods (and
 * their queries, which must read the fields the handlers log), the queue, duration, throttle and
 * dead-letter graphs.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { DASHBOARD_QUERIES, samplingQuery } from '../../lib/constructs/monitoring.js';
import { LOG_MESSAGES } from '../../src/config/metric-names.js';
import { exampleConfigInput, renderWithPlaceholders, resourceByPrefix, synthesize } from './support/synth.js';

interface Widget {
  readonly type: string;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title?: string;
    readonly query?: string;
    readonly view?: string;
    readonly markdown?: string;
    readonly metrics?: unknown[][];
    readonly annotations?: { horizontal: Array<{ value: number; label: string }> };
    readonly yAxis?: { left?: { label?: string; min?: number; showUnits?: boolean } };
    readonly sparkline?: boolean;
    readonly stacked?: boolean;
  };
}

let template: Template;
let widgets: Widget[];
beforeAll(() => {
  ({ template } = synthesize(exampleConfigInput()));
  const body = renderWithPlaceholders(resourceByPrefix(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties.DashboardBody, (intrinsic) =>
    // Log group names are Refs: name them after the construct, as the deployed dashboard would.
    `ref:${JSON.stringify(intrinsic).replace(/[^A-Za-z]/g, '').slice(0, 40)}`,
  );
  widgets = (JSON.parse(body) as { widgets: Widget[] }).widgets;
});

const byTitle = (title: string): Widget => {
  const found = widgets.filter((w) => w.properties.title === title);
  if (found.length !== 1) throw new Error(`expected one widget titled "${title}", found ${found.length}: ${widgets.map((w) => w.properties.title).join(' | ')}`);
  return found[0]!;
};
/** `metrics` rows as [namespace, name, ...dimensions, options] or [{expression, ...}]. */
const metricNames = (widget: Widget): string[] => (widget.properties.metrics ?? []).flatMap((row) => (typeof row[1] === 'string' ? [row[1]] : []));
const expressions = (widget: Widget): string[] =>
  (widget.properties.metrics ?? []).flatMap((row) => row.filter((cell): cell is { expression: string } => typeof cell === 'object' && cell !== null && 'expression' in cell).map((cell) => cell.expression));

describe('dashboard: per cluster', () => {
  it('graphs execs per sweep against the cluster\'s exec ceiling, the pods judged from history and partial sweeps, from the sweep log line', () => {
    // 50 exec starts a second (the default budget) over 240 s less the margin of two 15 s execs and 10 s of publishing.
    const sampling = byTitle('Execs per sweep (ceiling 10,000 a sweep), pods judged from history, partial sweeps: prod-eu-1');
    expect(sampling.type).toBe('log');
    expect(sampling.width).toBe(24);
    expect(sampling.properties.query).toContain(samplingQuery('prod-eu-1').join('\n| '));
    for (const field of ['summary.sampled', 'summary.fromHistory', LOG_MESSAGES.sweepPartial, 'cluster = "prod-eu-1"']) expect(sampling.properties.query).toContain(field);
    expect(byTitle('Execs per sweep (ceiling 10,000 a sweep), pods judged from history, partial sweeps: staging-eu-1').properties.query).toContain('cluster = "staging-eu-1"');
  });

  it('has "now" tiles: expired, expiring, stale and minimum remaining validity in minutes, with sparklines', () => {
    for (const cluster of ['prod-eu-1', 'staging-eu-1']) {
      const tiles = byTitle(`Now: ${cluster} (latest sweep)`);
      expect(tiles.type).toBe('metric');
      expect(tiles.properties.sparkline).toBe(true);
      expect(metricNames(tiles)).toEqual(expect.arrayContaining(['PodsExpired', 'PodsExpiring', 'PodsStale', 'MinRemainingSeconds']));
      expect(expressions(tiles)).toEqual(['remaining / 60']);
      const labels = JSON.stringify(tiles.properties.metrics);
      for (const label of ['expired pods', 'expiring pods', 'stale pods', 'min remaining validity (minutes)']) expect(labels).toContain(label);
      expect(JSON.stringify(tiles.properties.metrics)).toContain(`"Cluster","${cluster}"`);
    }
  });

  it('stacks pods per state, with missing derived from the counts (no metric of its own)', () => {
    const states = byTitle('Pods per state: prod-eu-1');
    expect(states.properties.stacked).toBe(true);
    expect(metricNames(states)).toEqual(expect.arrayContaining(['PodsHealthy', 'PodsStale', 'PodsExpiring', 'PodsExpired', 'PodsUnreachable', 'PodsSampled']));
    expect(expressions(states)).toEqual(['MAX([0, sampled - healthy - stale - expiring - expired - unreachable])']);
    expect(states.properties.yAxis?.left).toMatchObject({ label: 'pods', min: 0 });
  });

  it('draws remaining validity in minutes against the thresholds, units on the axis: 20% of 1 h = 12 min, 60% stale = 24 min left', () => {
    const prod = byTitle('Min remaining validity vs thresholds: prod-eu-1');
    expect(expressions(prod)).toEqual(['remaining / 60']);
    expect(prod.properties.yAxis?.left).toMatchObject({ label: 'minutes', min: 0 });
    expect(prod.properties.annotations?.horizontal.map((a) => a.value)).toEqual([24, 12, 0]);
    expect(prod.properties.annotations?.horizontal[1]!.label).toBe('expiring below 12 min (expiring-within 20%, 20% of the 60 min TTL)');
    // Fixed durations: stale after 36 min = 24 min left; expiring within 12 min.
    expect(byTitle('Min remaining validity vs thresholds: staging-eu-1').properties.annotations?.horizontal.map((a) => a.value)).toEqual([24, 12, 0]);
  });
});

describe('dashboard: pods by name (Logs Insights)', () => {
  it('"unhealthy now" reads each pod\'s latest line from the sampler log group and keeps those not healthy', () => {
    const table = byTitle("Unhealthy now (each pod's latest state in the time range; remaining in minutes)");
    expect(table.type).toBe('log');
    expect(table.properties.view).toBe('table');
    expect(table.width).toBe(24);
    const query = table.properties.query!;
    expect(query).toMatch(/^SOURCE 'ref:[A-Za-z]*Sampler[A-Za-z]*' \| /);
    expect(query).toContain(`filter message in ["${LOG_MESSAGES.podUnhealthy}", "${LOG_MESSAGES.podStateChanged}"]`);
    expect(query).toContain('filter stateNow not in ["healthy", "gone"]');
    for (const field of ['cluster', 'namespace', 'workload', 'pod', 'node', 'state', 'findings', 'remainingMin', 'source', 'agent.pod', 'agent.version']) {
      expect(query).toMatch(new RegExp(`[ (,]${field.replace('.', '\\.')}([ ),\\n]|$)`));
    }
    expect(query).toContain(DASHBOARD_QUERIES.unhealthyNow.join('\n| '));
  });

  it('"changes in the last 24 h" lists state changes newest first, and the dashboard range defaults to 24 h', () => {
    const table = byTitle("Changes in the last 24 h (the dashboard's time range), newest first");
    expect(table.properties.view).toBe('table');
    expect(table.properties.query).toContain(`filter message = "${LOG_MESSAGES.podStateChanged}"`);
    expect(table.properties.query).toContain('sort @timestamp desc');
    expect(table.properties.query).toContain('previousState, state, change');
    const dashboard = resourceByPrefix(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties.DashboardBody;
    expect(renderWithPlaceholders(dashboard)).toContain('"start":"-P1D"');
  });

  it('groups the remediator\'s decisions from its log group', () => {
    const table = byTitle('Remediator decisions');
    expect(table.properties.query).toMatch(/^SOURCE 'ref:[A-Za-z]*Remediator[A-Za-z]*' \| /);
    expect(table.properties.query).toContain(`filter message in ["${LOG_MESSAGES.restartOutcome}", "${LOG_MESSAGES.agentRestartOutcome}"]`);
    expect(table.properties.query).toContain('by cluster, namespace, workload.kind, workload.name, node, agentPod, outcome, reason');
  });
});

describe('dashboard: restarts, notifications, the watcher itself', () => {
  it('puts the CronJob\'s pod restarts per hour beside the watcher\'s rollout restarts', () => {
    const cron = byTitle('Pods the 45-minute CronJob would restart (per hour)');
    expect(expressions(cron)).toEqual(['FILL(pods0, 0) * 60 / 45', 'FILL(pods1, 0) * 60 / 45']);
    const restarts = byTitle('Watcher rollout restarts per hour');
    expect(restarts.properties.view).toBe('bar');
    expect(restarts.properties.query).toContain('stats sum(restarted) as rollout_restarts, sum(dryRun) as dry_run, sum(failed) as failed_restarts by bin(1h)');
    const slack = byTitle('Slack messages per hour');
    expect(slack.properties.query).toMatch(/^SOURCE 'ref:[A-Za-z]*Notifier[A-Za-z]*' \| /);
    expect(slack.properties.query).toContain(`filter message in ["${LOG_MESSAGES.slackPosted}", "${LOG_MESSAGES.slackNotPosted}"]`);
  });

  it('graphs each notification channel of the configuration: payloads sent and failed sends, by Channel', () => {
    for (const channel of ['slack', 'pagerduty']) {
      const graph = byTitle(`Notifications: ${channel} (per hour)`);
      expect(metricNames(graph)).toEqual(['NotificationsSent', 'NotificationsFailed']);
      for (const row of graph.properties.metrics!) expect(row.slice(0, 4)).toEqual(['MeshCertWatch', row[1], 'Channel', channel]);
    }
    expect(widgets.filter((w) => w.properties.title?.startsWith('Notifications: '))).toHaveLength(2);
  });

  it('graphs the notification queue\'s age in minutes and its depth', () => {
    const age = byTitle('Notification queue: age of oldest message');
    expect(metricNames(age)).toEqual(['ApproximateAgeOfOldestMessage']);
    expect(expressions(age)).toEqual(['age / 60']);
    expect(age.properties.yAxis?.left?.label).toBe('minutes');
    const depth = byTitle('Notification queue: depth');
    expect(metricNames(depth)).toEqual(['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible']);
  });

  it('graphs each function\'s p99 duration in seconds against its timeout (and the sampler\'s sweep deadline)', () => {
    const expected = { sampler: [220, 240], remediator: [60], notifier: [30] } as Record<string, number[]>;
    for (const component of ['sampler', 'remediator', 'notifier']) {
      const graph = byTitle(`${component}: p99 duration vs timeout`);
      expect(metricNames(graph)).toEqual(['Duration']);
      expect(JSON.stringify(graph.properties.metrics)).toContain('"stat":"p99"');
      expect(expressions(graph)).toEqual(['duration / 1000']);
      expect(graph.properties.yAxis?.left?.label).toBe('seconds');
      expect(graph.properties.annotations?.horizontal.map((a) => a.value)).toEqual(expected[component]);
    }
  });

  it('graphs Lambda errors and throttles, DynamoDB throttled reads and writes per table, dead letters and sweep duration', () => {
    expect(metricNames(byTitle('Lambda errors and throttles'))).toEqual(['Errors', 'Throttles', 'Errors', 'Throttles', 'Errors', 'Throttles']);
    const dynamo = byTitle('DynamoDB throttled requests');
    expect(metricNames(dynamo)).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents', 'ReadThrottleEvents', 'WriteThrottleEvents', 'ReadThrottleEvents', 'WriteThrottleEvents']);
    expect(metricNames(byTitle('Dead letters'))).toEqual(['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesVisible']);
    expect(byTitle('Sweep duration (seconds)').properties.query).toContain('stats max(sweepSeconds) as slowest_sweep_s');
  });

  it('graphs the rotation metrics once for the deployment: [Source] only, no Cluster dimension', () => {
    const observed = byTitle('Rotations observed, all clusters (per sweep interval)');
    expect(observed.type).toBe('metric');
    expect(observed.properties.metrics).toEqual([
      ['MeshCertWatch', 'RotationsObserved', 'Source', 'tbot', expect.objectContaining({ stat: 'Sum', label: 'tbot: rotations' })],
      ['MeshCertWatch', 'RotationsObserved', 'Source', 'istio-agent', expect.objectContaining({ stat: 'Sum', label: 'istio-agent: rotations' })],
    ]);
    const interval = byTitle('Observed rotation interval, all clusters (median and maximum per hour)');
    expect(interval.properties.metrics).toEqual([
      ['MeshCertWatch', 'RotationIntervalMinutes', 'Source', 'tbot', expect.objectContaining({ stat: 'p50', period: 3600 })],
      ['MeshCertWatch', 'RotationIntervalMinutes', 'Source', 'tbot', expect.objectContaining({ stat: 'Maximum', period: 3600 })],
      ['MeshCertWatch', 'RotationIntervalMinutes', 'Source', 'istio-agent', expect.objectContaining({ stat: 'p50', period: 3600 })],
      ['MeshCertWatch', 'RotationIntervalMinutes', 'Source', 'istio-agent', expect.objectContaining({ stat: 'Maximum', period: 3600 })],
    ]);
    expect(interval.properties.annotations!.horizontal.map((a) => [a.value, a.label])).toEqual([
      [20, 'tbot renews every 20 min (renewal_interval)'],
      [30, 'Istio agent rotates at half-life (30 min)'],
      [60, 'certificate TTL (60 min)'],
    ]);
    expect(interval.properties.yAxis?.left?.label).toBe('minutes');
    // One row for the deployment, however many clusters; no rotation metric row carries a Cluster.
    const rotationRows = widgets.flatMap((w) => (w.properties.metrics ?? []).filter((row) => row[1] === 'RotationsObserved' || row[1] === 'RotationIntervalMinutes'));
    expect(rotationRows).toHaveLength(6);
    for (const row of rotationRows) expect(row).not.toContain('Cluster');
  });

  it('labels every graph axis with its unit', () => {
    for (const widget of widgets.filter((w) => w.type === 'metric' && !w.properties.sparkline && w.properties.title !== 'Alarms')) {
      expect([widget.properties.title, widget.properties.yAxis?.left?.label]).toEqual([widget.properties.title, expect.stringMatching(/^(pods|minutes|seconds|messages|invocations|requests|pods per hour)$/)]);
    }
  });
});
