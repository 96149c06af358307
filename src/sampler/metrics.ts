/**
 * The sampler's per-sweep metrics, computed from a sweep outcome (pure; lambda.ts hands them to
 * Powertools as EMF with the single dimension `Cluster`). Names are SAMPLER_METRICS: the
 * dashboard and alarms of the stack read exactly these.
 *
 * `SweepDurationMs`, `EventsPublished` and `EventsFailed` are emitted for every sweep, failed ones
 * included (the "watcher stopped reporting" alarm counts `SweepDurationMs` samples). Pod counts
 * and certificate extremes only when the sweep produced a report: a failed sweep saw nothing, and
 * zeros would draw a healthy-looking cluster. The certificate extremes are omitted when no sampled
 * pod had a certificate (or, for the push age, a `default` push time).
 */
import { DIMENSIONS, ROTATION_SOURCE_METRICS, SAMPLER_METRICS, STATE_METRICS } from '../config/metric-names.js';
import { STATES, type Source } from '../core/types.js';
import type { SweepOutcome } from './sweep-cluster.js';

export type SamplerMetricUnit = 'Count' | 'Seconds' | 'Milliseconds';

export interface SamplerMetric {
  readonly name: string;
  readonly unit: SamplerMetricUnit;
  readonly value: number;
  /** Dimensions beside `Cluster` (emitted as a separate EMF document); absent for `[Cluster]`. */
  readonly dimensions?: Readonly<Record<string, string>>;
}

export function sweepMetrics(outcome: Pick<SweepOutcome, 'report' | 'completed' | 'events'>): SamplerMetric[] {
  const metrics: SamplerMetric[] = [];
  const count = (name: string, value: number): void => void metrics.push({ name, unit: 'Count', value });
  const seconds = (name: string, values: readonly number[], pick: (a: number, b: number) => number): void => {
    if (values.length > 0) metrics.push({ name, unit: 'Seconds', value: values.reduce(pick) });
  };

  const report = outcome.report;
  if (report) {
    count(SAMPLER_METRICS.podsSampled, report.summary.sampled);
    count(SAMPLER_METRICS.podsSkipped, report.summary.skipped);
    for (const state of STATES) count(STATE_METRICS[state], report.summary[state]);
    count(SAMPLER_METRICS.samplingErrors, report.pods.filter((pod) => pod.error !== undefined).length);
    const certificates = report.pods.flatMap((pod) => (pod.certificate ? [pod.certificate] : []));
    seconds(SAMPLER_METRICS.minRemainingSeconds, certificates.map((c) => c.remainingSeconds), (a, b) => Math.min(a, b));
    seconds(SAMPLER_METRICS.maxLeafAgeSeconds, certificates.map((c) => c.ageSeconds), (a, b) => Math.max(a, b));
    const pushAges = report.pods.flatMap((pod) =>
      pod.secrets.flatMap((secret) => (secret.name === 'default' && secret.pushAgeSeconds !== null ? [secret.pushAgeSeconds] : [])),
    );
    seconds(SAMPLER_METRICS.maxPushAgeSeconds, pushAges, (a, b) => Math.max(a, b));
    const rotations = report.rotations;
    if (rotations) {
      count(SAMPLER_METRICS.rotationsObserved, rotations.observed);
      count(SAMPLER_METRICS.podsRotationOverdue, rotations.overdue);
      count(SAMPLER_METRICS.missedRenewalsProven, rotations.provenAcrossSweeps);
      for (const [source, entry] of Object.entries(rotations.bySource) as [Source, NonNullable<(typeof rotations.bySource)[Source]>][]) {
        const dimensions = { [DIMENSIONS.source]: source };
        if (entry.intervalSecondsP50 !== null) metrics.push({ name: ROTATION_SOURCE_METRICS.intervalP50Seconds, unit: 'Seconds', value: entry.intervalSecondsP50, dimensions });
        if (entry.intervalSecondsMax !== null) metrics.push({ name: ROTATION_SOURCE_METRICS.intervalMaxSeconds, unit: 'Seconds', value: entry.intervalSecondsMax, dimensions });
      }
    }
  }
  metrics.push({ name: SAMPLER_METRICS.sweepDurationMs, unit: 'Milliseconds', value: outcome.completed.durationMs });
  count(SAMPLER_METRICS.eventsPublished, outcome.events.published);
  count(SAMPLER_METRICS.eventsFailed, outcome.events.failed);
  return metrics;
}
