/**
 * EventBridge event patterns of the two rules on the watcher's bus, as raw EventBridge JSON.
 * Tests take them back out of the synthesized template and check them against sample events
 * of every detail-type (in process, and against moto's EventBridge).
 */
import {
  AGENT_RESTART,
  EVENT_SOURCE,
  POD_CERTIFICATE_STATE_CHANGED,
  POD_CERTIFICATE_UNHEALTHY,
  SWEEP_COMPLETED,
  WORKLOAD_RESTART,
} from '../core/events/events.js';
import type { RestartableState } from './runtime.js';

export type EventPatternJson = Readonly<Record<string, unknown>>;

/**
 * `Pod Certificate Unhealthy` events whose state the remediation policy restarts for, plus (with
 * `actOnProvenStale`, the default) `stale` events that may carry a definite diagnosis: rotation
 * proven stopped across sweeps (`rotation.provenAcrossSweeps`), or a finding that can make it
 * definite (`sds-pushes-stopped` with `workload-certs-volume`; the remediator checks the pair:
 * one pattern cannot require two values of one array). The remediator's policy has the last word.
 */
export function remediatorEventPattern(restartStates: readonly RestartableState[], options: { readonly actOnProvenStale?: boolean } = {}): EventPatternJson {
  const states = [...new Set(restartStates)].sort();
  const base = { source: [EVENT_SOURCE], 'detail-type': [POD_CERTIFICATE_UNHEALTHY] };
  if (options.actOnProvenStale === false || states.includes('stale')) return { ...base, detail: { state: states } };
  return {
    ...base,
    detail: {
      $or: [
        { state: states },
        { state: ['stale'], rotation: { provenAcrossSweeps: [true] } },
        { state: ['stale'], findings: ['sds-pushes-stopped'] },
      ],
    },
  };
}

/**
 * Everything people are told about: state changes, restart outcomes, and sweeps that did not
 * cover the whole cluster (`detail.partial: true`, the deadline cut it short, or
 * `detail.failed: true`, it could not run to the end). Complete sweeps only feed dashboards.
 */
export function notifierEventPattern(): EventPatternJson {
  return {
    source: [EVENT_SOURCE],
    $or: [
      { 'detail-type': [POD_CERTIFICATE_STATE_CHANGED, WORKLOAD_RESTART, AGENT_RESTART] },
      {
        'detail-type': [SWEEP_COMPLETED],
        detail: { $or: [{ partial: [true] }, { failed: [true] }] },
      },
    ],
  };
}
