/**
 * What the watcher costs to run, per month, from the event rates of a simulation run and the
 * deployment's defaults (function memory, schedule, sampler concurrency). Prices are us-east-1
 * list prices without free tiers; every assumption is a named constant so the README and the
 * output can state it.
 *
 * The sampler's duration is the benchmark's model: N·L/C (pods sampled × exec latency /
 * concurrency) times the overhead `npm run bench` measured over that floor; with due-based
 * sampling (the default) a sweep samples the share of pods `npm run bench -- due` measured.
 * It dominates the Lambda bill and grows with the mesh. CloudWatch custom metrics and alarms are a fixed amount per cluster, which
 * is why there are so few of them (SAMPLER_METRICS: seven); the pods by name are log lines. The
 * rotation metrics have no Cluster dimension: a fixed amount per deployment (ROTATION_METRICS).
 *
 * Three kinds of line: per cluster and month whatever its size (metrics, alarms, the schedule,
 * the per-sweep log and ledger read), per deployment whatever its clusters (dashboard, Slack
 * secret, the notifier's per-channel metrics, dead-letter alarms, the notifier queue's idle
 * polling), and per pod (everything else).
 */
import { CUSTOM_METRICS, DEPLOYMENT_CUSTOM_METRICS, NOTIFIER_METRICS_PER_CHANNEL } from '../../config/metric-names.js';
import type { SimulationResult } from './model.js';

/** us-east-1 list prices, USD, no free tier. */
export const PRICES = {
  lambdaGbSecond: 0.0000166667,
  lambdaRequest: 0.2 / 1e6,
  eventBridgeEvent: 1.0 / 1e6,
  schedulerInvocation: 1.0 / 1e6,
  customMetricMonth: 0.3,
  /** Per metric an alarm reads (a metric-math alarm over two metrics bills two). */
  alarmMetricMonth: 0.1,
  /** Beyond the first three dashboards of an account. */
  dashboardMonth: 3,
  secretMonth: 0.4,
  logsIngestionGb: 0.5,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  sqsRequest: 0.4 / 1e6,
  secretsManagerCall: 0.05 / 10_000,
  s3PutOrListRequest: 0.005 / 1000,
  s3GetRequest: 0.0004 / 1000,
  s3StorageGbMonth: 0.023,
} as const;

/**
 * Rotation history: one snapshot per sweep, one entry per pod: 496 bytes of JSON, 110 gzip'd
 * (measured on 1,000 pods with 16-byte serials). Per sweep one LIST, one GET and one PUT, whatever
 * the pod count; storage is the snapshots the lifecycle rule keeps (7 days by default).
 */
export const HISTORY_GZIP_BYTES_PER_POD = 110;
export const HISTORY_RETENTION_DAYS = 7;

/**
 * `npm run bench` (2-core machine, 100 ms exec latency, concurrency 32, 2026-11-27): 500 pods in
 * 1.99 s (1.28× the floor N·L/C), 2,000 in 7.34 s (1.17×), 5,000 in 18.11 s (1.16×); sampler peak
 * RSS 207 MB. The cost model takes the worst ratio; Lambda bills the configured memory (512 MiB).
 */
export const SAMPLER_BENCHMARK = { execLatencyMs: 100, concurrency: 32, overheadOverFloor: 1.28, peakRssMb: 207 } as const;

/** Assumed, not measured here: the API and Slack round trips of the other two functions. */
export const ASSUMED_DURATIONS_MS = { remediator: 400, notifier: 800 } as const;
/**
 * Per sampler invocation: the summary log line, the [Cluster] EMF document, Lambda's
 * START/END/REPORT, and the two [Source] rotation EMF documents (about 300 bytes each without
 * their interval values).
 */
export const LOG_BYTES_PER_SWEEP = 3_600;
/**
 * Rotation interval data points in the [Source] EMF documents: one per observed rotation, about 6
 * bytes each (`21.5,`); a tbot pod rotates every 20 minutes (3 an hour), an Istio agent pod less.
 */
export const LOG_BYTES_PER_ROTATION = 6;
export const ROTATIONS_PER_POD_HOUR = 3;
/**
 * One `pod certificate unhealthy` / `state changed` line with Powertools' Lambda context keys and
 * CloudWatch's 26-byte event overhead (the demo test measures them below this).
 */
export const LOG_BYTES_PER_POD_LINE = 1_000;
/** Per remediator or notifier invocation: its lines and Lambda's START/END/REPORT. */
export const LOG_BYTES_PER_INVOCATION = 1_500;
/** The Lambda SQS event source mapping long-polls an idle queue: ≈ 5 pollers × 3 ReceiveMessage a minute. */
export const IDLE_SQS_REQUESTS_PER_MONTH = 5 * 3 * 60 * 730;
export const HOURS_PER_MONTH = 730;

/** Custom metrics per cluster: the sampler's, dimension set [Cluster]. */
export const CUSTOM_METRICS_PER_CLUSTER = CUSTOM_METRICS.length;
/**
 * Custom metrics per deployment: the rotation metrics, dimension set [Source] without Cluster
 * (two names × tbot, istio-agent; a mesh with one source pays for two).
 */
export const CUSTOM_METRICS_PER_DEPLOYMENT = DEPLOYMENT_CUSTOM_METRICS.length;
/**
 * Metrics the alarms of one cluster read: expired pods (1), sampling errors (unreachable /
 * sampled: 2), sweeps missing (1), breaker (sampled, healthy: 2). The CDK test counts them.
 */
export const ALARM_METRICS_PER_CLUSTER = 6;
/** Dead-letter queues alarmed, one metric each: sampler, remediator, notifications. */
export const DEAD_LETTER_ALARMS = 3;
/** Errors and throttles of each of the three functions, one metric each. */
export const FUNCTION_ALARMS = 3 * 2;

export interface CostInputs {
  readonly samplerMemoryMiB: number;
  readonly remediatorMemoryMiB: number;
  readonly notifierMemoryMiB: number;
  /** Sampler concurrency (pods sampled at once). */
  readonly concurrency: number;
  readonly execLatencyMs: number;
  /**
   * Pods sampled per sweep, as a share of the cluster, on average: 1 when every pod is sampled;
   * with due-based sampling (the deployment's default) the others are judged from history.
   * @default 1
   */
  readonly sampledShare?: number;
  /** Days the rotation-history snapshots are kept (`history.retentionDays`). @default 7 */
  readonly historyRetentionDays?: number;
  /** Notification channels in use (Slack, PagerDuty): each has the notifier's metrics. @default 1 */
  readonly channels?: number;
}

/** What a line grows with. */
export type CostScope = 'cluster' | 'deployment' | 'pods';

export interface CostLine {
  readonly item: string;
  /** What is counted, per month. */
  readonly quantity: string;
  readonly usd: number;
  readonly scope: CostScope;
}

export interface CostEstimate {
  /** Pods of the one cluster the figures are for. */
  readonly pods: number;
  readonly sweepsPerMonth: number;
  /** Pods sampled per sweep on average, as a share of the cluster (see CostInputs). */
  readonly sampledShare: number;
  readonly samplerSecondsPerSweep: number;
  readonly lines: readonly CostLine[];
  /** Everything, for one cluster of `pods` pods in one deployment. */
  readonly totalUsd: number;
  /** Per cluster, whatever its size. */
  readonly perClusterFixedUsd: number;
  /** Per deployment, whatever its clusters. */
  readonly perDeploymentFixedUsd: number;
  /** What grows with pods, per 1,000 pods. */
  readonly variablePer1000PodsUsd: number;
}

const gb = (mib: number): number => mib / 1024;
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));
const sum = (lines: readonly CostLine[], scope: CostScope): number => lines.filter((l) => l.scope === scope).reduce((total, l) => total + l.usd, 0);

/**
 * Monthly cost of watching `pods` pods (default: the simulated mesh's size) in one cluster at the
 * simulation's schedule, with the simulation's event rates scaled to that many pods and a month.
 */
export function estimateCost(result: SimulationResult, inputs: CostInputs, pods = result.settings.pods): CostEstimate {
  const { settings, watcher } = result;
  const monthScale = (HOURS_PER_MONTH * 60) / result.minutes;
  const podScale = pods / settings.pods;
  const perMonth = (n: number): number => n * monthScale * podScale;

  const sweepsPerMonth = (HOURS_PER_MONTH * 60) / settings.scheduleMinutes;
  const sampledShare = inputs.sampledShare ?? 1;
  const samplerSecondsPerSweep = (SAMPLER_BENCHMARK.overheadOverFloor * pods * sampledShare * inputs.execLatencyMs) / 1000 / inputs.concurrency;
  const samplerGbSeconds = sweepsPerMonth * samplerSecondsPerSweep * gb(inputs.samplerMemoryMiB);
  const remediatorInvocations = perMonth(watcher.remediatorInvocations);
  const notifierInvocations = Math.min(sweepsPerMonth, perMonth(watcher.notifierInvocations));
  const otherGbSeconds =
    (remediatorInvocations * ASSUMED_DURATIONS_MS.remediator * gb(inputs.remediatorMemoryMiB) + notifierInvocations * ASSUMED_DURATIONS_MS.notifier * gb(inputs.notifierMemoryMiB)) / 1000;

  const unhealthy = perMonth(watcher.events.unhealthy);
  const stateChanged = perMonth(watcher.events.stateChanged);
  const workloadRestart = perMonth(watcher.events.workloadRestart);
  const podEvents = unhealthy + stateChanged + workloadRestart;

  // Restart guard per remediator event: a consistent GetItem, then lease, budget and record writes.
  // Notifier per notified event: claim and confirm; per message: the rate gate. Ledger: one WRU per change.
  const notified = stateChanged + workloadRestart;
  const podReadUnits = remediatorInvocations;
  const podWriteUnits = perMonth(watcher.ledgerWrites) + 3 * remediatorInvocations + 2 * notified + notifierInvocations;
  // EventBridge → SQS: one SendMessage per notified event; per batch a DeleteMessageBatch.
  const sqsRequests = notified + notifierInvocations;
  // One line per unhealthy pod per sweep and per change: the "unhealthy now" and "changes" tables.
  const rotationValues = pods * ROTATIONS_PER_POD_HOUR * HOURS_PER_MONTH;
  const podLogGb =
    ((unhealthy + stateChanged) * LOG_BYTES_PER_POD_LINE + (remediatorInvocations + notifierInvocations) * LOG_BYTES_PER_INVOCATION + rotationValues * LOG_BYTES_PER_ROTATION) / 1e9;
  const sweepLogGb = (sweepsPerMonth * LOG_BYTES_PER_SWEEP) / 1e9;
  const retentionDays = inputs.historyRetentionDays ?? HISTORY_RETENTION_DAYS;
  const channels = inputs.channels ?? 1;
  const historyGb = (((retentionDays * 24 * 60) / settings.scheduleMinutes) * pods * HISTORY_GZIP_BYTES_PER_POD) / 1e9;

  const lines: CostLine[] = [
    {
      scope: 'cluster',
      item: 'CloudWatch custom metrics (EMF)',
      quantity: `${CUSTOM_METRICS_PER_CLUSTER} metrics, whatever the pod count`,
      usd: CUSTOM_METRICS_PER_CLUSTER * PRICES.customMetricMonth,
    },
    { scope: 'cluster', item: 'CloudWatch alarms', quantity: `4 alarms reading ${ALARM_METRICS_PER_CLUSTER} metrics`, usd: ALARM_METRICS_PER_CLUSTER * PRICES.alarmMetricMonth },
    {
      scope: 'cluster',
      item: 'Schedule, sweep events and summaries',
      quantity: `${fmt(sweepsPerMonth)} invocations, Sweep Completed events, ledger reads, ${(sweepLogGb * 1000).toFixed(0)} MB of logs`,
      usd: sweepsPerMonth * (PRICES.schedulerInvocation + PRICES.lambdaRequest + PRICES.eventBridgeEvent + PRICES.dynamoReadUnit) + sweepLogGb * PRICES.logsIngestionGb,
    },
    {
      scope: 'pods',
      item: 'Lambda sampler compute',
      quantity: `${fmt(sweepsPerMonth)} sweeps × ${samplerSecondsPerSweep.toFixed(1)} s × ${inputs.samplerMemoryMiB} MiB = ${fmt(samplerGbSeconds)} GB-s${sampledShare < 1 ? ` (${Math.round(sampledShare * 100)} % of pods sampled a sweep, due-based)` : ''}`,
      usd: samplerGbSeconds * PRICES.lambdaGbSecond,
    },
    {
      scope: 'pods',
      item: 'Lambda remediator + notifier',
      quantity: `${fmt(remediatorInvocations)} × ${ASSUMED_DURATIONS_MS.remediator} ms + ${fmt(notifierInvocations)} × ${ASSUMED_DURATIONS_MS.notifier} ms = ${fmt(otherGbSeconds)} GB-s`,
      usd: otherGbSeconds * PRICES.lambdaGbSecond + (remediatorInvocations + notifierInvocations) * PRICES.lambdaRequest,
    },
    { scope: 'pods', item: 'EventBridge PutEvents', quantity: `${fmt(podEvents)} pod events (Unhealthy, State Changed, Workload Restart)`, usd: podEvents * PRICES.eventBridgeEvent },
    {
      scope: 'pods',
      item: 'CloudWatch Logs ingestion',
      quantity: `${(podLogGb * 1000).toFixed(1)} MB: a line per unhealthy pod per sweep and per change, a rotation interval data point per rotation`,
      usd: podLogGb * PRICES.logsIngestionGb,
    },
    {
      scope: 'pods',
      item: 'DynamoDB on-demand',
      quantity: `${fmt(podReadUnits)} read units, ${fmt(podWriteUnits)} write units`,
      usd: podReadUnits * PRICES.dynamoReadUnit + podWriteUnits * PRICES.dynamoWriteUnit,
    },
    { scope: 'pods', item: 'SQS', quantity: `${fmt(sqsRequests)} requests`, usd: sqsRequests * PRICES.sqsRequest },
    {
      scope: 'cluster',
      item: 'S3 rotation history requests',
      quantity: `${fmt(sweepsPerMonth)} × (LIST + GET + PUT)`,
      usd: sweepsPerMonth * (2 * PRICES.s3PutOrListRequest + PRICES.s3GetRequest),
    },
    {
      scope: 'pods',
      item: 'S3 rotation history storage',
      quantity: `${fmt(historyGb * 1000)} MB kept (${retentionDays} days of snapshots)`,
      usd: historyGb * PRICES.s3StorageGbMonth,
    },
    { scope: 'pods', item: 'Secrets Manager API', quantity: `${fmt(notifierInvocations)} GetSecretValue at most (5 min cache)`, usd: notifierInvocations * PRICES.secretsManagerCall },
    {
      scope: 'deployment',
      item: 'CloudWatch custom metrics (rotation)',
      quantity: `${CUSTOM_METRICS_PER_DEPLOYMENT} metrics (RotationsObserved, RotationIntervalMinutes × Source), whatever the clusters`,
      usd: CUSTOM_METRICS_PER_DEPLOYMENT * PRICES.customMetricMonth,
    },
    { scope: 'deployment', item: 'CloudWatch dashboard', quantity: 'one (free if the account has fewer than 3)', usd: PRICES.dashboardMonth },
    { scope: 'deployment', item: 'Slack webhook secret', quantity: 'one secret', usd: PRICES.secretMonth },
    {
      scope: 'deployment',
      item: 'Notifier metrics (EMF)',
      quantity: `${NOTIFIER_METRICS_PER_CHANNEL} metrics per channel × ${channels} channel${channels === 1 ? '' : 's'}, dimension Channel`,
      usd: NOTIFIER_METRICS_PER_CHANNEL * channels * PRICES.customMetricMonth,
    },
    { scope: 'deployment', item: 'Dead-letter alarms', quantity: `${DEAD_LETTER_ALARMS} alarms`, usd: DEAD_LETTER_ALARMS * PRICES.alarmMetricMonth },
    { scope: 'deployment', item: 'Function alarms', quantity: `${FUNCTION_ALARMS} alarms (errors, throttles)`, usd: FUNCTION_ALARMS * PRICES.alarmMetricMonth },
    {
      scope: 'deployment',
      item: 'SQS idle polling',
      quantity: `${fmt(IDLE_SQS_REQUESTS_PER_MONTH)} requests: the event source mapping's long polling`,
      usd: IDLE_SQS_REQUESTS_PER_MONTH * PRICES.sqsRequest,
    },
  ];
  const variable = sum(lines, 'pods');
  return {
    pods,
    sweepsPerMonth,
    sampledShare,
    samplerSecondsPerSweep,
    lines,
    totalUsd: lines.reduce((total, line) => total + line.usd, 0),
    perClusterFixedUsd: sum(lines, 'cluster'),
    perDeploymentFixedUsd: sum(lines, 'deployment'),
    variablePer1000PodsUsd: pods > 0 ? (variable / pods) * 1000 : 0,
  };
}
