/**
 * CloudWatch embedded-metric-format (EMF) names shared by the handlers (which emit them) and
 * the stack (whose dashboard and alarms read them). A metric the stack reads only exists if it
 * is emitted with exactly the namespace, name and dimension set written here: an extra
 * dimension (e.g. Powertools' default `service`) makes it a different metric.
 */
import type { State } from '../core/model/types.js';

export { RESTART_OUTCOMES } from '../core/events/events.js';

export const METRICS_NAMESPACE = 'MeshCertWatch';

export const DIMENSIONS = {
  /** Every per-cluster metric (SAMPLER_METRICS) has it: the cluster name from the deployment configuration. */
  cluster: 'Cluster',
  /** The deployment-level rotation metrics (ROTATION_METRICS) have only this one: the certificate's server. */
  source: 'Source',
} as const;

/**
 * The only custom metrics: emitted by the sampler once per sweep and cluster that produced a
 * report, dimension set `[Cluster]`, unit Count unless noted. Each costs $0.30 a month per
 * cluster, so the set is the least the alarms and the "now" tiles need; everything else (which
 * pods, findings, sweep duration, restarts, Slack messages) is in the structured logs and read
 * with Logs Insights (see LOG_MESSAGES). `PodsMissing` and the per-state sum are derived with
 * metric math: missing = sampled - healthy - stale - expiring - expired - unreachable.
 */
export const SAMPLER_METRICS = {
  podsSampled: 'PodsSampled',
  podsHealthy: 'PodsHealthy',
  podsStale: 'PodsStale',
  podsExpiring: 'PodsExpiring',
  podsExpired: 'PodsExpired',
  /** Pods that could not be sampled or judged: the sampling-errors alarm's numerator. */
  podsUnreachable: 'PodsUnreachable',
  /** Seconds; the smallest `remainingSeconds` of any sampled leaf (omitted when none). */
  minRemainingSeconds: 'MinRemainingSeconds',
} as const;

/** The per-state pod count metric, for the states that have one (`missing` is derived). */
export const STATE_METRICS: Readonly<Partial<Record<State, string>>> = {
  healthy: SAMPLER_METRICS.podsHealthy,
  stale: SAMPLER_METRICS.podsStale,
  expiring: SAMPLER_METRICS.podsExpiring,
  expired: SAMPLER_METRICS.podsExpired,
  unreachable: SAMPLER_METRICS.podsUnreachable,
};

/** Every custom metric, per cluster: what the cost model bills per cluster. */
export const CUSTOM_METRICS = Object.values(SAMPLER_METRICS);

/**
 * "Does rotation actually work?" as metrics (docs/contract.md §8): emitted by the sampler once
 * per sweep and source when the sweep compared pods with rotation history, dimension set
 * `[Source]` only, **no `Cluster`**: every cluster of a deployment adds its data points to the
 * same metric, so they cost $0.30 each per deployment, not per cluster (the per-cluster fixed
 * cost stays under $3). Which cluster: each EMF document carries `cluster` as a property, and the
 * sweep's log line and `Sweep Completed.rotations` have the per-cluster figures (Logs Insights).
 * - `RotationsObserved` (Count): pods whose leaf changed since their previous observation; 0 is
 *   emitted too (pods compared, none rotated: the signal the metric exists for);
 * - `RotationIntervalMinutes` (no unit; minutes): one data point per observed rotation, the time
 *   between the two leaves' notBefore, so CloudWatch's percentiles (p50, p90, max) are over
 *   rotations, whichever cluster they happened in.
 */
export const ROTATION_METRICS = {
  rotationsObserved: 'RotationsObserved',
  rotationIntervalMinutes: 'RotationIntervalMinutes',
} as const;

/** The `Source` values the rotation metrics are emitted for (sources with an expected renewal point). */
export const ROTATION_METRIC_SOURCES = ['tbot', 'istio-agent'] as const;

/** Every deployment-level custom metric (name × Source): what the cost model bills per deployment. */
export const DEPLOYMENT_CUSTOM_METRICS = Object.values(ROTATION_METRICS).flatMap((name) => ROTATION_METRIC_SOURCES.map((source) => `${name}{${DIMENSIONS.source}=${source}}`));

/**
 * The `message` of the structured log lines the dashboard's Logs Insights widgets read. The
 * sampler writes one `podUnhealthy` line per unhealthy pod per sweep and one `podStateChanged`
 * line per change (fields: cluster, namespace, workload, pod, node, state, findings,
 * remainingSeconds, source, agent when known); `sweepCompleted` carries `summary` and
 * `durationMs`, and with rotation history `rotations` (observed, overdue, proven, and per source
 * `<source>_observed`, `<source>_interval_p50_s`, `<source>_interval_max_s`, `istio-agent` as
 * `istio_agent`). The remediator writes `restartOutcome` per decision, the notifier
 * `slackPosted` / `slackNotPosted` per message.
 */
export const LOG_MESSAGES = {
  podUnhealthy: 'pod certificate unhealthy',
  podStateChanged: 'pod certificate state changed',
  sweepCompleted: 'sweep completed',
  sweepPartial: 'sweep completed partially (deadline reached)',
  sweepFailed: 'sweep failed',
  restartOutcome: 'workload restart outcome',
  agentRestartOutcome: 'agent restart outcome',
  slackPosted: 'slack message posted',
  slackNotPosted: 'slack message not posted',
} as const;

/**
 * Not a metric anyone emits: the dashboard draws what the 45-minute CronJob would restart from
 * `PodsSampled` with metric math, beside the watcher's restarts counted in the remediator's logs.
 */
export const CRONJOB_RESTART_INTERVAL_MINUTES = 45;
