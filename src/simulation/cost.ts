/**
 * What the watcher costs to run, per month, from the event rates of a simulation run and the
 * deployment's defaults (function memory, schedule, sampler concurrency). Prices are us-east-1
 * list prices without free tiers; every assumption is a named constant so the README and the
 * output can state it.
 *
 * The sampler's duration is the benchmark's model: N·L/C (pods × exec latency / concurrency)
 * times the overhead `npm run bench` measured over that floor. It dominates the Lambda bill and
 * grows with the mesh; CloudWatch custom metrics are a fixed amount per cluster.
 */
import { NOTIFIER_METRICS, RESTART_OUTCOMES, ROTATION_METRIC_SOURCES, ROTATION_SOURCE_METRICS, SAMPLER_METRICS } from '../config/metric-names.js';
import type { SimulationResult } from './model.js';

/** us-east-1 list prices, USD, no free tier. */
export const PRICES = {
  lambdaGbSecond: 0.0000166667,
  lambdaRequest: 0.2 / 1e6,
  eventBridgeEvent: 1.0 / 1e6,
  schedulerInvocation: 1.0 / 1e6,
  customMetricMonth: 0.3,
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
/** Per sampler invocation: the EMF document, the summary log line and Lambda's START/END/REPORT. */
export const LOG_BYTES_PER_SWEEP = 3_000;
/** The Lambda SQS event source mapping long-polls an idle queue: ≈ 5 pollers × 3 ReceiveMessage a minute. */
export const IDLE_SQS_REQUESTS_PER_MONTH = 5 * 3 * 60 * 730;
export const HOURS_PER_MONTH = 730;

/**
 * Distinct custom metrics per cluster: sampler [Cluster] and [Cluster, Source] (rotation
 * intervals of tbot and the Istio agent), remediator [Cluster, Outcome] + BreakerOpen, notifier [Cluster].
 */
export const CUSTOM_METRICS_PER_CLUSTER =
  Object.keys(SAMPLER_METRICS).length +
  Object.keys(ROTATION_SOURCE_METRICS).length * ROTATION_METRIC_SOURCES.length +
  RESTART_OUTCOMES.length +
  1 +
  Object.keys(NOTIFIER_METRICS).length;

export interface CostInputs {
  readonly samplerMemoryMiB: number;
  readonly remediatorMemoryMiB: number;
  readonly notifierMemoryMiB: number;
  /** Sampler concurrency (pods sampled at once). */
  readonly concurrency: number;
  readonly execLatencyMs: number;
  /** Days the rotation-history snapshots are kept (`history.retentionDays`). @default 7 */
  readonly historyRetentionDays?: number;
}

export interface CostLine {
  readonly item: string;
  /** What is counted, per month. */
  readonly quantity: string;
  readonly usd: number;
}

export interface CostEstimate {
  /** Pods the figures are for (per 1,000 pods). */
  readonly pods: number;
  readonly sweepsPerMonth: number;
  readonly samplerSecondsPerSweep: number;
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
}

const gb = (mib: number): number => mib / 1024;
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));

/**
 * Monthly cost of watching `pods` pods of one cluster (default 1,000) at the simulation's
 * schedule, with the simulation's event rates scaled to that many pods and to a month.
 */
export function estimateCost(result: SimulationResult, inputs: CostInputs, pods = 1000): CostEstimate {
  const { settings, watcher } = result;
  const monthScale = (HOURS_PER_MONTH * 60) / result.minutes;
  const podScale = pods / settings.pods;
  const perMonth = (n: number): number => n * monthScale * podScale;

  const sweepsPerMonth = (HOURS_PER_MONTH * 60) / settings.scheduleMinutes;
  const samplerSecondsPerSweep = (SAMPLER_BENCHMARK.overheadOverFloor * pods * inputs.execLatencyMs) / 1000 / inputs.concurrency;
  const samplerGbSeconds = sweepsPerMonth * samplerSecondsPerSweep * gb(inputs.samplerMemoryMiB);
  const remediatorInvocations = perMonth(watcher.remediatorInvocations);
  const notifierInvocations = Math.min(sweepsPerMonth, perMonth(watcher.notifierInvocations));
  const otherGbSeconds =
    (remediatorInvocations * ASSUMED_DURATIONS_MS.remediator * gb(inputs.remediatorMemoryMiB) + notifierInvocations * ASSUMED_DURATIONS_MS.notifier * gb(inputs.notifierMemoryMiB)) / 1000;
  const invocations = sweepsPerMonth + remediatorInvocations + notifierInvocations;

  const stateChanged = perMonth(watcher.events.stateChanged);
  const workloadRestart = perMonth(watcher.events.workloadRestart);
  const events = perMonth(watcher.events.unhealthy) + stateChanged + sweepsPerMonth + workloadRestart;

  // Ledger: one strongly consistent Query per sweep (≥ 1 RRU), one WRU per change.
  // Restart guard per remediator event: a consistent GetItem, then lease, budget and record writes.
  // Notifier per notified event: claim and confirm; per message: the rate gate.
  const readUnits = sweepsPerMonth + remediatorInvocations;
  const notified = stateChanged + workloadRestart;
  const writeUnits = perMonth(watcher.ledgerWrites) + 3 * remediatorInvocations + 2 * notified + notifierInvocations;
  // EventBridge → SQS: one SendMessage per notified event; per batch a DeleteMessageBatch; plus idle polling.
  const sqsRequests = notified + notifierInvocations + IDLE_SQS_REQUESTS_PER_MONTH;
  const retentionDays = inputs.historyRetentionDays ?? HISTORY_RETENTION_DAYS;
  const historyGb = ((retentionDays * 24 * 60) / settings.scheduleMinutes) * pods * HISTORY_GZIP_BYTES_PER_POD / 1e9;
  const logGb = (sweepsPerMonth * LOG_BYTES_PER_SWEEP + (remediatorInvocations + notifierInvocations) * 1_500) / 1e9;

  const lines: CostLine[] = [
    {
      item: 'Lambda sampler compute',
      quantity: `${fmt(sweepsPerMonth)} sweeps × ${samplerSecondsPerSweep.toFixed(1)} s × ${inputs.samplerMemoryMiB} MiB = ${fmt(samplerGbSeconds)} GB-s`,
      usd: samplerGbSeconds * PRICES.lambdaGbSecond,
    },
    {
      item: 'Lambda remediator + notifier compute',
      quantity: `${fmt(remediatorInvocations)} × ${ASSUMED_DURATIONS_MS.remediator} ms + ${fmt(notifierInvocations)} × ${ASSUMED_DURATIONS_MS.notifier} ms = ${fmt(otherGbSeconds)} GB-s`,
      usd: otherGbSeconds * PRICES.lambdaGbSecond,
    },
    { item: 'Lambda requests', quantity: `${fmt(invocations)} invocations`, usd: invocations * PRICES.lambdaRequest },
    { item: 'EventBridge Scheduler', quantity: `${fmt(sweepsPerMonth)} invocations`, usd: sweepsPerMonth * PRICES.schedulerInvocation },
    { item: 'EventBridge PutEvents', quantity: `${fmt(events)} events (Unhealthy, State Changed, Sweep Completed, Workload Restart)`, usd: events * PRICES.eventBridgeEvent },
    {
      item: 'CloudWatch custom metrics (EMF)',
      quantity: `${CUSTOM_METRICS_PER_CLUSTER} metrics per cluster, whatever the pod count`,
      usd: CUSTOM_METRICS_PER_CLUSTER * PRICES.customMetricMonth,
    },
    { item: 'CloudWatch Logs ingestion', quantity: `${(logGb * 1000).toFixed(0)} MB of logs and EMF`, usd: logGb * PRICES.logsIngestionGb },
    {
      item: 'DynamoDB on-demand',
      quantity: `${fmt(readUnits)} read units, ${fmt(writeUnits)} write units`,
      usd: readUnits * PRICES.dynamoReadUnit + writeUnits * PRICES.dynamoWriteUnit,
    },
    { item: 'SQS', quantity: `${fmt(sqsRequests)} requests (mostly idle long polling)`, usd: sqsRequests * PRICES.sqsRequest },
    { item: 'Secrets Manager API', quantity: `${fmt(notifierInvocations)} GetSecretValue at most (5 min cache)`, usd: notifierInvocations * PRICES.secretsManagerCall },
    {
      item: 'S3 rotation history',
      quantity: `${fmt(sweepsPerMonth)} × (LIST + GET + PUT); ${fmt(historyGb * 1000)} MB kept (${retentionDays} days)`,
      usd: sweepsPerMonth * (2 * PRICES.s3PutOrListRequest + PRICES.s3GetRequest) + historyGb * PRICES.s3StorageGbMonth,
    },
  ];
  return { pods, sweepsPerMonth, samplerSecondsPerSweep, lines, totalUsd: lines.reduce((sum, line) => sum + line.usd, 0) };
}
