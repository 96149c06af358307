/**
 * `mesh-cert-watch simulate`: the settings a run starts from (the deployment's defaults), and
 * the report: restarts per day for the watcher and the CronJob, expiries under each, the ratio,
 * and the monthly cost for the simulated size (per cluster, per pod, per deployment) with the prices used.
 */
import { defaultDetectionSettings, renderDetection, simulateDetection, type DetectionResult } from './detection.js';
import { renderTbotNode, simulateTbotNode, type TbotNodeResult } from './tbot-node.js';
import { parseDeploymentConfig } from '../../config/deployment.js';
import { CRONJOB_RESTART_INTERVAL_MINUTES } from '../../config/metric-names.js';
import { ConfigError } from '../../core/model/errors.js';
import { renderColumns } from '../../core/render/render.js';
import type { Threshold } from '../../core/model/types.js';
import { ASSUMED_DURATIONS_MS, estimateCost, PRICES, SAMPLER_BENCHMARK, type CostEstimate, type CostInputs } from './cost.js';
import { simulate, type SimulationResult, type SimulationSettings } from './model.js';
import { SIZING_BENCHMARK } from './sizing.js';

export const CERTIFICATE_LIFETIME_MINUTES = 60;

function share(threshold: Threshold, setting: string): number {
  if (threshold.kind !== 'percent') throw new ConfigError(setting, 'the simulation models thresholds as a share of the certificate lifetime');
  return threshold.percent / 100;
}

/** The deployment's defaults, as `cdk deploy` applies them, for one cluster. */
export function deploymentDefaults(): { settings: Omit<SimulationSettings, 'pods' | 'brokenShare' | 'hours' | 'seed' | 'replicas'>; cost: CostInputs } {
  const config = parseDeploymentConfig({ region: 'us-east-1', clusters: [{ name: 'simulated' }], notifications: { slackWebhookSecret: 'unused' } });
  const cluster = config.clusters[0]!;
  return {
    settings: {
      lifetimeMinutes: CERTIFICATE_LIFETIME_MINUTES,
      scheduleMinutes: cluster.schedule.rateMinutes,
      staleAfterShare: share(cluster.thresholds.staleAfter, 'staleAfter'),
      expiringWithinShare: share(cluster.thresholds.expiringWithin, 'expiringWithin'),
      cooldownMinutes: config.remediation.cooldownMinutes,
      budgetPerHour: config.remediation.budgetPerHour,
      breakerShare: config.remediation.breakerUnhealthyShare,
      cronJobIntervalMinutes: CRONJOB_RESTART_INTERVAL_MINUTES,
    },
    cost: {
      samplerMemoryMiB: config.functions.sampler.memoryMiB,
      remediatorMemoryMiB: config.functions.remediator.memoryMiB,
      notifierMemoryMiB: config.functions.notifier.memoryMiB,
      concurrency: cluster.concurrency,
      execLatencyMs: SAMPLER_BENCHMARK.execLatencyMs,
      ...(cluster.sampling.dueBased ? { sampledShare: SIZING_BENCHMARK.dueExecShareMean } : {}),
      historyRetentionDays: config.history.retentionDays,
    },
  };
}

export interface SimulationReport {
  readonly result: SimulationResult;
  readonly cost: CostEstimate;
  readonly perDay: { readonly watcherPodRestarts: number; readonly cronJobPodRestarts: number };
  /** CronJob pod restarts per watcher pod restart (Infinity when the watcher restarted nothing). */
  readonly ratio: number;
  readonly prices: typeof PRICES;
  /** Rotation history: false-positive rate on a jittered healthy population, time-to-detect of tbot's failures. */
  readonly detection: DetectionResult;
  /** The tbot node scenario: agent restarts vs application restarts per day (node-aware remediation). */
  readonly tbotNode: readonly TbotNodeResult[];
}

export function runSimulation(settings: SimulationSettings, costInputs: CostInputs): SimulationReport {
  const result = simulate(settings);
  const days = result.minutes / 1440;
  const perDay = { watcherPodRestarts: result.watcher.podRestarts / days, cronJobPodRestarts: result.cronJob.podRestarts / days };
  return {
    result,
    cost: estimateCost(result, costInputs),
    perDay,
    ratio: result.watcher.podRestarts === 0 ? Infinity : result.cronJob.podRestarts / result.watcher.podRestarts,
    prices: PRICES,
    tbotNode: [false, true].map((actAtProvenStale) =>
      simulateTbotNode({
        podsOnNode: 20,
        hours: settings.hours,
        scheduleMinutes: settings.scheduleMinutes,
        lifetimeMinutes: settings.lifetimeMinutes,
        staleAfterShare: settings.staleAfterShare,
        expiringWithinShare: settings.expiringWithinShare,
        actAtProvenStale,
        renewalMinutes: 20,
        slackMinutes: 3,
        cronJobMinutes: CRONJOB_RESTART_INTERVAL_MINUTES,
      }),
    ),
    detection: simulateDetection(
      defaultDetectionSettings({
        healthyPods: 100,
        brokenPods: 50,
        hours: 24,
        scheduleMinutes: settings.scheduleMinutes,
        lifetimeMinutes: settings.lifetimeMinutes,
        staleAfterShare: settings.staleAfterShare,
        seed: settings.seed,
      }),
    ),
  };
}

const n = (value: number): string => (Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 1 }));
const usd = (value: number): string => `$${value < 0.01 && value > 0 ? value.toFixed(4) : value.toFixed(2)}`;

export function renderSimulation(report: SimulationReport): string {
  const { result, cost } = report;
  const { settings, watcher, cronJob } = result;
  const s = settings;
  const head = [
    `mesh-cert-watch simulate: ${n(s.pods)} pods in ${n(result.workloads)} workloads of ${s.replicas}, ${n(result.brokenPods)} broken (${n(s.brokenShare * 100)}%), ${n(s.hours)} h, seed ${s.seed}`,
    `model: ${s.lifetimeMinutes} min certificates renewed at half-life; a broken pod stops renewing at a random minute until it is restarted;`,
    `a restart gives new pods new certificates. Watcher: sweep every ${s.scheduleMinutes} min, restart on expiring (< ${n(s.expiringWithinShare * 100)}% left) or expired,`,
    `cooldown ${s.cooldownMinutes} min per workload, budget ${s.budgetPerHour} restarts per clock hour, breaker above ${n(s.breakerShare * 100)}% unhealthy.`,
    `CronJob: every pod restarted every ${s.cronJobIntervalMinutes} min.`,
  ].join('\n');
  const skipped = watcher.skipped;
  const table = renderColumns([
    ['', `WATCHER (${s.scheduleMinutes} min)`, `CRONJOB (${s.cronJobIntervalMinutes} min)`],
    ['pod restarts', n(watcher.podRestarts), n(cronJob.podRestarts)],
    ['pod restarts per day', n(report.perDay.watcherPodRestarts), n(report.perDay.cronJobPodRestarts)],
    ['rollout restarts (workloads)', n(watcher.workloadRestarts), n(cronJob.runs * result.workloads)],
    ['certificates that reached expiry', n(watcher.expiries), n(cronJob.expiries)],
    ['restarts held back (cooldown/budget/breaker)', `${n(skipped.cooldown)}/${n(skipped.budget)}/${n(skipped.breaker)}`, '-'],
  ]);
  const ratio = Number.isFinite(report.ratio)
    ? `the CronJob restarts ${n(Math.round(report.ratio * 10) / 10)}× as many pods as the watcher`
    : `the watcher restarted nothing; the CronJob restarted ${n(cronJob.podRestarts)} pods`;
  const scopes = [
    ['cluster', 'per cluster, whatever its size'],
    ['pods', `for ${n(cost.pods)} pods`],
    ['deployment', 'per deployment, whatever its clusters'],
  ] as const;
  const costRows = scopes.flatMap(([scope, title]) => {
    const lines = cost.lines.filter((line) => line.scope === scope);
    const subtotal = lines.reduce((total, line) => total + line.usd, 0);
    return [[`${title}:`, '', usd(subtotal)], ...lines.map((line) => [`  ${line.item}`, line.quantity, usd(line.usd)])];
  });
  const costTable = renderColumns([['ITEM', 'PER MONTH', 'USD'], ...costRows, ['total', '', usd(cost.totalUsd)]]);
  const shape = `fixed ${usd(cost.perClusterFixedUsd)} per cluster + ${usd(cost.variablePer1000PodsUsd)} per 1,000 pods + ${usd(cost.perDeploymentFixedUsd)} per deployment`;
  const p = report.prices;
  const prices = [
    `Lambda $${p.lambdaGbSecond}/GB-s + $${(p.lambdaRequest * 1e6).toFixed(2)}/M requests; EventBridge $${(p.eventBridgeEvent * 1e6).toFixed(2)}/M events, Scheduler $${(p.schedulerInvocation * 1e6).toFixed(2)}/M;`,
    `CloudWatch $${p.customMetricMonth.toFixed(2)}/metric-month, $${p.alarmMetricMonth.toFixed(2)}/alarm metric, $${p.dashboardMonth.toFixed(2)}/dashboard, Logs $${p.logsIngestionGb.toFixed(2)}/GB; DynamoDB on-demand $${(p.dynamoWriteUnit * 1e6).toFixed(3)}/M WRU, $${(p.dynamoReadUnit * 1e6).toFixed(3)}/M RRU;`,
    `SQS $${(p.sqsRequest * 1e6).toFixed(2)}/M requests; Secrets Manager $${p.secretMonth.toFixed(2)}/secret, $${(p.secretsManagerCall * 1e4).toFixed(2)}/10k calls;`,
    `S3 $${(p.s3PutOrListRequest * 1e3).toFixed(3)}/1k PUT or LIST, $${(p.s3GetRequest * 1e3).toFixed(4)}/1k GET, $${p.s3StorageGbMonth.toFixed(3)}/GB-month. No free tier.`,
  ].join('\n');
  const assumptions = [
    `sampler: ${SAMPLER_BENCHMARK.overheadOverFloor}× the floor N·L/C measured by \`npm run bench\` (L = ${SAMPLER_BENCHMARK.execLatencyMs} ms exec latency), at the deployment's`,
    `concurrency, over the ${Math.round(report.cost.sampledShare * 100)} % of pods a sweep samples on average (${report.cost.sampledShare < 1 ? 'due-based sampling, `npm run bench -- due`' : 'every pod'}); remediator ${ASSUMED_DURATIONS_MS.remediator} ms and notifier ${ASSUMED_DURATIONS_MS.notifier} ms per invocation are assumptions; event counts come from this run.`,
    `Not included: VPC endpoints or NAT, data transfer.`,
  ].join('\n');
  return `${head}\n\n${table}\n\n${ratio}.\n\ncost of ${n(cost.pods)} pods per month: ${usd(cost.totalUsd)} (one cluster, ${n(cost.sweepsPerMonth)} sweeps every ${s.scheduleMinutes} min, us-east-1 list prices):\n${costTable}\n${shape}\n\nprices: ${prices}\nassumptions: ${assumptions}\n\n${renderDetection(report.detection)}\n\n${report.tbotNode.map(renderTbotNode).join('\n\n')}\n`;
}
