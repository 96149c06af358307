import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { thresholdSeconds } from '../../src/core/threshold.js';
import { dashboardUrl } from '../runtime-configs.js';
import { STATES, type Threshold } from '../../src/core/types.js';
import {
  CRONJOB_RESTART_INTERVAL_MINUTES,
  DIMENSIONS,
  METRICS_NAMESPACE,
  NOTIFIER_METRICS,
  REMEDIATOR_METRICS,
  ROTATION_METRIC_SOURCES,
  ROTATION_SOURCE_METRICS,
  RESTART_OUTCOMES,
  SAMPLER_METRICS,
  STATE_METRICS,
} from '../../src/config/metric-names.js';

/** What the dashboard and alarms need to know about one cluster. */
export interface MonitoredCluster {
  /** The cluster name: the `Cluster` dimension value. */
  readonly name: string;
  /** Sweep interval: the period of the per-sweep metrics and alarms. */
  readonly rateMinutes: number;
  /** Drawn on the leaf-age graph. */
  readonly staleAfter: Threshold;
  /** Drawn on the remaining-validity graph. */
  readonly expiringWithin: Threshold;
  /** Workload certificate lifetime, to draw percentage thresholds in seconds. */
  readonly certificateTtlSeconds: number;
  /**
   * tbot's `renewal_interval`, drawn on the observed-rotation-interval graph.
   * @default 1200 (20 min, tbot's default)
   */
  readonly tbotRenewalIntervalSeconds?: number;
}

/** Where alarm notifications go. */
export type AlarmTopicOption =
  | { readonly create: true; readonly emailSubscriptions: readonly string[] }
  | { readonly existingTopicArn: string };

export interface MonitoringProps {
  /** Dashboard name and alarm name prefix (the deployment name). */
  readonly name: string;
  readonly clusters: readonly MonitoredCluster[];
  /** Drawn on the sweep-duration graph. */
  readonly samplerTimeout: Duration;
  /** The sweep deadline is this long before the timeout. */
  readonly sweepDeadlineMargin: Duration;
  /** Alarm when more than this share of sampled pods failed sampling in two sweeps running. */
  readonly samplingErrorShare: number;
  /** Alarm when this many intervals pass without a completed sweep. */
  readonly missedSweeps: number;
  /** Alarmed when not empty. */
  readonly deadLetterQueues: ReadonlyArray<{ readonly component: string; readonly queue: sqs.IQueue }>;
  /** Their errors and throttles are graphed. */
  readonly functions: ReadonlyArray<{ readonly component: string; readonly function: lambda.IFunction }>;
  /** @default no alarm actions: alarms show on the dashboard only */
  readonly alarmTopic?: AlarmTopicOption;
}

const STATE_COLORS: Readonly<Record<(typeof STATES)[number], string>> = {
  healthy: '#2ca02c',
  stale: '#bcbd22',
  expiring: '#ff7f0e',
  expired: '#d62728',
  missing: '#9467bd',
  unreachable: '#7f7f7f',
};

/**
 * The deployment's CloudWatch dashboard and alarms: expired pods, sampling errors above a share,
 * the watcher itself silent for N intervals, dead letters, the restart breaker open; optionally
 * sent to an SNS topic.
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
    for (const { component, function: fn } of props.functions) {
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
      defaultInterval: Duration.hours(12),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# mesh-cert-watch: ${props.name}\nIstio sidecar certificate rotation on ${props.clusters.map((c) => `\`${c.name}\``).join(', ')}. Metrics: namespace \`${METRICS_NAMESPACE}\`.`,
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
    }
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
    this.alarm(`ExpiredPods-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-expired-pods`,
      alarmDescription: `At least one Istio sidecar in ${cluster.name} serves an expired workload certificate (503s likely).`,
      metric: this.metric(SAMPLER_METRICS.podsExpired, cluster, { statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm(`SamplingErrors-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-sampling-errors`,
      alarmDescription: `More than ${this.props.samplingErrorShare * 100}% of sampled pods in ${cluster.name} could not be sampled in two sweeps running.`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(sampled > 0, errors / sampled, 0)',
        usingMetrics: {
          errors: this.metric(SAMPLER_METRICS.samplingErrors, cluster, { statistic: 'Sum' }),
          sampled: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic: 'Sum' }),
        },
        label: 'share of pods not sampled',
        period: Duration.minutes(cluster.rateMinutes),
      }),
      threshold: this.props.samplingErrorShare,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm(`SweepsMissing-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-sweeps-missing`,
      alarmDescription: `No Sweep Completed for ${cluster.name} in ${this.props.missedSweeps} intervals of ${cluster.rateMinutes} min: the watcher itself is down (schedule, sampler, network or cluster access).`,
      metric: this.metric(SAMPLER_METRICS.sweepDurationMs, cluster, { statistic: 'SampleCount' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: this.props.missedSweeps,
      // Silence is the failure this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarm(`BreakerOpen-${cluster.name}`, {
      alarmName: `${name}-${cluster.name}-breaker-open`,
      alarmDescription: `The remediator stopped restarting in ${cluster.name}: too many pods are unhealthy at once (likely a trust-domain or issuer problem, not a stuck sidecar).`,
      metric: this.metric(REMEDIATOR_METRICS.breakerOpen, cluster, { statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
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

  private clusterRow(cluster: MonitoredCluster): void {
    const ttl = cluster.certificateTtlSeconds;
    const expiring = thresholdSeconds(cluster.expiringWithin, ttl);
    const stale = thresholdSeconds(cluster.staleAfter, ttl);
    const ofTtl = (threshold: Threshold) => (threshold.kind === 'percent' ? ` (${threshold.text} of ${ttl} s TTL)` : '');
    const timeoutMs = this.props.samplerTimeout.toMilliseconds();
    const deadlineMs = timeoutMs - this.props.sweepDeadlineMargin.toMilliseconds();

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: `## Cluster \`${cluster.name}\` (every ${cluster.rateMinutes} min)`, width: 24, height: 1 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Pods per state: ${cluster.name}`,
        stacked: true,
        width: 6,
        left: STATES.map((state) =>
          this.metric(STATE_METRICS[state], cluster, { statistic: 'Maximum', label: state, color: STATE_COLORS[state] }),
        ),
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `Min remaining validity vs thresholds: ${cluster.name}`,
        width: 6,
        left: [this.metric(SAMPLER_METRICS.minRemainingSeconds, cluster, { statistic: 'Minimum', label: 'min remaining (s)' })],
        leftAnnotations: [
          { value: expiring, label: `expiring-within ${cluster.expiringWithin.text}${ofTtl(cluster.expiringWithin)}`, color: STATE_COLORS.expiring },
          { value: 0, label: 'expired', color: STATE_COLORS.expired },
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `Max leaf age vs TTL: ${cluster.name}`,
        width: 6,
        left: [
          this.metric(SAMPLER_METRICS.maxLeafAgeSeconds, cluster, { statistic: 'Maximum', label: 'max leaf age (s)' }),
          this.metric(SAMPLER_METRICS.maxPushAgeSeconds, cluster, { statistic: 'Maximum', label: 'max SDS push age (s)' }),
        ],
        leftAnnotations: [
          { value: stale, label: `stale-after ${cluster.staleAfter.text}${ofTtl(cluster.staleAfter)}`, color: STATE_COLORS.stale },
          { value: ttl, label: `certificate TTL ${ttl} s`, color: STATE_COLORS.expired },
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `Sweep duration vs timeout: ${cluster.name}`,
        width: 6,
        left: [this.metric(SAMPLER_METRICS.sweepDurationMs, cluster, { statistic: 'Maximum', label: 'sweep duration (ms)' })],
        leftAnnotations: [
          { value: deadlineMs, label: 'sweep deadline (partial after)', color: STATE_COLORS.expiring },
          { value: timeoutMs, label: 'sampler Lambda timeout', color: STATE_COLORS.expired },
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
    );
  }

  /**
   * "Does rotation actually work?": rotations observed per sweep beside the pods overdue for
   * renewal and the missed renewals proven across sweeps, and the observed rotation interval
   * per source against tbot's renewal interval and the leaf TTL.
   */
  private rotationRow(cluster: MonitoredCluster): void {
    const renewal = cluster.tbotRenewalIntervalSeconds ?? 20 * 60;
    const perSource = (name: string, source: string, statistic: string, label: string): cloudwatch.Metric =>
      this.metric(name, cluster, { statistic, label, dimensionsMap: { [DIMENSIONS.source]: source } });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Rotations observed per sweep: ${cluster.name}`,
        width: 12,
        left: [this.metric(SAMPLER_METRICS.rotationsObserved, cluster, { statistic: 'Sum', label: 'rotations observed', color: STATE_COLORS.healthy })],
        right: [
          this.metric(SAMPLER_METRICS.podsRotationOverdue, cluster, { statistic: 'Maximum', label: 'pods overdue for renewal', color: STATE_COLORS.stale }),
          this.metric(SAMPLER_METRICS.missedRenewalsProven, cluster, { statistic: 'Maximum', label: 'missed renewals proven', color: STATE_COLORS.expired }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `Observed rotation interval by source: ${cluster.name}`,
        width: 12,
        left: ROTATION_METRIC_SOURCES.flatMap((source) => [
          perSource(ROTATION_SOURCE_METRICS.intervalP50Seconds, source, 'Average', `${source} p50 (s)`),
          perSource(ROTATION_SOURCE_METRICS.intervalMaxSeconds, source, 'Maximum', `${source} max (s)`),
        ]),
        leftAnnotations: [
          { value: renewal, label: `tbot renewal_interval ${renewal} s`, color: STATE_COLORS.healthy },
          { value: cluster.certificateTtlSeconds, label: `certificate TTL ${cluster.certificateTtlSeconds} s`, color: STATE_COLORS.expired },
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
    );
  }

  private overviewRows(): void {
    const { clusters } = this.props;
    const hourly = { period: Duration.hours(1) };
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## All clusters', width: 24, height: 1 }));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sampling errors',
        width: 8,
        left: clusters.map((cluster) => this.metric(SAMPLER_METRICS.samplingErrors, cluster, { statistic: 'Sum', label: cluster.name })),
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Restarts by outcome',
        width: 8,
        stacked: true,
        left: clusters.flatMap((cluster) =>
          RESTART_OUTCOMES.map((outcome) =>
            this.metric(REMEDIATOR_METRICS.restarts, cluster, {
              statistic: 'Sum',
              label: `${cluster.name} ${outcome}`,
              dimensionsMap: { [DIMENSIONS.outcome]: outcome },
            }),
          ),
        ),
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Slack messages and failures',
        width: 8,
        left: clusters.map((cluster) => this.metric(NOTIFIER_METRICS.slackMessagesSent, cluster, { statistic: 'Sum', label: `${cluster.name} sent` })),
        right: clusters.map((cluster) =>
          this.metric(NOTIFIER_METRICS.slackMessagesFailed, cluster, { statistic: 'Sum', label: `${cluster.name} failed`, color: STATE_COLORS.expired }),
        ),
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Restarts avoided vs the ${CRONJOB_RESTART_INTERVAL_MINUTES}-minute CronJob (per hour)`,
        width: 12,
        // The CronJob restarted every sampled pod every 45 minutes; we restart only what we must.
        left: clusters.map(
          (cluster, index) =>
            new cloudwatch.MathExpression({
              expression: `FILL(pods${index}, 0) * 60 / ${CRONJOB_RESTART_INTERVAL_MINUTES} - FILL(restarted${index}, 0)`,
              usingMetrics: {
                [`pods${index}`]: this.metric(SAMPLER_METRICS.podsSampled, cluster, { statistic: 'Average', ...hourly }),
                [`restarted${index}`]: this.metric(REMEDIATOR_METRICS.restarts, cluster, {
                  statistic: 'Sum',
                  dimensionsMap: { [DIMENSIONS.outcome]: 'restarted' },
                  ...hourly,
                }),
              },
              label: `${cluster.name}: pod restarts avoided`,
              period: hourly.period,
            }),
        ),
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Restart breaker open',
        width: 6,
        left: clusters.map((cluster) => this.metric(REMEDIATOR_METRICS.breakerOpen, cluster, { statistic: 'Maximum', label: cluster.name })),
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        width: 6,
        left: this.props.deadLetterQueues.map(({ component, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: component, period: Duration.minutes(1) }),
        ),
        leftYAxis: { min: 0, showUnits: false },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        width: 24,
        left: this.props.functions.flatMap(({ component, function: fn }) => [
          fn.metricErrors({ statistic: 'Sum', label: `${component} errors` }),
          fn.metricThrottles({ statistic: 'Sum', label: `${component} throttles` }),
        ]),
        leftYAxis: { min: 0, showUnits: false },
      }),
    );
  }
}
