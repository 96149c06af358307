/**
 * `mesh-cert-watch demo`: the whole product in one process, on an accelerated clock.
 *
 * The real sampler, remediator and notifier Lambda handlers (the same factories the functions
 * export, with the runtime configuration the stack would write from the deployment defaults,
 * dry-run off) run against local stand-ins: the Kubernetes API emulator with a scripted
 * sock-shop mesh (sock-shop.ts) for EKS, dynalite for DynamoDB, a local event bus routing with
 * the stack's own rule patterns for EventBridge, an in-memory secret for Secrets Manager and a
 * local HTTP server for Slack. Each sweep, like the deployed system:
 *
 *   schedule → sampler (sweep, ledger, PutEvents, EMF) → bus → remediator per restartable
 *   `Pod Certificate Unhealthy` → the "controller" replaces restarted pods → SQS batching window
 *   → notifier (one batch) → Slack.
 *
 * The clock stands still while a handler runs and jumps between steps (remediator 2 s after the
 * sweep, notifier after the 20 s batching window, next sweep after the schedule interval). What
 * the handlers print (Powertools JSON logs and EMF metrics, i.e. CloudWatch Logs) is captured:
 * EMF metrics are counted, warnings and errors are reported. Nothing needs AWS credentials.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import { notifierEventPattern, remediatorEventPattern } from '../../config/event-patterns.js';
import { notifierRuntimeInput, remediatorRuntimeInput, samplerRuntimeInput } from '../../config/runtime-configs.js';
import { DynamoLedger } from '../../aws/ledger.js';
import { DynamoDeliveryLog, DynamoPostGate } from '../../aws/notification-store.js';
import { DynamoRestartGuard } from '../../aws/restart-guard.js';
import { SecretsManagerSecrets } from '../../aws/webhook-secrets.js';
import { SlackChannel } from '../../slack/slack-channel.js';
import { parseDeploymentConfig } from '../../config/deployment.js';
import { METRICS_NAMESPACE } from '../../config/metric-names.js';
import { notifierRuntimeConfig, parseRuntimeConfig, remediatorRuntimeConfig, samplerRuntimeConfig, type RemediatorRuntimeConfigInput } from '../../config/runtime.js';
import { ConfigError, MeshCertWatchError, describeError } from '../../core/model/errors.js';
import { AGENT_RESTART, WORKLOAD_RESTART } from '../../core/events/events.js';
import type { AgentRestartDetail } from '../../core/remediation/agent-remediation.js';
import type { RemediationDetail } from '../../core/remediation/remediation.js';
import { renderPlainText, type SlackMessage } from '../../slack/slack-message.js';
import type { SweepReport } from '../../core/model/types.js';
import { FakeClock } from '../emulator/fake-clock.js';
import { startFakeSlack } from '../emulator/fake-slack.js';
import { startKubeApiEmulator } from '../emulator/kube-api.js';
import { LocalEventBus, sqsRecord, type RoutedEvent } from '../emulator/local-event-bus.js';
import { MemoryHistoryStore } from '../emulator/memory-history.js';
import { MemorySecrets } from '../emulator/memory-secrets.js';
import { createMeshPki } from '../emulator/sidecar-secrets.js';
import { KubeClient } from '../../kube/kube-client.js';
import { createNotifierHandler } from '../../notifier/lambda.js';
import { createRemediatorHandler } from '../../remediator/lambda.js';
import { createSamplerHandler } from '../../sampler/lambda.js';
import type { SweepOutcome } from '../../sampler/sweep-cluster.js';
import { SlackWebhookPoster } from '../../slack/webhook-poster.js';
import type { AgentReplacement } from '../emulator/tbot-fleet.js';
import { AFFECTED_TBOT, FIXED_TBOT, SockShopCluster, type PodReplacement, type ScriptedProblem } from './sock-shop.js';
import { EventBridgeSink } from '../../aws/event-publisher.js';

export const DEMO_CLUSTER = 'demo-eks';
export const DEMO_DEFAULTS = { sweeps: 24, intervalMinutes: 5, start: new Date('2026-03-02T09:00:00Z') } as const;

const WEBHOOK_SECRET = 'mesh-cert-watch/slack-webhook';
/** EventBridge → remediator (asynchronous invoke) takes a moment; the notifier waits for the batching window. */
const REMEDIATOR_DELAY_MS = 2_000;
/** How long after the sweep whose Slack message names the upgrade the operator's fix takes effect. */
const OPERATOR_REACTION_MS = 10 * 60_000;
const RULES = { remediator: 'remediator', notifier: 'notifier' } as const;

export interface DemoOptions {
  /** Scheduled sweeps to run. @default 24 */
  readonly sweeps?: number;
  /** Minutes between sweeps (the schedule's rate). @default 5 */
  readonly intervalMinutes?: number;
  /** The simulated instant of the first sweep. @default 2026-03-02T09:00:00Z */
  readonly start?: Date;
  /** Called with the scenario before the first sweep. */
  readonly onStart?: (intro: DemoIntro) => void;
  /** Called after each sweep, as soon as it is done (the CLI prints it). */
  readonly onSweep?: (sweep: DemoSweep) => void;
}

export interface DemoIntro {
  readonly cluster: string;
  readonly podCount: number;
  readonly sweeps: number;
  readonly intervalMinutes: number;
  readonly start: Date;
  readonly problems: readonly ScriptedProblem[];
  /** The node whose tbot agent runs the affected release, and that release. */
  readonly affectedNode: string;
  readonly affectedVersion: string;
  /** The remediation settings in force (deployment defaults, dry-run off). */
  readonly policy: RemediatorRuntimeConfigInput['policy'];
}

export interface SlackPost {
  readonly payload: SlackMessage;
  /** The message as plain text (`renderPlainText`). */
  readonly text: string;
}

export interface DemoSweep {
  /** 1-based. */
  readonly index: number;
  readonly at: Date;
  /** What the operator did before this sweep. */
  readonly operator: readonly string[];
  readonly report: SweepReport;
  /** Events the sampler published, with the rules each matched. */
  readonly events: readonly RoutedEvent[];
  /** Workload Restart details, one per remediator invocation that ended in one. */
  readonly remediation: readonly RemediationDetail[];
  /** Agent Restart details, one per remediator invocation that ended in one. */
  readonly agentRestarts: readonly AgentRestartDetail[];
  /** Where each Workload Restart event was routed. */
  readonly restartEvents: readonly RoutedEvent[];
  readonly replacements: readonly PodReplacement[];
  /** tbot agent pods the DaemonSet controller recreated (after an agent restart, or the upgrade). */
  readonly agentReplacements: readonly AgentReplacement[];
  readonly slack: readonly SlackPost[];
  /** Warnings and errors the handlers logged. */
  readonly logProblems: readonly string[];
  /** The EMF metric values the handlers emitted in this sweep, by metric name (the last one). */
  readonly metricValues: Readonly<Record<string, number>>;
  /** Every EMF data point of this sweep by metric identity, `Name{Dim=value,...}` (value arrays flattened). */
  readonly metricDataPoints: Readonly<Record<string, readonly number[]>>;
  /** The handlers' structured log lines of this sweep (what CloudWatch Logs Insights would query). */
  readonly logRecords: readonly DemoLogRecord[];
  /** Real time the handlers took (the simulated clock stands still meanwhile). */
  readonly wallMs: { readonly sampler: number; readonly remediator: number; readonly notifier: number };
}

export interface DemoResult {
  readonly intro: DemoIntro;
  readonly sweeps: readonly DemoSweep[];
  /** Distinct CloudWatch metrics (namespace, name, dimensions) the handlers emitted as EMF. */
  readonly metrics: readonly string[];
}

/** One structured (Powertools JSON) log line a handler wrote, EMF documents excluded. */
export interface DemoLogRecord {
  readonly fn: 'sampler' | 'remediator' | 'notifier';
  readonly record: Readonly<Record<string, unknown>>;
}

/** What one sweep's handlers wrote: read by readLogs. */
interface SweepLogs {
  readonly metrics: Set<string>;
  readonly problems: string[];
  readonly values: Record<string, number>;
  readonly dataPoints: Record<string, number[]>;
  readonly records: DemoLogRecord[];
}

/** What a handler printed while it ran: its CloudWatch Logs stream. */
interface Captured<T> {
  readonly value: T;
  readonly lines: readonly string[];
  readonly wallMs: number;
}

/**
 * Runs `run` with process stdout/stderr redirected into a buffer: Powertools writes logs and EMF
 * there, as in Lambda, where they go to CloudWatch Logs. The demo's own output is not printed
 * while a handler runs (everything is awaited in sequence).
 */
async function captureOutput<T>(run: () => Promise<T>): Promise<Captured<T>> {
  const lines: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const capture = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter((line) => line.trim() !== ''));
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  const started = performance.now();
  try {
    const value = await run();
    return { value, lines, wallMs: performance.now() - started };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

/** EMF metric identities and WARN/ERROR log lines in captured output. */
function readLogs(lines: readonly string[], logs: SweepLogs, fn: DemoLogRecord['fn']): void {
  const { metrics, problems } = logs;
  for (const line of lines) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`${fn}: ${line}`);
      continue;
    }
    const aws = record._aws as { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } | undefined;
    if (aws?.CloudWatchMetrics) {
      for (const directive of aws.CloudWatchMetrics) {
        const dimensions = (directive.Dimensions[0] ?? []).map((d) => `${d}=${String(record[d])}`).join(',');
        for (const metric of directive.Metrics) {
          metrics.add(`${directive.Namespace}/${metric.Name}{${dimensions}}`);
          const raw = record[metric.Name];
          const points = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
          if (points.length > 0) logs.values[metric.Name] = points.at(-1)!;
          (logs.dataPoints[`${metric.Name}{${dimensions}}`] ??= []).push(...points);
        }
      }
      continue;
    }
    logs.records.push({ fn, record });
    if (record.level === 'WARN' || record.level === 'ERROR') problems.push(`${fn} ${String(record.level)}: ${String(record.message)}${record.error ? `: ${String(record.error)}` : ''}`);
  }
}

function lambdaContext(functionName: string, memoryMiB: number, timeoutSeconds: number, requestId: string): Context {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memoryMiB),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'demo',
    callbackWaitsForEmptyEventLoop: true,
    // The simulated clock does not move while a handler runs: the whole timeout is left.
    getRemainingTimeInMillis: () => timeoutSeconds * 1000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as Context;
}

function shell(component: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName: `mesh-cert-watch-${component}`, logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: `mesh-cert-watch-${component}` }),
  };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const sweeps = options.sweeps ?? DEMO_DEFAULTS.sweeps;
  const intervalMinutes = options.intervalMinutes ?? DEMO_DEFAULTS.intervalMinutes;
  const start = options.start ?? DEMO_DEFAULTS.start;
  if (!Number.isInteger(sweeps) || sweeps < 1) throw new ConfigError('sweeps', `must be a positive integer, got ${sweeps}`);
  if (!(intervalMinutes >= 1 && intervalMinutes <= 60)) throw new ConfigError('intervalMinutes', `must be 1 to 60 minutes, got ${intervalMinutes}`);

  // dynalite is a devDependency: loaded only here, so the CLI's other commands never need it.
  const { startLocalDynamo } = await import('../emulator/local-dynamodb.js');
  const clock = new FakeClock(start.getTime());
  const closers: (() => Promise<void>)[] = [];
  try {
    const emulator = await startKubeApiEmulator({ clock: clock.date });
    closers.push(() => emulator.close());
    const dynamo = await startLocalDynamo();
    closers.push(() => dynamo.close());
    const slack = await startFakeSlack();
    closers.push(() => slack.close());

    const tables = { ledgerTableName: 'mesh-cert-watch-ledger', budgetTableName: 'mesh-cert-watch-restart-guard', deliveryTableName: 'mesh-cert-watch-notifications' };
    for (const table of Object.values(tables)) await dynamo.createTable(table);

    // The deployment's defaults, as `cdk deploy` would apply them, with restarts switched on.
    const deployment = parseDeploymentConfig({
      region: 'eu-west-1',
      clusters: [{ name: DEMO_CLUSTER, schedule: { rateMinutes: Math.round(intervalMinutes) } }],
      remediation: { dryRun: false },
      notifications: { slackWebhookSecret: WEBHOOK_SECRET },
    });
    const env = (input: unknown) => ({ MESH_CERT_WATCH_CONFIG: JSON.stringify(input) });
    const samplerConfig = parseRuntimeConfig(samplerRuntimeConfig, env(samplerRuntimeInput(deployment, tables)));
    const remediatorInput = remediatorRuntimeInput(deployment, tables);
    const remediatorConfig = parseRuntimeConfig(remediatorRuntimeConfig, env(remediatorInput));
    const notifierConfig = parseRuntimeConfig(notifierRuntimeConfig, env(notifierRuntimeInput(deployment, tables)));

    const bus = new LocalEventBus({
      busName: samplerConfig.eventBusName,
      rules: [
        { name: RULES.remediator, pattern: remediatorEventPattern(deployment.remediation.restartStates, { actOnProvenStale: deployment.remediation.actOnProvenStale }) },
        { name: RULES.notifier, pattern: notifierEventPattern() },
      ],
      clock: clock.date,
    });
    const kubeClientFor = async () => new KubeClient(emulator.kubeConfig(DEMO_CLUSTER));
    const cluster = SockShopCluster.create(emulator, await createMeshPki('sock-shop.example'), clock.date);

    let sweepNumber = 0;
    const sweepOutcomes: SweepOutcome[] = [];
    const samplerShell = shell('sampler');
    // Rotation history, as the deployed sampler keeps it in S3: each sweep compares every pod with
    // the previous one, so a renewal tbot re-sends with the old leaf is proven at the next sweep.
    const history = new MemoryHistoryStore();
    const sampler = createSamplerHandler(
      () => ({
        config: samplerConfig,
        kubeClientFor,
        ledger: new DynamoLedger({ client: dynamo.client(), tableName: tables.ledgerTableName }),
        history,
        events: new EventBridgeSink(bus, samplerConfig.eventBusName),
        logger: samplerShell.logger,
        metrics: samplerShell.metrics,
        clock: clock.date,
        // The demo's tables show every pod of every sweep.
        keepEveryPod: true,
        newSweepId: () => `sweep-${String(sweepNumber).padStart(2, '0')}`,
        onSweepCompleted: (outcome) => {
          sweepOutcomes.push(outcome);
        },
      }),
      samplerShell,
    );
    const remediatorShell = shell('remediator');
    const remediator = createRemediatorHandler(
      () => ({
        config: remediatorConfig,
        kubeClientFor,
        guard: new DynamoRestartGuard({ client: dynamo.client(), tableName: tables.budgetTableName }),
        events: new EventBridgeSink(bus, remediatorConfig.eventBusName),
        logger: remediatorShell.logger,
        clock: clock.date,
      }),
      remediatorShell,
    );
    const notifierShell = shell('notifier');
    const webhookUrl = `${slack.url}/services/T0DEMO000/B0DEMO000/demo-webhook-token`;
    const notifier = createNotifierHandler(
      () => ({
        settings: notifierConfig,
        channels: {
          // The local Slack speaks plain HTTP on 127.0.0.1; deployed, only hooks.slack.com is accepted.
          slack: new SlackChannel({ acceptUrl: (url) => url.protocol === 'http:' && url.hostname === '127.0.0.1', poster: new SlackWebhookPoster({ sleep: clock.sleep, clock: clock.now }) }),
        },
        secrets: new SecretsManagerSecrets({ client: new MemorySecrets({ [WEBHOOK_SECRET]: webhookUrl }), ttlSeconds: notifierConfig.secretCacheSeconds, clock: clock.now }),
        deliveries: new DynamoDeliveryLog({ client: dynamo.client(), tableName: tables.deliveryTableName, leaseSeconds: notifierConfig.deliveryLeaseSeconds }),
        gate: new DynamoPostGate({
          client: dynamo.client(),
          tableName: tables.deliveryTableName,
          intervalMs: Math.ceil(1000 / notifierConfig.maxMessagesPerSecond),
          clock: clock.now,
          sleep: clock.sleep,
        }),
        log: notifierShell.logger,
        clock: clock.date,
      }),
      notifierShell,
    );

    const sizing = deployment.functions;
    const intro: DemoIntro = {
      cluster: DEMO_CLUSTER,
      podCount: cluster.podCount,
      sweeps,
      intervalMinutes,
      start,
      problems: cluster.problems(),
      affectedNode: cluster.affectedNode,
      affectedVersion: AFFECTED_TBOT,
      policy: remediatorInput.policy,
    };
    options.onStart?.(intro);

    const metrics = new Set<string>();
    const results: DemoSweep[] = [];
    /** When the operator's tbot upgrade takes effect, once Slack asked for it. */
    let upgradeDue: number | undefined;
    let upgraded = false;
    const advice = `upgrade tbot on node ${cluster.affectedNode} (${AFFECTED_TBOT} → ${FIXED_TBOT})`.toLowerCase();
    const moveTo = (at: number): void => clock.advance(Math.max(0, at - clock.now()));

    for (sweepNumber = 1; sweepNumber <= sweeps; sweepNumber++) {
      const at = start.getTime() + (sweepNumber - 1) * intervalMinutes * 60_000;
      moveTo(at);
      const logProblems: string[] = [];
      const logs: SweepLogs = { metrics, problems: logProblems, values: {}, dataPoints: {}, records: [] };

      const operator: string[] = [];
      const operatorAgents: AgentReplacement[] = [];
      if (upgradeDue !== undefined && upgradeDue <= at && !upgraded) {
        upgraded = true;
        operatorAgents.push(...cluster.upgradeTbot(FIXED_TBOT));
        operator.push(
          `upgraded the tbot DaemonSet to ${FIXED_TBOT}, as Slack advised ("${advice}"): the agent on node ${cluster.affectedNode} is replaced and its Envoys reconnect`,
        );
      }

      // 1. The schedule invokes the sampler.
      const firstEvent = bus.routed.length;
      const outcomesBefore = sweepOutcomes.length;
      const sampled = await invoke(() => sampler({ cluster: DEMO_CLUSTER }, lambdaContext('mesh-cert-watch-sampler', sizing.sampler.memoryMiB, sizing.sampler.timeoutSeconds, `sampler-${sweepNumber}`)), 'sampler');
      readLogs(sampled.lines, logs, 'sampler');
      const report = sweepOutcomes.length > outcomesBefore ? sweepOutcomes.at(-1)!.report : null;
      if (report == null) throw new MeshCertWatchError('AWS', `sweep ${sweepNumber} produced no report`);
      const events = bus.routed.slice(firstEvent);

      // 2. The remediator rule's target: one asynchronous invocation per matching event.
      moveTo(at + REMEDIATOR_DELAY_MS);
      const firstRestart = bus.routed.length;
      const remediation: RemediationDetail[] = [];
      const agentRestarts: AgentRestartDetail[] = [];
      let remediatorMs = 0;
      for (const [i, event] of bus.drain(RULES.remediator).entries()) {
        const context = lambdaContext('mesh-cert-watch-remediator', sizing.remediator.memoryMiB, sizing.remediator.timeoutSeconds, `remediator-${sweepNumber}-${i + 1}`);
        const invoked = await invoke(() => remediator(event as unknown as EventBridgeEvent<'Pod Certificate Unhealthy', unknown>, context), 'remediator');
        readLogs(invoked.lines, logs, 'remediator');
        if ('workload' in invoked.value) remediation.push(invoked.value);
        else agentRestarts.push(invoked.value);
        remediatorMs += invoked.wallMs;
      }
      const restartEvents = bus.routed.slice(firstRestart).filter((r) => r.event['detail-type'] === WORKLOAD_RESTART || r.event['detail-type'] === AGENT_RESTART);

      // 3. The controllers act: Deployments roll out what was restarted, the tbot DaemonSet recreates deleted agents.
      const reconciled = cluster.reconcile();
      const replacements = reconciled.pods;
      const agentReplacements = [...operatorAgents, ...reconciled.agents];

      // 4. After the SQS batching window, the notifier gets everything queued as one batch.
      moveTo(at + deployment.notifications.batchWindowSeconds * 1000);
      const queued = bus.drain(RULES.notifier);
      const postedBefore = slack.requests.length;
      let notifierMs = 0;
      if (queued.length > 0) {
        const records = queued.map((event, i) => sqsRecord(`sweep-${sweepNumber}-${i + 1}`, event));
        const invoked = await invoke(
          () => notifier({ Records: records }, lambdaContext('mesh-cert-watch-notifier', sizing.notifier.memoryMiB, sizing.notifier.timeoutSeconds, `notifier-${sweepNumber}`)),
          'notifier',
        );
        readLogs(invoked.lines, logs, 'notifier');
        notifierMs = invoked.wallMs;
        if (invoked.value.batchItemFailures.length > 0) logProblems.push(`notifier: ${invoked.value.batchItemFailures.length} records returned to the queue`);
      }
      const slackPosts = slack.requests.slice(postedBefore).map((request) => {
        const payload = request.body as SlackMessage;
        return { payload, text: renderPlainText(payload) };
      });

      // 5. The operator reads Slack: once the agent restart is reported with the exact upgrade advice, they upgrade.
      const agentRestartReported = slackPosts.some((post) => post.text.includes('🔁') && post.text.includes('tbot agent on node') && post.text.toLowerCase().includes(advice));
      if (upgradeDue === undefined && agentRestartReported) upgradeDue = at + OPERATOR_REACTION_MS;

      const sweep: DemoSweep = {
        index: sweepNumber,
        at: new Date(at),
        operator,
        report,
        events,
        remediation,
        agentRestarts,
        restartEvents,
        replacements,
        agentReplacements,
        slack: slackPosts,
        logProblems,
        metricValues: logs.values,
        metricDataPoints: logs.dataPoints,
        logRecords: logs.records,
        wallMs: { sampler: sampled.wallMs, remediator: remediatorMs, notifier: notifierMs },
      };
      results.push(sweep);
      options.onSweep?.(sweep);
    }
    return { intro, sweeps: results, metrics: [...metrics].sort() };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/** Runs a handler with its output captured; a handler that throws fails the demo with its logs. */
async function invoke<T>(run: () => Promise<T>, fn: string): Promise<Captured<T>> {
  let failure: unknown;
  let captured: Captured<T | undefined>;
  try {
    captured = await captureOutput(async () => {
      try {
        return await run();
      } catch (error) {
        failure = error;
        return undefined;
      }
    });
  } catch (error) {
    throw new MeshCertWatchError('AWS', `the ${fn} handler could not run: ${describeError(error)}`, { cause: error });
  }
  if (failure !== undefined) {
    const tail = captured.lines.slice(-5).join('\n  ');
    throw new MeshCertWatchError('AWS', `the ${fn} handler failed: ${describeError(failure)}${tail ? `\n  ${tail}` : ''}`, { cause: failure });
  }
  return captured as Captured<T>;
}
