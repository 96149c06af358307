/**
 * The sampler's per-sweep metrics and per-pod log fields, computed from a sweep outcome (pure;
 * lambda.ts hands the metrics to Powertools as EMF with the single dimension `Cluster` and writes
 * the log lines). Names are SAMPLER_METRICS: the dashboard and alarms of the stack read exactly
 * these.
 *
 * Metrics only when the sweep produced a report: a failed sweep saw nothing, and zeros would
 * draw a healthy-looking cluster (the "sweeps missing" alarm counts `PodsSampled` samples, so a
 * cluster that cannot be swept raises it). `MinRemainingSeconds` is omitted when no sampled pod
 * had a certificate. Everything per pod goes to the log lines, not to metric dimensions: a
 * dimension value per pod would be a custom metric per pod.
 */
import { ROTATION_METRIC_SOURCES, SAMPLER_METRICS, STATE_METRICS } from '../config/metric-names.js';
import type { PodStateChangedDetail } from '../core/events/events.js';
import { rotationIntervalSeconds } from '../core/judgement/history.js';
import { STATES, type PodReport, type RotationsReport, type Source } from '../core/model/types.js';
import type { SweepOutcome } from './sweep-cluster.js';

export type SamplerMetricUnit = 'Count' | 'Seconds' | 'Milliseconds';

export interface SamplerMetric {
  readonly name: string;
  readonly unit: SamplerMetricUnit;
  readonly value: number;
}

/**
 * What the sweep's metrics need from every judged pod, tallied as the pods are judged: the sampler
 * keeps only the reports it has events for, so the metrics cannot be read off `report.pods`.
 */
export interface PodFigures {
  /** The least remaining validity of any leaf seen, or null when no pod had one. */
  readonly minRemainingSeconds: number | null;
  /** One interval (minutes, 0.1 precision) per observed rotation, by source. */
  readonly rotationIntervalsMinutes: ReadonlyMap<Source, readonly number[]>;
}

/** Builds `PodFigures` pod by pod. */
export class PodFiguresTally {
  private minRemaining: number | null = null;
  private readonly intervals = new Map<Source, number[]>();

  add(pod: PodReport): void {
    if (pod.certificate) this.minRemaining = Math.min(this.minRemaining ?? Infinity, pod.certificate.remainingSeconds);
    const seconds = rotationIntervalSeconds(pod);
    if (seconds === null) return;
    const list = this.intervals.get(pod.source) ?? [];
    list.push(Math.round(seconds / 6) / 10);
    this.intervals.set(pod.source, list);
  }

  figures(): PodFigures {
    return { minRemainingSeconds: this.minRemaining, rotationIntervalsMinutes: this.intervals };
  }
}

/** `PodFigures` of pods already judged (a report that kept every pod). */
export function podFiguresOf(pods: readonly PodReport[]): PodFigures {
  const tally = new PodFiguresTally();
  for (const pod of pods) tally.add(pod);
  return tally.figures();
}

export function sweepMetrics(outcome: Pick<SweepOutcome, 'report' | 'figures'>): SamplerMetric[] {
  const metrics: SamplerMetric[] = [];
  const report = outcome.report;
  if (!report) return metrics;
  metrics.push({ name: SAMPLER_METRICS.podsSampled, unit: 'Count', value: report.summary.sampled });
  for (const state of STATES) {
    const name = STATE_METRICS[state];
    if (name) metrics.push({ name, unit: 'Count', value: report.summary[state] });
  }
  const remaining = outcome.figures?.minRemainingSeconds ?? null;
  if (remaining !== null) metrics.push({ name: SAMPLER_METRICS.minRemainingSeconds, unit: 'Seconds', value: remaining });
  return metrics;
}

/** The deployment-level rotation metrics of one source in one sweep (ROTATION_METRICS, dimension `Source`). */
export interface SourceRotationMetrics {
  readonly source: (typeof ROTATION_METRIC_SOURCES)[number];
  /** `RotationsObserved`: pods of this source whose leaf changed since their previous observation. */
  readonly observed: number;
  /** `RotationIntervalMinutes`: one value per observed rotation (minutes, 0.1 precision). */
  readonly intervalsMinutes: readonly number[];
}

/**
 * Per source with an expected renewal point, when the sweep compared at least one of its pods
 * with the rotation history (a sweep without history, or the first one, emits nothing: no
 * comparison, no figure). `RotationsObserved` 0 is emitted: pods compared, none rotated.
 */
export function rotationMetrics(outcome: Pick<SweepOutcome, 'report' | 'figures'>): SourceRotationMetrics[] {
  const report = outcome.report;
  if (!report?.rotations) return [];
  return ROTATION_METRIC_SOURCES.flatMap((source) => {
    const entry = report.rotations!.bySource[source];
    if (!entry || entry.compared === 0) return [];
    return [{ source, observed: entry.observed, intervalsMinutes: outcome.figures?.rotationIntervalsMinutes.get(source) ?? [] }];
  });
}

const ERROR_CHARS = 300;

/** The tbot agent serving a pod, when the engine knows it (added per pod by the agent model). */
interface AgentRef {
  readonly pod?: unknown;
  readonly version?: unknown;
}

/**
 * One pod as a log line's fields: what the dashboard's "unhealthy now" table shows. Findings are
 * one comma-separated string (Logs Insights flattens arrays into numbered fields).
 */
export function podLogFields(pod: PodReport): Record<string, unknown> {
  const agent = (pod as PodReport & { agent?: AgentRef | null }).agent;
  return {
    namespace: pod.namespace,
    pod: pod.name,
    workload: pod.workload ? `${pod.workload.kind}/${pod.workload.name}` : null,
    node: pod.node,
    state: pod.state,
    findings: pod.findings.join(','),
    remainingSeconds: pod.certificate ? Math.round(pod.certificate.remainingSeconds) : null,
    source: pod.source,
    ...(agent ? { agent: { pod: agent.pod ?? null, version: agent.version ?? null } } : {}),
    // The whole error is in the Sweep Completed event; the line keeps its start (cost is per byte).
    ...(pod.error !== undefined ? { error: pod.error.length > ERROR_CHARS ? `${pod.error.slice(0, ERROR_CHARS - 1)}…` : pod.error } : {}),
  };
}

/** Log fields of one state change; the pod's current fields when it is still there. */
export function changeLogFields(change: PodStateChangedDetail, pod: PodReport | undefined): Record<string, unknown> {
  const base = pod
    ? podLogFields(pod)
    : {
        namespace: change.namespace,
        pod: change.name,
        workload: change.workload ? `${change.workload.kind}/${change.workload.name}` : null,
        node: null,
        state: 'gone',
        findings: '',
        remainingSeconds: null,
        source: null,
      };
  return { ...base, change: change.change, previousState: change.previousState ?? 'new' };
}

/**
 * The rotation history of one sweep as fields of the sweep's summary log line: the per-cluster
 * breakdown the dashboard reads with Logs Insights (the deployment-wide figures are the
 * ROTATION_METRICS, see rotationMetrics). Flat names, `istio-agent` as `istio_agent`: no quoting
 * in queries.
 */
export function rotationLogFields(rotations: RotationsReport): Record<string, number | null> {
  const fields: Record<string, number | null> = {
    observed: rotations.observed,
    compared: rotations.compared,
    overdue: rotations.overdue,
    proven: rotations.provenAcrossSweeps,
  };
  for (const [source, entry] of Object.entries(rotations.bySource)) {
    if (!entry) continue;
    const key = source.replace(/-/g, '_');
    fields[`${key}_observed`] = entry.observed;
    fields[`${key}_interval_p50_s`] = entry.intervalSecondsP50;
    fields[`${key}_interval_max_s`] = entry.intervalSecondsMax;
  }
  return fields;
}
