import { CfnOutput, Duration, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseThreshold } from '../src/core/model/threshold.js';
import { clusterRegion, NOTIFIER_MAX_CONCURRENCY, notificationDestinations, reservedConcurrency, type DeploymentConfig } from '../src/config/deployment.js';
import { EVENT_SOURCE } from '../src/core/events/events.js';
import { ClusterAccess } from './constructs/cluster-access.js';
import { DeadLetterQueues } from './constructs/dead-letter-queues.js';
import { EventRouting } from './constructs/event-routing.js';
import { EventSchemas } from './constructs/event-schemas.js';
import { Monitoring } from './constructs/monitoring.js';
import { HistoryBucket } from './constructs/history-bucket.js';
import { StateTables } from './constructs/state-tables.js';
import { SweepSchedules } from './constructs/sweep-schedules.js';
import { WatcherFunction, type AsyncInvokeOptions } from './constructs/watcher-function.js';
import { notifierRuntimeInput, remediatorRuntimeInput, samplerRuntimeInput } from '../src/config/runtime-configs.js';
import { execsPerSweepCeiling } from '../src/core/judgement/sampling-defaults.js';

/** The repository root: holds package-lock.json and functions/. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface MeshCertWatchStackProps extends StackProps {
  /** The validated deployment configuration (`parseDeploymentConfig`). */
  readonly config: DeploymentConfig;
  /**
   * Directory with package.json, package-lock.json and `functions/<name>/handler.ts`.
   * @default the repository root
   */
  readonly projectRoot?: string;
}

/**
 * Everything mesh-cert-watch needs in one account and region, for one or more existing EKS
 * clusters: per-cluster sweep schedules, the sampler / remediator / notifier functions, the
 * event bus with its rules and schemas, DynamoDB state, EKS access entries, dashboard and alarms.
 */
export class MeshCertWatchStack extends Stack {
  readonly sampler: WatcherFunction;
  readonly remediator: WatcherFunction;
  readonly notifier: WatcherFunction;
  readonly tables: StateTables;
  /** Rotation history: one snapshot object per cluster per sweep. */
  readonly history: HistoryBucket;
  readonly routing: EventRouting;
  readonly deadLetters: DeadLetterQueues;
  readonly schedules: SweepSchedules;
  readonly monitoring: Monitoring;
  readonly clusterAccess: ClusterAccess;

  constructor(scope: Construct, id: string, props: MeshCertWatchStackProps) {
    const { config } = props;
    super(scope, id, {
      description: 'mesh-cert-watch: finds Istio sidecars whose workload certificate stopped rotating, restarts what must be, tells people',
      ...props,
      env: props.env ?? { account: config.account, region: config.region },
    });
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const entry = (name: string) => join(projectRoot, 'functions', name, 'handler.ts');
    const dashboardUrl = Monitoring.dashboardUrl(config.region, config.name);
    const logRetention = config.functions.logRetentionDays as logs.RetentionDays;
    const sizing = config.functions;
    // Why each value: src/config/deployment.ts `reservedConcurrency` and the README.
    const reserved = reservedConcurrency(config);

    // Dashboard tags are recent in CloudFormation and unknown to the cfn-lint we gate on.
    const tagOptions = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value, tagOptions);
    Tags.of(this).add('mesh-cert-watch:deployment', config.name, tagOptions);

    this.tables = new StateTables(this, 'State');
    this.history = new HistoryBucket(this, 'History', { retention: Duration.days(config.history.retentionDays) });
    this.deadLetters = new DeadLetterQueues(this, 'DeadLetters');

    // The bus name is known up front (runtime-configs.ts), so the functions' configuration does
    // not depend on the routing construct (which itself needs the functions).
    const eventBusName = config.name;

    // One row per function, in the order events flow: the schedule invokes the sampler, whose
    // events the bus routes to the remediator and the notifier. What differs between them is here;
    // what they share (runtime, bundling, logs, alarms) is WatcherFunction's.
    const functionTable: Record<'sampler' | 'remediator' | 'notifier', FunctionRow> = {
      sampler: {
        id: 'Sampler',
        description: 'Samples the Istio sidecars of one EKS cluster per invocation ({"cluster": name})',
        sizing: sizing.sampler,
        runtimeConfig: samplerRuntimeInput(config, { ledgerTableName: this.tables.ledger.tableName, historyBucketName: this.history.bucket.bucketName }),
        runtimeConfigSetting: 'clusters',
        inVpc: true,
        reservedConcurrentExecutions: reserved.sampler,
        // The next scheduled sweep is the retry.
        asyncInvoke: {
          retryAttempts: 0,
          maxEventAge: Duration.minutes(Math.min(...config.clusters.map((cluster) => cluster.schedule.rateMinutes))),
          onFailure: this.deadLetters.sampler,
        },
      },
      remediator: {
        id: 'Remediator',
        description: 'Rollout-restarts workloads whose sidecar certificate is not rotating, under the safety policy',
        sizing: sizing.remediator,
        runtimeConfig: remediatorRuntimeInput(config, { budgetTableName: this.tables.budget.tableName }),
        runtimeConfigSetting: 'clusters',
        inVpc: true,
        reservedConcurrentExecutions: reserved.remediator,
        asyncInvoke: { retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: this.deadLetters.remediator },
      },
      notifier: {
        id: 'Notifier',
        description: 'Sends certificate state changes, restarts and failed sweeps to Slack and PagerDuty',
        sizing: sizing.notifier,
        runtimeConfig: notifierRuntimeInput(config, { deliveryTableName: this.tables.notifications.tableName }),
        runtimeConfigSetting: 'notifications.destinations',
        // No VPC: it only talks to Secrets Manager, SQS, Slack and PagerDuty over the internet.
        inVpc: false,
        reservedConcurrentExecutions: reserved.notifier,
      },
    };
    const build = (name: keyof typeof functionTable): WatcherFunction => {
      const row = functionTable[name];
      return new WatcherFunction(this, row.id, {
        functionName: `${config.name}-${name}`,
        description: row.description,
        entry: entry(name),
        projectRoot,
        runtime: sizing.runtime,
        timeout: Duration.seconds(row.sizing.timeoutSeconds),
        memorySize: row.sizing.memoryMiB,
        logRetention,
        runtimeConfig: row.runtimeConfig,
        runtimeConfigSetting: row.runtimeConfigSetting,
        ...(row.inVpc ? { vpc: config.vpc } : {}),
        reservedConcurrentExecutions: row.reservedConcurrentExecutions,
        ...(row.asyncInvoke ? { asyncInvoke: row.asyncInvoke } : {}),
      });
    };
    this.sampler = build('sampler');
    this.remediator = build('remediator');
    this.notifier = build('notifier');

    this.routing = new EventRouting(this, 'Events', {
      busName: eventBusName,
      remediator: this.remediator.function,
      restartStates: config.remediation.restartStates,
      actOnProvenStale: config.remediation.actOnProvenStale,
      notifier: this.notifier.function,
      notifierTimeout: Duration.seconds(sizing.notifier.timeoutSeconds),
      batchWindow: Duration.seconds(config.notifications.batchWindowSeconds),
      remediatorDeadLetterQueue: this.deadLetters.remediator,
      notificationDeadLetterQueue: this.deadLetters.notifications,
      notifierMaxConcurrency: NOTIFIER_MAX_CONCURRENCY,
    });
    new EventSchemas(this, 'Schemas', { registryName: config.name });

    this.schedules = new SweepSchedules(this, 'Schedules', {
      groupName: config.name,
      sampler: this.sampler.function,
      deadLetterQueue: this.deadLetters.sampler,
      schedules: config.clusters.map((cluster) => ({
        cluster: cluster.name,
        rateMinutes: cluster.schedule.rateMinutes,
        retryAttempts: cluster.schedule.retryAttempts,
      })),
    });

    this.grantPermissions(config);

    this.clusterAccess = new ClusterAccess(this, 'ClusterAccess', {
      clusterNames: config.clusters.filter((cluster) => cluster.accessEntries).map((cluster) => cluster.name),
      samplerRole: this.sampler.role,
      remediatorRole: this.remediator.role,
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: config.name,
      clusters: config.clusters.map((cluster) => ({
        name: cluster.name,
        rateMinutes: cluster.schedule.rateMinutes,
        staleAfter: cluster.thresholds.staleAfter,
        expiringWithin: cluster.thresholds.expiringWithin,
        certificateTtlSeconds: durationSeconds(cluster.certificateTtl),
        tbotRenewalIntervalSeconds: durationSeconds(cluster.rotation.renewalInterval),
        execsPerSweepCeiling: execsPerSweepCeiling({
          maxExecStartsPerSecond: cluster.maxExecStartsPerSecond,
          timeoutSeconds: sizing.sampler.timeoutSeconds,
          marginSeconds: sizing.sampler.sweepDeadlineMarginSeconds,
          sampleTimeoutSeconds: cluster.sampleTimeoutSeconds,
        }),
      })),
      sweepDeadlineMargin: Duration.seconds(sizing.sampler.sweepDeadlineMarginSeconds),
      samplingErrorShare: config.alarms.samplingErrorShare,
      missedSweeps: config.alarms.missedSweeps,
      breakerUnhealthyShare: config.remediation.breakerUnhealthyShare,
      deadLetterQueues: this.deadLetters.all,
      notificationQueue: this.routing.notificationQueue,
      channels: [...new Set(notificationDestinations(config).map((d) => d.channel))],
      functions: {
        sampler: monitored('sampler', this.sampler, sizing.sampler),
        remediator: monitored('remediator', this.remediator, sizing.remediator),
        notifier: monitored('notifier', this.notifier, sizing.notifier),
      },
      tables: [
        { name: 'ledger', table: this.tables.ledger },
        { name: 'restart guard', table: this.tables.budget },
        { name: 'notifications', table: this.tables.notifications },
      ],
      alarmTopic: config.alarms.topic
        ? config.alarms.topic.create
          ? { create: true, emailSubscriptions: config.alarms.topic.emailSubscriptions }
          : { existingTopicArn: config.alarms.topic.existingTopicArn ?? '' }
        : undefined,
    });

    new CfnOutput(this, 'DashboardUrl', { value: dashboardUrl, description: 'CloudWatch dashboard' });
    new CfnOutput(this, 'EventBusName', { value: this.routing.bus.eventBusName });
    new CfnOutput(this, 'SamplerRoleArn', {
      value: this.sampler.role.roleArn,
      description: 'Map to Kubernetes group mesh-cert-watch:sampler (done by the stack when accessEntries is true)',
    });
    new CfnOutput(this, 'RemediatorRoleArn', {
      value: this.remediator.role.roleArn,
      description: 'Map to Kubernetes group mesh-cert-watch:remediator (done by the stack when accessEntries is true)',
    });
    new CfnOutput(this, 'RbacCommand', {
      value: `npx mesh-cert-watch rbac${config.remediation.deleteBarePods ? ' --delete-bare-pods' : ''}${[...new Set(config.clusters.map((c) => c.tbot.namespace))]
        .filter((namespace) => namespace !== 'teleport-system' || config.clusters.some((c) => c.tbot.namespace !== 'teleport-system'))
        .map((namespace) => ` --tbot-namespace ${namespace}`)
        .join('')} | kubectl apply -f -`,
      description: 'Run against every cluster: the ClusterRoles/bindings the two Kubernetes groups need, and the remediator Role in the tbot namespace',
    });
    new CfnOutput(this, 'LedgerTableName', { value: this.tables.ledger.tableName });
    new CfnOutput(this, 'HistoryBucketName', { value: this.history.bucket.bucketName, description: 'Rotation history: history/<cluster>/ one snapshot per sweep' });
    new CfnOutput(this, 'RestartBudgetTableName', { value: this.tables.budget.tableName });
    new CfnOutput(this, 'NotificationsTableName', { value: this.tables.notifications.tableName });
  }

  /**
   * Each role gets exactly the named resources it uses, in the order of the runtime flow:
   * the sampler reads the clusters, keeps the ledger and the history, and publishes; the
   * remediator reads and patches the clusters, takes its budget and publishes the outcome; the
   * notifier claims deliveries and reads the channels' secrets. (Kubernetes permissions are
   * ClusterAccess's and `mesh-cert-watch rbac`'s.)
   */
  private grantPermissions(config: DeploymentConfig): void {
    const clusterArns = config.clusters.map((cluster) =>
      this.formatArn({ service: 'eks', region: clusterRegion(config, cluster), resource: 'cluster', resourceName: cluster.name }),
    );
    // DescribeCluster gives the API endpoint and CA; the EKS token is signed locally.
    const describeClusters = new iam.PolicyStatement({ sid: 'DescribeWatchedClusters', actions: ['eks:DescribeCluster'], resources: clusterArns });
    const putEvents = new iam.PolicyStatement({
      sid: 'PublishWatcherEvents',
      actions: ['events:PutEvents'],
      resources: [this.routing.bus.eventBusArn],
      conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
    });

    // Sampler: cluster → ledger and history → events.
    this.sampler.role.addToPrincipalPolicy(describeClusters);
    StateTables.grantItemReadWrite(this.tables.ledger, this.sampler.role);
    this.history.grantSnapshots(this.sampler.role);
    this.sampler.role.addToPrincipalPolicy(putEvents);

    // Remediator: cluster → restart guard → outcome event.
    this.remediator.role.addToPrincipalPolicy(describeClusters);
    StateTables.grantItemReadWrite(this.tables.budget, this.remediator.role);
    this.remediator.role.addToPrincipalPolicy(putEvents);

    // Notifier: delivery log → channel secrets.
    StateTables.grantItemReadWrite(this.tables.notifications, this.notifier.role);
    // Each destination's secret (Slack webhook URL, PagerDuty routing key), read by the notifier only.
    const secrets = [...new Map(notificationDestinations(config).map((d) => [d.secret, d.channel])).entries()];
    secrets.forEach(([secretId, channel], index) => {
      const name = channel === 'slack' ? 'SlackWebhook' : 'PagerDutyRoutingKey';
      const secret = secretId.startsWith('arn:')
        ? secretsmanager.Secret.fromSecretCompleteArn(this, `${name}${index}`, secretId)
        : secretsmanager.Secret.fromSecretNameV2(this, `${name}${index}`, secretId);
      this.notifier.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `Read${name}${index}`,
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretId.startsWith('arn:') ? secret.secretArn : `${secret.secretArn}-??????`],
        }),
      );
    });
    if (config.notifications.secretsKmsKeyArn) {
      const key = kms.Key.fromKeyArn(this, 'SecretsKey', config.notifications.secretsKmsKeyArn);
      this.notifier.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptSlackWebhooks',
          actions: ['kms:Decrypt'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${config.region}.amazonaws.com` } },
        }),
      );
    }
  }
}

/** What differs between the three functions (the rest is WatcherFunction's). */
interface FunctionRow {
  /** Construct id. */
  readonly id: string;
  readonly description: string;
  readonly sizing: { readonly timeoutSeconds: number; readonly memoryMiB: number };
  /** Written to MESH_CERT_WATCH_CONFIG. */
  readonly runtimeConfig: object;
  /** The deployment setting named when the configuration is too large for the environment. */
  readonly runtimeConfigSetting: string;
  /** Placed in `config.vpc` (when set): the functions that talk to a cluster's API server. */
  readonly inVpc: boolean;
  /** Undefined: the account's unreserved pool (see `reservedConcurrency`). */
  readonly reservedConcurrentExecutions: number | undefined;
  readonly asyncInvoke?: AsyncInvokeOptions;
}

function monitored(component: 'sampler' | 'remediator' | 'notifier', watcher: WatcherFunction, sizing: { readonly timeoutSeconds: number }) {
  return { component, function: watcher.function, timeout: Duration.seconds(sizing.timeoutSeconds), logGroup: watcher.logGroup };
}

function durationSeconds(text: string): number {
  const threshold = parseThreshold(text);
  if (threshold.kind !== 'duration') throw new Error(`${text} is not a duration`);
  return threshold.seconds;
}
