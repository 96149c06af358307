/**
 * The sampler Lambda, as a factory: middy with Powertools logging and metrics around the engine
 * (sweep-cluster.ts). `functions/sampler/handler.ts` supplies the AWS clients and the
 * configuration from `MESH_CERT_WATCH_CONFIG`; tests supply the emulator, a local DynamoDB and an
 * EventBridge client (moto) or a recording sender.
 *
 * Per invocation (EventBridge Scheduler sends `{"cluster": "<name>"}`): find the cluster in the
 * configuration → deadline = now + remaining time − max(sweepDeadlineMarginSeconds,
 * 2 × sampleTimeoutSeconds + publish allowance) → sweep → EMF metrics `[Cluster]` (SAMPLER_METRICS) and, with
 * rotation history, `[Source]` (ROTATION_METRICS, no Cluster: per deployment), one summary log
 * line carrying the sweep id, and one line per state change and per unhealthy pod. A sweep that could not run fails the invocation with its typed
 * error after `Sweep Completed` went out (the function's error metric and dead-letter queue
 * alarm on it). Nothing here logs a token, a credential or key material: errors are logged as
 * their messages, never as objects that could carry request headers.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { DIMENSIONS, LOG_MESSAGES, METRICS_NAMESPACE, ROTATION_METRICS } from '../config/metric-names.js';
import type { SamplerRuntimeConfig } from '../config/runtime.js';
import { ConfigError, InvalidEventError, MeshCertWatchError, describeError } from '../core/model/errors.js';
import type { Summary } from '../core/model/types.js';
import type { KubeClientFactory } from '../ports/clusters.js';
import type { EventSink } from '../ports/events.js';
import type { FindingsLedger } from '../ports/findings-ledger.js';
import type { RotationHistoryStore } from '../ports/rotation-history.js';
import { changeLogFields, podLogFields, rotationLogFields, rotationMetrics, sweepMetrics, type SamplerMetricUnit } from './metrics.js';
import { namespaceSelection, sweepCluster, type SamplerClusterConfig, type SweepOutcome } from './sweep-cluster.js';
import { PUBLISH_ALLOWANCE_SECONDS, sweepDeadlineMarginSeconds } from '../core/judgement/sampling-defaults.js';

/** What the schedule sends. */
export interface SamplerEvent {
  readonly cluster?: unknown;
}

/** What the invocation returns (ignored by asynchronous invokes; handy for tests and manual runs). */
export interface SamplerResult {
  readonly cluster: string;
  readonly sweepId: string;
  readonly partial: boolean;
  readonly summary: Summary;
  readonly eventsPublished: number;
  readonly eventsFailed: number;
}

export interface SamplerDependencies {
  readonly config: SamplerRuntimeConfig;
  readonly kubeClientFor: KubeClientFactory;
  readonly ledger: FindingsLedger;
  /** Rotation history store (S3 in AWS); absent: every sweep is judged alone. */
  readonly history?: RotationHistoryStore;
  /** The bus the events go to (`EventBridgeSink` on `config.eventBusName` in AWS). */
  readonly events: EventSink;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock?: () => Date;
  /**
   * Keep every judged pod's report in the outcome `onSweepCompleted` gets (the demo draws them
   * all); the Lambda keeps only the pods it has events for (sweepCluster's `keepEveryPod`).
   * @default false
   */
  readonly keepEveryPod?: boolean;
  readonly newSweepId?: () => string;
  /** Called with each sweep's outcome after its metrics and log line (the demo prints its table). */
  readonly onSweepCompleted?: (outcome: SweepOutcome) => void;
}

/**
 * When to stop starting new samples: the Lambda's remaining time minus a margin for the samples
 * still in flight and for publishing (sweepDeadlineMarginSeconds: the configured margin, and
 * never less than two execs of one pod plus the publish allowance).
 */
export function sweepDeadline(input: {
  readonly now: Date;
  readonly remainingMs: number;
  readonly marginSeconds: number;
  readonly sampleTimeoutSeconds: number;
}): Date {
  const marginMs = sweepDeadlineMarginSeconds(input) * 1000;
  return new Date(input.now.getTime() + input.remainingMs - marginMs);
}

/** The configured cluster the event names; typed errors for a malformed event or an unknown name. */
export function clusterForEvent(event: unknown, config: SamplerRuntimeConfig): SamplerClusterConfig {
  const name = typeof event === 'object' && event !== null ? (event as SamplerEvent).cluster : undefined;
  if (typeof name !== 'string' || name === '') {
    throw new InvalidEventError('cluster', 'the sampler expects {"cluster": "<name>"} (what the sweep schedule sends)');
  }
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) {
    throw new ConfigError('clusters', `the event names cluster "${name}", which is not configured (${config.clusters.map((c) => c.name).join(', ')})`);
  }
  return cluster;
}

const UNITS: Readonly<Record<SamplerMetricUnit, (typeof MetricUnit)[keyof typeof MetricUnit]>> = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  Milliseconds: MetricUnit.Milliseconds,
};

/** An error as log fields: type, code and the messages of its cause chain. Never the objects. */
export function errorFields(error: unknown): Record<string, unknown> {
  const causes: string[] = [];
  let cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    causes.push(`${cause instanceof Error ? cause.name : typeof cause}: ${describeError(cause)}`);
    cause = cause instanceof Error ? (cause as { cause?: unknown }).cause : undefined;
  }
  return {
    errorType: error instanceof Error ? error.name : typeof error,
    ...(error instanceof MeshCertWatchError ? { errorCode: error.code } : {}),
    errorMessage: describeError(error),
    ...(causes.length > 0 ? { causes } : {}),
  };
}

/** Interval values per EMF document: Powertools publishes by itself at 100, which would drop `Source`. */
const INTERVALS_PER_DOCUMENT = 99;

/**
 * The deployment-level rotation metrics (ROTATION_METRICS): their own EMF documents, dimension
 * set `[Source]` without `Cluster` (one metric per deployment and source, whatever the clusters),
 * the cluster as a plain property for Logs Insights. Published here, not by the middleware, so
 * the sweep's `[Cluster]` metrics never share a document (or a dimension set) with them.
 */
function reportRotationMetrics(outcome: SweepOutcome, metrics: Metrics): void {
  for (const entry of rotationMetrics(outcome)) {
    const documents = Math.max(1, Math.ceil(entry.intervalsMinutes.length / INTERVALS_PER_DOCUMENT));
    for (let document = 0; document < documents; document++) {
      metrics.addDimension(DIMENSIONS.source, entry.source);
      metrics.addMetadata('cluster', outcome.cluster);
      if (document === 0) metrics.addMetric(ROTATION_METRICS.rotationsObserved, MetricUnit.Count, entry.observed);
      const values = entry.intervalsMinutes.slice(document * INTERVALS_PER_DOCUMENT, (document + 1) * INTERVALS_PER_DOCUMENT);
      for (const value of values) metrics.addMetric(ROTATION_METRICS.rotationIntervalMinutes, MetricUnit.NoUnit, value);
      metrics.publishStoredMetrics();
    }
  }
}

function report(outcome: SweepOutcome, logger: Logger, metrics: Metrics, deploymentMetrics: Metrics): void {
  metrics.addDimensions({ [DIMENSIONS.cluster]: outcome.cluster });
  for (const metric of sweepMetrics(outcome)) metrics.addMetric(metric.name, UNITS[metric.unit], metric.value);
  reportRotationMetrics(outcome, deploymentMetrics);

  const failures = [...outcome.changes.failed, ...outcome.unhealthy.failed];
  if (failures.length > 0) {
    logger.warn('pod events not published after retries (change events are re-sent by the next sweep)', {
      eventsFailed: failures.length,
      failures: failures.slice(0, 20).map((f) => ({ detailType: f.detailType, errorCode: f.errorCode, errorMessage: f.errorMessage })),
    });
  }
  if (outcome.completedFailure) {
    logger.error('Sweep Completed not published', { errorCode: outcome.completedFailure.errorCode, errorMessage: outcome.completedFailure.errorMessage });
  }
  const fields = {
    summary: outcome.completed.summary,
    partial: outcome.completed.partial,
    failed: outcome.completed.failed,
    durationMs: outcome.completed.durationMs,
    stateChanges: outcome.changes.published + outcome.changes.failed.length,
    unhealthyPods: outcome.unhealthy.published + outcome.unhealthy.failed.length,
    eventsPublished: outcome.events.published,
    eventsFailed: outcome.events.failed,
    ledgerWrites: outcome.ledgerWrites,
    samplingErrors: outcome.completed.errorsTotal,
    ...(outcome.history ? { history: outcome.history } : {}),
    // Rotation history per cluster in the log line (the deployment-wide figures are metrics
    // without a Cluster dimension): the dashboard's per-cluster rotation widgets read these.
    ...(outcome.completed.rotations ? { rotations: rotationLogFields(outcome.completed.rotations) } : {}),
  };
  if ('error' in outcome) logger.error(LOG_MESSAGES.sweepFailed, { ...fields, ...errorFields(outcome.error) });
  else logger.info(outcome.completed.partial ? LOG_MESSAGES.sweepPartial : LOG_MESSAGES.sweepCompleted, fields);

  // Which pods: one line per change and one per unhealthy pod, read by the dashboard's
  // Logs Insights tables ("unhealthy now", "changes in the last 24 h").
  const pods = new Map((outcome.report?.pods ?? []).map((pod) => [pod.uid, pod]));
  for (const change of outcome.stateChanges ?? []) logger.info(LOG_MESSAGES.podStateChanged, changeLogFields(change, pods.get(change.uid)));
  for (const pod of outcome.report?.pods ?? []) {
    if (pod.state !== 'healthy') logger.info(LOG_MESSAGES.podUnhealthy, podLogFields(pod));
  }
}

/** `dependencies` is called once, on the first invocation (cold start), and kept. */
export function createSamplerHandler(dependencies: () => SamplerDependencies, shell: { logger: Logger; metrics: Metrics }) {
  let resolved: SamplerDependencies | undefined;
  // EMF metrics must carry exactly the dimension sets the dashboard reads: no `service`.
  shell.metrics.clearDefaultDimensions();
  const deploymentMetrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-sampler' });
  deploymentMetrics.clearDefaultDimensions();

  const handle = async (event: SamplerEvent, context: Context): Promise<SamplerResult> => {
    if (!resolved) {
      const candidate = dependencies();
      // Refuse a configuration that cannot be swept before any cluster is touched.
      candidate.config.clusters.forEach((c, index) => namespaceSelection(c.namespaces, `clusters[${index}].namespaces`));
      resolved = candidate;
    }
    const { config, logger, metrics, onSweepCompleted } = resolved;
    const clock = resolved.clock ?? (() => new Date());

    const cluster = clusterForEvent(event, config);
    const sweepId = (resolved.newSweepId ?? randomUUID)();
    logger.appendKeys({ cluster: cluster.name, sweepId });
    const startedAt = clock();
    const remainingMs = context.getRemainingTimeInMillis();
    const deadline = sweepDeadline({
      now: startedAt,
      remainingMs,
      marginSeconds: config.sweepDeadlineMarginSeconds,
      sampleTimeoutSeconds: cluster.sampleTimeoutSeconds,
    });
    logger.debug('sweep starting', { deadline: deadline.toISOString(), region: cluster.region, namespaces: cluster.namespaces });

    const outcome = await sweepCluster(
      // Every Kubernetes request ends in time for the ledger and the events (Sweep Completed last).
      { cluster, sweepId, deadline, requestDeadline: new Date(Date.now() + remainingMs - PUBLISH_ALLOWANCE_SECONDS * 1000) },
      {
        kubeClientFor: resolved.kubeClientFor,
        ledger: resolved.ledger,
        ...(resolved.history ? { history: resolved.history } : {}),
        events: resolved.events,
        clock,
        keepEveryPod: resolved.keepEveryPod ?? false,
        onWarning: (message) => logger.warn(message),
        onSweepCompleted: (o) => {
          report(o, logger, metrics, deploymentMetrics);
          onSweepCompleted?.(o);
        },
      },
    );
    return {
      cluster: cluster.name,
      sweepId,
      partial: outcome.completed.partial,
      summary: outcome.completed.summary,
      eventsPublished: outcome.events.published,
      eventsFailed: outcome.events.failed,
    };
  };

  return middy<SamplerEvent, SamplerResult, Error, Context>(handle)
    .use(injectLambdaContext(shell.logger, { resetKeys: true }))
    .use(logMetrics(shell.metrics));
}
