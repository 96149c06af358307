import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { thresholdSeconds } from '../../src/core/model/threshold.js';
import { dashboardUrl } from '../../src/config/runtime-configs.js';
import type { Threshold } from '../../src/core/model/types.js';
import {
  CRONJOB_RESTART_INTERVAL_MINUTES,
  DIMENSIONS,
  LOG_MESSAGES,
  METRICS_NAMESPACE,
  NOTIFIER_METRICS,
  ROTATION_METRIC_SOURCES,
  ROTATION_METRICS,
  SAMPLER_METRICS,
} from '../../src/config/metric-names.js';
import { STATE_COLORS } from '../../src/core/render/state-colors.js';

/** What the dashboard and alarms need to know about one cluster. */
export interface MonitoredCluster {
  /** The cluster name: the `Cluster` dimension value. */
  readonly name: string;
  /** Sweep interval: the period of the per-sweep metrics and alarms. */
  readonly rateMinutes: number;
  /** Drawn on the remaining-validity graph. */
  readonly staleAfter: Threshold;
  /** Drawn on the remaining-validity graph. */
  readonly expiringWithin: Threshold;
  /** Workload certificate lifetime, to draw percentage thresholds in minutes. */
  readonly certificateTtlSeconds: number;
  /**
   * tbot's `renewal_interval`, drawn on the observed-rotation-interval graph.
   * @default 1200 (20 min, tbot's default)
   */
  readonly tbotRenewalIntervalSeconds?: number;
  /**
   * Exec starts one sweep can make at most (the cluster's exec budget over the sampling window),
   * named on the execs-per-sweep graph so its distance to the ceiling shows.
   * @default none: the graph names no ceiling
   */
  readonly execsPerSweepCeiling?: number;
}

/** Where alarm notifications go. */
export type AlarmTopicOption =
  | { readonly create: true; readonly emailSubscriptions: readonly string[] }
  | { readonly existingTopicArn: string };

/** One of the watcher's functions, as the dashboard shows it. */
export interface MonitoredFunction {
  readonly component: string;
  readonly function: lambda.IFunction;
  /** Drawn on its duration graph. */
  readonly timeout: Duration;
  /** Where it logs (the Logs Insights widgets query it). */
  readonly logGroup: logs.ILogGroup;
}

export interface MonitoringProps {
  /** Dashboard name and alarm name prefix (the deployment name). */
  readonly name: string;
  readonly clusters: readonly MonitoredCluster[];
  /** The sweep deadline is this long before the sampler's timeout (drawn on its duration graph). */
  readonly sweepDeadlineMargin: Duration;
  /** Alarm when more than this share of sampled pods could not be sampled in two sweeps running. */
  readonly samplingErrorShare: number;
  /** Alarm when this many intervals pass without a sweep that produced a report. */
  readonly missedSweeps: number;
  /** The remediator's breaker threshold: alarmed when the sweep's unhealthy share is above it. */
  readonly breakerUnhealthyShare: number;
  /** Alarmed when not empty. */
  readonly deadLetterQueues: ReadonlyArray<{ readonly component: string; readonly queue: sqs.IQueue }>;
  /** The notifier's queue: its age and depth are graphed. */
  readonly notificationQueue: sqs.IQueue;
  /** The sampler, remediator and notifier: duration, errors and throttles graphed, logs queried. */
  readonly functions: { readonly sampler: MonitoredFunction; readonly remediator: MonitoredFunction; readonly notifier: MonitoredFunction };
  /** Their throttled requests are graphed. */
  readonly tables: ReadonlyArray<{ readonly name: string; readonly table: dynamodb.ITable }>;
  /** @default no alarm actions: alarms show on the dashboard only */
  readonly alarmTopic?: AlarmTopicOption;
  /** The notification channels in use: one graph each of payloads sent and failed sends. @default ['slack'] */
  readonly channels?: readonly string[];
}

/**
 * The Logs Insights queries of the dashboard, over the structured log lines of LOG_MESSAGES.
 * Exported for the tests and for the README's picture of the dashboard.
 */
export const DASHBOARD_QUERIES = {
  /**
   * Every pod whose latest line in the time range says it is not healthy. A pod that recovered
   * logs a change to `healthy` (or `gone`), so its latest line drops it from the table.
   */
  unhealthyNow: [
    `filter message in ["${LOG_MESSAGES.podUnhealthy}", "${LOG_MESSAGES.podStateChanged}"]`,
    'fields floor(remainingSeconds / 60) as remainingMin',
    'stats latest(state) as stateNow, latest(findings) as findingsNow, latest(remainingMin) as remaining_min, latest(source) as sourceNow, latest(agent.pod) as agentPod, latest(agent.version) as agentVersion, latest(workload) as workloadNow, latest(node) as nodeNow, max(@timestamp) as lastSeen by cluster, namespace, pod',
    'filter stateNow not in ["healthy", "gone"]',
    'sort remaining_min asc',
    'limit 500',
  ],
  /** Every state change in the time range (the dashboard's default: 24 h), newest first. */
  changes: [
    `filter message = "${LOG_MESSAGES.podStateChanged}"`,
    'fields floor(remainingSeconds / 60) as remaining_min',
    'display @timestamp, cluster, namespace, workload, pod, node, previousState, state, change, findings, remaining_min, source, agent.version',
    'sort @timestamp desc',
    'limit 500',
  ],
  /** The remediator's decisions (workload and node agent restarts), grouped. */
  remediatorDecisions: [
    `filter message in ["${LOG_MESSAGES.restartOutcome}", "${LOG_MESSAGES.agentRestartOutcome}"]`,
    'stats count(*) as events, latest(detail) as lastDetail, max(@timestamp) as last by cluster, namespace, workload.kind, workload.name, node, agentPod, outcome, reason',
    'sort last desc',
    'limit 200',
  ],
  /** Rollout restarts per hour, against what the CronJob does (graphed beside it). */
  restartsPerHour: [
    `filter message = "${LOG_MESSAGES.restartOutcome}"`,
    'fields strcontains(outcome, "restarted") as restarted, strcontains(outcome, "dry-run") as dryRun, strcontains(outcome, "failed") as failed',
    'stats sum(restarted) as rollout_restarts, sum(dryRun) as dry_run, sum(failed) as failed_restarts by bin(1h)',
  ],
  /** Slack messages per hour, posted and not (PagerDuty: its metrics graph). */
  slackPerHour: [
    `filter message in ["${LOG_MESSAGES.slackPosted}", "${LOG_MESSAGES.slackNotPosted}"]`,
    `fields strcontains(message, "not posted") as notPosted`,
    'stats sum(1 - notPosted) as posted, sum(notPosted) as not_posted by bin(1h)',
  ],
  /** Sweep duration, in seconds (the slowest cluster's and the average). */
  sweepDuration: [
    `filter message in ["${LOG_MESSAGES.sweepCompleted}", "${LOG_MESSAGES.sweepPartial}", "${LOG_MESSAGES.sweepFailed}"]`,
    'fields durationMs / 1000 as sweepSeconds',
    'stats max(sweepSeconds) as slowest_sweep_s, avg(sweepSeconds) as average_sweep_s by bin(15m)',
  ],
} as const;

/**
 * Execs per sweep for one cluster, from the sweep summary: pods sampled through an exec
 * (`summary.sampled` counts every judged pod, `summary.fromHistory` the ones judged from their
 * last observation by due-based sampling), and the sweeps cut by their deadline.
 */
export function samplingQuery(cluster: string): readonly string[] {
  return [
    `filter message in ["${LOG_MESSAGES.sweepCompleted}", "${LOG_MESSAGES.sweepPartial}"] and cluster = "${cluster}"`,
    `fields summary.sampled - coalesce(summary.fromHistory, 0) as execs, coalesce(summary.fromHistory, 0) as judgedFromHistory, strcontains(message, "${LOG_MESSAGES.sweepPartial}") as partialSweep`,
    'stats max(execs) as largest_sweep_execs, avg(execs) as mean_sweep_execs, avg(judgedFromHistory) as judged_from_history, sum(partialSweep) as partial_sweeps by bin(15m)',
  ];
}

/** The rotation widgets' queries for one cluster (the sweep summary's `rotations` fields). */
export function rotationQueries(cluster: string): { readonly perSweep: readonly string[]; readonly intervals: readonly string[] } {
  const sweeps = `filter message in ["${LOG_MESSAGES.sweepCompleted}", "${LOG_MESSAGES.sweepPartial}"] and cluster = "${cluster}" and ispresent(rotations.observed)`;
  return {
    perSweep: [sweeps, 'stats sum(rotations.observed) as rotations_observed, max(rotations.overdue) as pods_overdue, max(rotations.proven) as missed_renewals_proven by bin(15m)'],
    intervals: [
      sweeps,
      'stats avg(rotations.tbot_interval_p50_s) as tbot_p50_s, max(rotations.tbot_interval_max_s) as tbot_max_s, avg(rotations.istio_agent_interval_p50_s) as istio_agent_p50_s, max(rotations.istio_agent_interval_max_s) as istio_agent_max_s by bin(1h)',
    ],
  };
}

const query = (lines: readonly string[]): string[] => [...lines];
const minutes = (seconds: number): number => Math.round((seconds / 60) * 10) / 10;

/**
 * The deployment's CloudWatch dashboard and alarms.
 *
 * Dashboard: per cluster, the "now" tiles (expired, expiring, stale, minimum remaining validity)
 * and pods per state and remaining validity against the thresholds, in minutes; the pods by name
 * (Logs Insights "unhealthy now" and "changes"); the remediator's decisions and restarts against
 * the CronJob; Slack messages and the notification queue's age and depth; each function's p99
 * duration against its timeout, errors and throttles; DynamoDB throttles; dead letters.
 *
 * Alarms (per cluster): expired pods, sampling errors above a share, no sweep report for N
 * intervals, the restart breaker's condition; per dead-letter queue: not empty. All read the
 * sampler's seven metrics (SAMPLER_METRICS) or AWS metrics. The rotation metrics
 * (ROTATION_METRICS, per deployment) are graphed, never alarmed on.
 */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly topic?: sns.ITopic;

  constructor(scope: Construct, id: string, private readonly props: MonitoringProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props.alarmTopic);

    for (const cluster of props.clusters) this.clusterAlarms(cluster);
    for (const { component, queue } of props.deadLetterQueues) {
      this.alarm(`DeadLetters-${component}`, {
        alarmName: `${props.name}-${component}-dead-letters`,
        alarmDescription: `Failed ${component} work is waiting in its dead-letter queue: read it, fix the cause, redrive or purge.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // Every function: an error is a sweep, restart or post that failed outright; a throttle means
    // the reserved concurrency held work back (a sweep overran, a storm of events).
    for (const { component, function: fn } of Object.values(props.functions)) {
      this.alarm(`Errors-${component}`, {
        alarmName: `${props.name}-${component}-errors`,
        alarmDescription: `The ${component} function failed (invocation errors): read its log group for the error.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.alarm(`Throttles-${component}`, {
        alarmName: `${props.name}-${component}-throttles`,
        alarmDescription: `The ${component} function was throttled: its reserved concurrency held invocations back (overrunning sweeps, an event storm, or the account's concurrency quota).`,
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.name,
      // "Changes in the last 24 h" and the hourly restart counts read the dashboard's range.
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# mesh-cert-watch: ${props.name}\nIstio sidecar certificate rotation on ${props.clusters.map((c) => `\`${c.name}\``).join(', ')}. Metrics: namespace \`${METRICS_NAMESPACE}\`; the pods by name come from the sampler's log lines (Logs Insights).`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: Math.min(6, 2 + Math.ceil(this.alarms.length / 4)) }),
    );
    for (const cluster of props.clusters) {
      this.clusterRow(cluster);
      this.rotationRow(cluster);
      this.samplingRow(cluster);
    }
    this.rotationMetricsRow();
    this.podRows();
    this.overviewRows();
  }

  /** The dashboard's deep link. */
  static dashboardUrl(region: string, dashboardName: string): string {
    return dashboardUrl(region, dashboardName);
  }

  private metric(metricName: string, cluster: MonitoredCluster, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      period: Duration.minutes(cluster.rateMinutes),
      ...options,
      // After `options`: extra dimensions add to `Cluster`, they never replace it.
      dimensionsMap: { [DIMENSIONS.cluster]: cluster.name, ...options.dimensionsMap },
    });
  }

  private clusterAlarms(cluster: MonitoredCluster): void {
    const { name } = this.props;
    const period = Duration.minutes(cluster.rateMinutes);
    this.alarm(`ExpiredPods-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-expired-pods`,
      alarmDescription: `At least one Istio sidecar in ${cluster.name} serves an expired workload certificate (503s likely). Which: the dashboard's "unhealthy now" table.`,
      metric: this.metric(SAMPLER_METRICS.podsExpired, cluster, { statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm(`SamplingErrors-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-sampling-errors`,
      alarmDescription: `More than ${this.props.samplingErrorShare * 100}% of sampled pods in ${cluster.name} could not be sampled (state unreachable) in two sweeps running.`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(sampled > 0, unreachable / sampled, 0)',
        usingMetrics: {
          unreachable: this.metric(SAMPLER_METRICS.podsUnreachable, cluster, { statistic: 'Maximum' }),
          sampled: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic: 'Maximum' }),
        },
        label: 'share of pods not sampled',
        period,
      }),
      threshold: this.props.samplingErrorShare,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm(`SweepsMissing-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-sweeps-missing`,
      alarmDescription: `No sweep of ${cluster.name} produced a report in ${this.props.missedSweeps} intervals of ${cluster.rateMinutes} min: the watcher itself is down or cannot reach the cluster (schedule, sampler, network or cluster access). The sampler's log says why ("sweep failed").`,
      metric: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic: 'SampleCount' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: this.props.missedSweeps,
      // Silence is the failure this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // The breaker judges the sweep's own counts (pods not healthy / sampled); so does the alarm,
    // without a metric of its own. With dry-run on it says the breaker would hold restarts.
    this.alarm(`BreakerOpen-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-breaker-open`,
      alarmDescription: `More than ${this.props.breakerUnhealthyShare * 100}% of the sampled pods in ${cluster.name} are not healthy: the remediator's breaker holds every restart (likely a trust-domain or issuer problem, not a stuck sidecar).`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(sampled > 0 AND sampled - healthy >= 2, (sampled - healthy) / sampled, 0)',
        usingMetrics: {
          sampled: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic: 'Maximum' }),
          healthy: this.metric(SAMPLER_METRICS.podsHealthy, cluster, { statistic: 'Maximum' }),
        },
        label: 'share of sampled pods not healthy',
        period,
      }),
      threshold: this.props.breakerUnhealthyShare,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, props);
    if (this.topic) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
      alarm.addOkAction(new cloudwatchActions.SnsAction(this.topic));
    }
    this.alarms.push(alarm);
  }

  private alarmTopic(option: AlarmTopicOption | undefined): sns.ITopic | undefined {
    if (!option) return undefined;
    if ('existingTopicArn' in option) return sns.Topic.fromTopicArn(this, 'AlarmTopic', option.existingTopicArn);
    // CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the ${this.props.name} alarm topic`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        // As in the SNS guide for encrypted topics; the key encrypts this one topic only.
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${this.props.name} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of option.emailSubscriptions) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  /** The per-state metrics of a cluster, `missing` derived: sampled minus every other state. */
  private stateSeries(cluster: MonitoredCluster, statistic: string): cloudwatch.IMetric[] {
    const m = (metricName: string, label: string, color: string) => this.metric(metricName, cluster, { statistic, label, color });
    const others = {
      healthy: m(SAMPLER_METRICS.podsHealthy, 'healthy', STATE_COLORS.healthy),
      stale: m(SAMPLER_METRICS.podsStale, 'stale', STATE_COLORS.stale),
      expiring: m(SAMPLER_METRICS.podsExpiring, 'expiring', STATE_COLORS.expiring),
      expired: m(SAMPLER_METRICS.podsExpired, 'expired', STATE_COLORS.expired),
      unreachable: m(SAMPLER_METRICS.podsUnreachable, 'unreachable', STATE_COLORS.unreachable),
    };
    const missing = new cloudwatch.MathExpression({
      expression: 'MAX([0, sampled - healthy - stale - expiring - expired - unreachable])',
      usingMetrics: { sampled: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic }), ...others },
      label: 'missing',
      color: STATE_COLORS.missing,
      period: Duration.minutes(cluster.rateMinutes),
    });
    return [others.healthy, others.stale, others.expiring, others.expired, missing, others.unreachable];
  }

  private clusterRow(cluster: MonitoredCluster): void {
    const ttl = cluster.certificateTtlSeconds;
    const expiring = thresholdSeconds(cluster.expiringWithin, ttl);
    const stale = thresholdSeconds(cluster.staleAfter, ttl);
    const ofTtl = (threshold: Threshold) => (threshold.kind === 'percent' ? `, ${threshold.text} of the ${minutes(ttl)} min TTL` : '');
    const period = Duration.minutes(cluster.rateMinutes);
    const remainingMinutes = (label: string) =>
      new cloudwatch.MathExpression({
        expression: 'remaining / 60',
        usingMetrics: { remaining: this.metric(SAMPLER_METRICS.minRemainingSeconds, cluster, { statistic: 'Minimum' }) },
        label,
        period,
      });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: `## Cluster \`${cluster.name}\` (a sweep every ${cluster.rateMinutes} min)`, width: 24, height: 1 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.SingleValueWidget({
        title: `Now: ${cluster.name} (latest sweep)`,
        width: 8,
        height: 6,
        sparkline: true,
        metrics: [
          this.metric(SAMPLER_METRICS.podsExpired, cluster, { statistic: 'Maximum', label: 'expired pods', color: STATE_COLORS.expired }),
          this.metric(SAMPLER_METRICS.podsExpiring, cluster, { statistic: 'Maximum', label: 'expiring pods', color: STATE_COLORS.expiring }),
          this.metric(SAMPLER_METRICS.podsStale, cluster, { statistic: 'Maximum', label: 'stale pods', color: STATE_COLORS.stale }),
          remainingMinutes('min remaining validity (minutes)'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `Pods per state: ${cluster.name}`,
        stacked: true,
        width: 8,
        height: 6,
        left: this.stateSeries(cluster, 'Maximum'),
        leftYAxis: { min: 0, label: 'pods', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `Min remaining validity vs thresholds: ${cluster.name}`,
        width: 8,
        height: 6,
        left: [remainingMinutes('min remaining (minutes)')],
        leftAnnotations: [
          { value: minutes(ttl - stale), label: `stale below ${minutes(ttl - stale)} min (stale-after ${cluster.staleAfter.text}${ofTtl(cluster.staleAfter)})`, color: STATE_COLORS.stale },
          { value: minutes(expiring), label: `expiring below ${minutes(expiring)} min (expiring-within ${cluster.expiringWithin.text}${ofTtl(cluster.expiringWithin)})`, color: STATE_COLORS.expiring },
          { value: 0, label: 'expired', color: STATE_COLORS.expired },
        ],
        leftYAxis: { min: 0, label: 'minutes', showUnits: false },
      }),
    );
  }

  private podRows(): void {
    const { sampler, remediator } = this.props.functions;
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Pods by name (from the sampler\'s log lines)', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Unhealthy now (each pod\'s latest state in the time range; remaining in minutes)',
        logGroupNames: [sampler.logGroup.logGroupName],
        queryLines: query(DASHBOARD_QUERIES.unhealthyNow),
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 24,
        height: 7,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Changes in the last 24 h (the dashboard\'s time range), newest first',
        logGroupNames: [sampler.logGroup.logGroupName],
        queryLines: query(DASHBOARD_QUERIES.changes),
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 24,
        height: 7,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Remediator decisions',
        logGroupNames: [remediator.logGroup.logGroupName],
        queryLines: query(DASHBOARD_QUERIES.remediatorDecisions),
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 24,
        height: 6,
      }),
    );
  }

  /**
   * "Does rotation actually work?": rotations observed per sweep beside the pods overdue for
   * renewal and the missed renewals proven across sweeps, and the observed rotation interval per
   * source against tbot's renewal interval and the leaf TTL, per cluster. From the sweep summary's
   * `rotations` fields (Logs Insights): as metrics with a Cluster dimension they would cost per
   * cluster; the deployment-wide metrics are in rotationMetricsRow.
   */
  private rotationRow(cluster: MonitoredCluster): void {
    const renewal = cluster.tbotRenewalIntervalSeconds ?? 20 * 60;
    const logGroupNames = [this.props.functions.sampler.logGroup.logGroupName];
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: `Rotations observed per sweep: ${cluster.name}`,
        logGroupNames,
        queryLines: [...rotationQueries(cluster.name).perSweep],
        view: cloudwatch.LogQueryVisualizationType.LINE,
        width: 12,
        height: 6,
      }),
      new cloudwatch.LogQueryWidget({
        title: `Observed rotation interval by source (seconds; tbot renews every ${renewal} s, the TTL is ${cluster.certificateTtlSeconds} s): ${cluster.name}`,
        logGroupNames,
        queryLines: [...rotationQueries(cluster.name).intervals],
        view: cloudwatch.LogQueryVisualizationType.LINE,
        width: 12,
        height: 6,
      }),
    );
  }

  /**
   * How close a cluster's sweeps come to its exec ceiling: the execs of the largest and the mean
   * sweep, the pods due-based sampling judged from history instead, and partial sweeps (cut by
   * their deadline: size for the largest sweep, "Scale and sizing" in README.md). From the sweep
   * log line (Logs Insights), so it costs no metric per cluster.
   */
  private samplingRow(cluster: MonitoredCluster): void {
    const ceiling = cluster.execsPerSweepCeiling === undefined ? '' : ` (ceiling ${cluster.execsPerSweepCeiling.toLocaleString('en-US')} a sweep)`;
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: `Execs per sweep${ceiling}, pods judged from history, partial sweeps: ${cluster.name}`,
        logGroupNames: [this.props.functions.sampler.logGroup.logGroupName],
        queryLines: [...samplingQuery(cluster.name)],
        view: cloudwatch.LogQueryVisualizationType.LINE,
        width: 24,
        height: 6,
      }),
    );
  }

  /**
   * "Does rotation actually work?" across every cluster of the deployment, as metrics
   * (ROTATION_METRICS: dimension `Source` only, no `Cluster`, so they are billed per deployment):
   * rotations observed per sweep interval, and the observed interval's median and maximum per
   * source against tbot's renewal interval and the Istio agent's rotation at half-life. The
   * per-cluster rows above break the same figures down by cluster from the sweep log line.
   */
  private rotationMetricsRow(): void {
    const { clusters } = this.props;
    if (clusters.length === 0) return;
    const period = Duration.minutes(Math.min(...clusters.map((c) => c.rateMinutes)));
    const hourly = Duration.hours(1);
    const renewalMinutes = Math.round((clusters[0]!.tbotRenewalIntervalSeconds ?? 20 * 60) / 60);
    const ttlMinutes = Math.round(clusters[0]!.certificateTtlSeconds / 60);
    const metric = (metricName: string, source: string, statistic: string, label: string, metricPeriod: Duration): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { [DIMENSIONS.source]: source }, statistic, period: metricPeriod, label });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `## Rotation, all clusters (metrics \`${ROTATION_METRICS.rotationsObserved}\`, \`${ROTATION_METRICS.rotationIntervalMinutes}\` by \`${DIMENSIONS.source}\`)`,
        width: 24,
        height: 1,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Rotations observed, all clusters (per sweep interval)',
        width: 12,
        height: 6,
        left: ROTATION_METRIC_SOURCES.map((source) => metric(ROTATION_METRICS.rotationsObserved, source, 'Sum', `${source}: rotations`, period)),
        leftYAxis: { min: 0, label: 'pods', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Observed rotation interval, all clusters (median and maximum per hour)',
        width: 12,
        height: 6,
        left: ROTATION_METRIC_SOURCES.flatMap((source) => [
          metric(ROTATION_METRICS.rotationIntervalMinutes, source, 'p50', `${source}: median`, hourly),
          metric(ROTATION_METRICS.rotationIntervalMinutes, source, 'Maximum', `${source}: maximum`, hourly),
        ]),
        leftAnnotations: [
          { value: renewalMinutes, label: `tbot renews every ${renewalMinutes} min (renewal_interval)`, color: STATE_COLORS.healthy },
          { value: ttlMinutes / 2, label: `Istio agent rotates at half-life (${ttlMinutes / 2} min)`, color: '#1f77b4' },
          { value: ttlMinutes, label: `certificate TTL (${ttlMinutes} min)`, color: STATE_COLORS.expired },
        ],
        leftYAxis: { min: 0, label: 'minutes', showUnits: false },
      }),
    );
  }

  private overviewRows(): void {
    const { clusters, functions, notificationQueue } = this.props;
    const hourly = Duration.hours(1);
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Restarts, notifications and the watcher itself', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Pods the ${CRONJOB_RESTART_INTERVAL_MINUTES}-minute CronJob would restart (per hour)`,
        width: 8,
        height: 6,
        // The CronJob restarted every sampled pod every 45 minutes; the watcher's restarts are beside.
        left: clusters.map(
          (cluster, index) =>
            new cloudwatch.MathExpression({
              expression: `FILL(pods${index}, 0) * 60 / ${CRONJOB_RESTART_INTERVAL_MINUTES}`,
              usingMetrics: { [`pods${index}`]: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic: 'Average', period: hourly }) },
              label: `${cluster.name}: CronJob pod restarts`,
              period: hourly,
            }),
        ),
        leftYAxis: { min: 0, label: 'pods per hour', showUnits: false },
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Watcher rollout restarts per hour',
        logGroupNames: [functions.remediator.logGroup.logGroupName],
        queryLines: query(DASHBOARD_QUERIES.restartsPerHour),
        view: cloudwatch.LogQueryVisualizationType.BAR,
        width: 8,
        height: 6,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Slack messages per hour',
        logGroupNames: [functions.notifier.logGroup.logGroupName],
        queryLines: query(DASHBOARD_QUERIES.slackPerHour),
        view: cloudwatch.LogQueryVisualizationType.BAR,
        width: 8,
        height: 6,
      }),
    );
    // One graph per channel (Slack, PagerDuty): the notifier's EMF metrics, dimension Channel.
    const channels = this.props.channels ?? ['slack'];
    this.dashboard.addWidgets(
      ...channels.map(
        (channel) =>
          new cloudwatch.GraphWidget({
            title: `Notifications: ${channel} (per hour)`,
            width: Math.max(8, Math.floor(24 / channels.length)),
            height: 6,
            left: [
              new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: NOTIFIER_METRICS.sent, dimensionsMap: { [DIMENSIONS.channel]: channel }, statistic: 'Sum', period: hourly, label: 'sent' }),
              new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: NOTIFIER_METRICS.failed, dimensionsMap: { [DIMENSIONS.channel]: channel }, statistic: 'Sum', period: hourly, label: 'failed (retried)' }),
            ],
            leftYAxis: { min: 0, label: 'messages', showUnits: false },
          }),
      ),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Notification queue: age of oldest message',
        width: 8,
        height: 6,
        left: [
          new cloudwatch.MathExpression({
            expression: 'age / 60',
            usingMetrics: { age: notificationQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }) },
            label: 'oldest message (minutes)',
            period: Duration.minutes(1),
          }),
        ],
        leftYAxis: { min: 0, label: 'minutes', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Notification queue: depth',
        width: 8,
        height: 6,
        left: [
          notificationQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), label: 'waiting' }),
          notificationQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: Duration.minutes(1), label: 'in flight' }),
        ],
        leftYAxis: { min: 0, label: 'messages', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        width: 8,
        height: 6,
        left: this.props.deadLetterQueues.map(({ component, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: component, period: Duration.minutes(1) }),
        ),
        leftYAxis: { min: 0, label: 'messages', showUnits: false },
      }),
    );
    const deadline = functions.sampler.timeout.toSeconds() - this.props.sweepDeadlineMargin.toSeconds();
    this.dashboard.addWidgets(
      ...[functions.sampler, functions.remediator, functions.notifier].map(
        (fn) =>
          new cloudwatch.GraphWidget({
            title: `${fn.component}: p99 duration vs timeout`,
            width: 8,
            height: 6,
            left: [
              new cloudwatch.MathExpression({
                expression: 'duration / 1000',
                usingMetrics: { duration: fn.function.metricDuration({ statistic: 'p99', period: Duration.minutes(5) }) },
                label: 'p99 duration (seconds)',
                period: Duration.minutes(5),
              }),
            ],
            leftAnnotations: [
              ...(fn === functions.sampler ? [{ value: deadline, label: `sweep deadline ${deadline} s (partial after)`, color: STATE_COLORS.expiring }] : []),
              { value: fn.timeout.toSeconds(), label: `timeout ${fn.timeout.toSeconds()} s`, color: STATE_COLORS.expired },
            ],
            leftYAxis: { min: 0, label: 'seconds', showUnits: false },
          }),
      ),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        width: 8,
        height: 6,
        left: [functions.sampler, functions.remediator, functions.notifier].flatMap(({ component, function: fn }) => [
          fn.metricErrors({ statistic: 'Sum', label: `${component} errors` }),
          fn.metricThrottles({ statistic: 'Sum', label: `${component} throttles` }),
        ]),
        leftYAxis: { min: 0, label: 'invocations', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB throttled requests',
        width: 8,
        height: 6,
        left: this.props.tables.flatMap(({ name, table }) => [
          table.metric('ReadThrottleEvents', { statistic: 'Sum', label: `${name} reads`, period: Duration.minutes(5) }),
          table.metric('WriteThrottleEvents', { statistic: 'Sum', label: `${name} writes`, period: Duration.minutes(5) }),
        ]),
        leftYAxis: { min: 0, label: 'requests', showUnits: false },
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Sweep duration (seconds)',
        logGroupNames: [functions.sampler.logGroup.logGroupName],
        queryLines: query(DASHBOARD_QUERIES.sweepDuration),
        view: cloudwatch.LogQueryVisualizationType.LINE,
        width: 8,
        height: 6,
      }),
    );
  }
}
