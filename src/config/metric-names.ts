/**
 * CloudWatch embedded-metric-format (EMF) names shared by the handlers (which emit them) and
 * the stack (whose dashboard and alarms read them). A metric the stack reads only exists if it
 * is emitted with exactly the namespace, name and dimension set written here: an extra
 * dimension (e.g. Powertools' default `service`) makes it a different metric.
 */
import type { State } from '../core/types.js';

export { RESTART_OUTCOMES } from '../core/events.js';

export const METRICS_NAMESPACE = 'MeshCertWatch';

export const DIMENSIONS = {
  /** Every metric has it: the cluster name from the deployment configuration. */
  cluster: 'Cluster',
  /** `Restarts` only: one of RESTART_OUTCOMES. */
  outcome: 'Outcome',
  /** ROTATION_SOURCE_METRICS only: `tbot`, `istio-agent` or `unknown`. */
  source: 'Source',
} as const;

/**
 * Emitted by the sampler once per sweep and cluster, dimension set `[Cluster]`, unit Count
 * unless noted. `SweepDurationMs` is emitted exactly once per `Sweep Completed` event (also
 * for partial and failed sweeps): the "watcher stopped reporting" alarm counts its samples.
 */
export const SAMPLER_METRICS = {
  podsSampled: 'PodsSampled',
  podsSkipped: 'PodsSkipped',
  podsHealthy: 'PodsHealthy',
  podsStale: 'PodsStale',
  podsExpiring: 'PodsExpiring',
  podsExpired: 'PodsExpired',
  podsMissing: 'PodsMissing',
  podsUnreachable: 'PodsUnreachable',
  /** Seconds; the smallest `remainingSeconds` of any sampled leaf (omitted when none). */
  minRemainingSeconds: 'MinRemainingSeconds',
  /** Seconds; the largest leaf `ageSeconds`. */
  maxLeafAgeSeconds: 'MaxLeafAgeSeconds',
  /** Seconds; the largest `default` secret `pushAgeSeconds`. */
  maxPushAgeSeconds: 'MaxPushAgeSeconds',
  /** Milliseconds from sweep start to the `Sweep Completed` event. */
  sweepDurationMs: 'SweepDurationMs',
  /** Pods whose sampling failed (they are counted as `unreachable` too). */
  samplingErrors: 'SamplingErrors',
  eventsPublished: 'EventsPublished',
  /** PutEvents entries that still failed after retries. */
  eventsFailed: 'EventsFailed',
  /** Pods whose leaf changed since their previous observation (rotation history; omitted without it). */
  rotationsObserved: 'RotationsObserved',
  /** Pods past their expected renewal point (+ slack), or with the missed renewal proven. */
  podsRotationOverdue: 'PodsRotationOverdue',
  /** Pods where `sds-push-without-rotation` was proven by a push seen across two sweeps. */
  missedRenewalsProven: 'MissedRenewalsProven',
} as const;

/**
 * Emitted by the sampler per sweep, cluster and SDS source, dimension set `[Cluster, Source]`,
 * unit Seconds, only for a source with a rotation observed in that sweep: the observed rotation
 * interval (notBefore of the new leaf − notBefore of the previous one).
 */
export const ROTATION_SOURCE_METRICS = {
  intervalP50Seconds: 'RotationIntervalP50Seconds',
  intervalMaxSeconds: 'RotationIntervalMaxSeconds',
} as const;

/** Sources the dashboard draws rotation intervals for. */
export const ROTATION_METRIC_SOURCES = ['tbot', 'istio-agent'] as const;

/** The per-state pod count metric, by state. */
export const STATE_METRICS: Readonly<Record<State, string>> = {
  healthy: SAMPLER_METRICS.podsHealthy,
  stale: SAMPLER_METRICS.podsStale,
  expiring: SAMPLER_METRICS.podsExpiring,
  expired: SAMPLER_METRICS.podsExpired,
  missing: SAMPLER_METRICS.podsMissing,
  unreachable: SAMPLER_METRICS.podsUnreachable,
};

/** Emitted by the remediator. */
export const REMEDIATOR_METRICS = {
  /** Count per `Workload Restart` event; dimension set `[Cluster, Outcome]`. */
  restarts: 'Restarts',
  /** Count per `Agent Restart` event (a node's tbot agent); dimension set `[Cluster, Outcome]`. */
  agentRestarts: 'AgentRestarts',
  /** 1 when the breaker stopped a restart, else nothing; dimension set `[Cluster]`. */
  breakerOpen: 'BreakerOpen',
} as const;

/** Emitted by the notifier, dimension set `[Cluster]` (the event's `detail.cluster`). */
export const NOTIFIER_METRICS = {
  slackMessagesSent: 'SlackMessagesSent',
  slackMessagesFailed: 'SlackMessagesFailed',
} as const;

/**
 * Not a metric anyone emits: the dashboard derives "restarts avoided vs the 45-minute CronJob"
 * from `PodsSampled` and `Restarts` with metric math, so it cannot drift from what happened.
 */
export const CRONJOB_RESTART_INTERVAL_MINUTES = 45;
