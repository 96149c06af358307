/**
 * Due-based sampling (docs/contract.md §8.1): with rotation history, a sweep samples (execs into)
 * a pod only when it is due, and judges the others from their last observation against `now`.
 *
 * A pod is due when
 * - it has no usable observation (new, or its last sweep read no leaf), or the observation is
 *   from a later instant than `now` (a clock moved back);
 * - it was not healthy at its last observation, or had a finding other than those re-judged every
 *   sweep without an exec (`tbot-outdated` from the agents list, `workload-certs-volume` from the
 *   pod spec);
 * - `now` has reached the first instant at which the verdict of the observed leaf, unchanged, could
 *   change (`verdictChangesAtMs`): its expected renewal point (rotation history), `staleAfter`,
 *   `expiringWithin` before notAfter, notAfter;
 * - its observation is `maxObservationAgeSeconds` old or older; or, when the verdict rule would
 *   not bring it due by then (a long-lived leaf: the Istio agent's), it has reached its own slot
 *   on a grid of `maxObservationAgeSeconds` phased by its uid (the first slot after its
 *   observation, so never later than the max age): pods observed together (a cold start, a lost
 *   history) are spread over the max age instead of all coming due at the same sweep, forever.
 *
 * Why a skipped pod is never detected later than with every pod sampled, for every failure the
 * leaf's own clock decides (stopped or cached rotation, staleness, expiry): a skipped pod held a
 * healthy leaf without findings at its observation, and before `verdictChangesAtMs` the judgement of
 * that leaf, if it is still held, is `healthy` without findings at every instant (each state rule
 * and each history rule needs `now` past one of those instants; `provenAcrossSweeps` needs a push
 * at or after the expected renewal point). So a sweep before that instant could only have found
 * the pod healthy, or a *new* leaf; the first sweep at or after it samples the pod, and keeps
 * sampling it every sweep while its leaf stays past that point, so it sees exactly what a sweep of
 * every pod sees from then on. Changes the leaf's clock cannot predict (the sidecar lost its
 * secret, the trust bundle was replaced, a new leaf is malformed) are seen within the maximum
 * age instead of within one sweep interval: that is the trade, and the setting bounds it.
 *
 * Pure: no SDK, no environment, no clock.
 */
import { expectedRenewalMs, judgeRotation, type PodObservation, type RenewalPolicy } from './history.js';
import { leafTimeState, staleFinding } from './classify.js';
import { thresholdSeconds } from '../model/threshold.js';
import { FINDINGS, type CertificateVerdict, type Finding, type Thresholds } from '../model/types.js';

export { DEFAULT_MAX_OBSERVATION_AGE_SECONDS } from './sampling-defaults.js';

export type DueReason = 'new' | 'clock' | 'not-healthy' | 'verdict-may-change' | 'max-age';

export interface DuePolicy {
  /** An observation this old (or older) makes the pod due. */
  readonly maxObservationAgeSeconds: number;
}

/** Findings a sweep re-judges without sampling: they do not make a pod due. */
const REJUDGED_FINDINGS: ReadonlySet<Finding> = new Set<Finding>(['tbot-outdated', 'workload-certs-volume']);
/** Findings that only the clock produces on an unchanged leaf: recomputed, never carried over. */
const TIME_FINDINGS: ReadonlySet<Finding> = new Set<Finding>(['sds-pushes-stopped', 'sds-push-without-rotation', 'not-yet-valid']);

/**
 * The first instant (ms) at which the verdict of the observed leaf, if it is still held, may differ
 * from a healthy one: the expected renewal point (a push from then on may prove a cached leaf), the
 * `staleAfter` age, `expiringWithin` before notAfter, notAfter.
 */
export function verdictChangesAtMs(observation: PodObservation, thresholds: Thresholds, renewal: RenewalPolicy): number {
  const notBeforeMs = Date.parse(observation.notBefore);
  const notAfterMs = Date.parse(observation.notAfter);
  const lifetimeSeconds = Math.floor((notAfterMs - notBeforeMs) / 1000);
  const renewalMs = expectedRenewalMs(observation.source, notBeforeMs, notAfterMs, renewal) ?? Infinity;
  const staleMs = notBeforeMs + thresholdSeconds(thresholds.staleAfter, lifetimeSeconds) * 1000;
  const expiringMs = notAfterMs - thresholdSeconds(thresholds.expiringWithin, lifetimeSeconds) * 1000;
  return Math.min(renewalMs, staleMs, expiringMs, notAfterMs);
}

/** Why the pod must be sampled in this sweep, or null when its last observation still answers for it. */
export function dueReason(
  observation: PodObservation | undefined,
  input: { readonly nowMs: number; readonly thresholds: Thresholds; readonly renewal: RenewalPolicy; readonly policy: DuePolicy },
): DueReason | null {
  if (!observation || observation.state === undefined) return 'new';
  const observedMs = Date.parse(observation.observedAt);
  if (!(observedMs <= input.nowMs)) return 'clock';
  if (observation.state !== 'healthy' || (observation.findings ?? []).some((finding) => !REJUDGED_FINDINGS.has(finding))) return 'not-healthy';
  const changesAtMs = verdictChangesAtMs(observation, input.thresholds, input.renewal);
  if (input.nowMs >= changesAtMs) return 'verdict-may-change';
  const maxAgeMs = input.policy.maxObservationAgeSeconds * 1000;
  if (input.nowMs - observedMs >= maxAgeMs) return 'max-age';
  // Only for pods the verdict rule would not bring due first (a tbot pod's renewal point comes
  // within the max age): for those an early slot would be an extra sample, not a spread one.
  if (changesAtMs > observedMs + maxAgeMs && input.nowMs >= spreadSlotMs(observedMs, maxAgeMs, uidPhase(observation.uid))) return 'max-age';
  return null;
}

/** A stable phase in [0, 1) from a pod's uid (FNV-1a 32-bit): where its slot lies in the max-age grid. */
export function uidPhase(uid: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < uid.length; i++) {
    hash ^= uid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 4294967296;
}

/**
 * The pod's first slot strictly after its observation, on a grid of `maxAgeMs` (epoch based, so
 * every sweep agrees) shifted by `phase` of it: within the max age, and, once the pod is sampled at
 * its slots, exactly one max age apart.
 */
export function spreadSlotMs(observedMs: number, maxAgeMs: number, phase: number): number {
  if (maxAgeMs <= 0) return observedMs;
  const offsetMs = phase * maxAgeMs;
  return (Math.floor((observedMs - offsetMs) / maxAgeMs) + 1) * maxAgeMs + offsetMs;
}

/**
 * The verdict of a pod judged from its last observation at `nowMs`, on the same rules as a
 * sampled leaf (leafTimeState, judgeRotation): the time-based state and findings are recomputed,
 * `workload-certs-volume` is re-judged from the pod spec, other findings are carried over. Secrets:
 * only `default` as observed (its push age recomputed). No `previous`: nothing was compared.
 */
export function judgeFromObservation(
  observation: PodObservation,
  input: { readonly nowMs: number; readonly thresholds: Thresholds; readonly renewal: RenewalPolicy; readonly workloadCertsBesideSocket: boolean },
): CertificateVerdict {
  const { nowMs } = input;
  const notBeforeMs = Date.parse(observation.notBefore);
  const notAfterMs = Date.parse(observation.notAfter);
  const lifetimeSeconds = Math.floor((notAfterMs - notBeforeMs) / 1000);
  const lastUpdatedMs = observation.lastUpdated === null ? null : Date.parse(observation.lastUpdated);
  const pushAgeSeconds = lastUpdatedMs === null ? null : Math.max(0, (nowMs - lastUpdatedMs) / 1000);
  const judgement = judgeRotation({
    nowMs,
    source: observation.source,
    leaf: observation,
    defaultSecret: { versionInfo: observation.versionInfo, lastUpdated: observation.lastUpdated },
    history: { previous: null, renewal: input.renewal },
  });
  const time = leafTimeState({ nowMs, notBeforeMs, notAfterMs, lifetimeSeconds, thresholds: input.thresholds, overdue: judgement.overdue });
  const findings = new Set<Finding>((observation.findings ?? []).filter((finding) => !TIME_FINDINGS.has(finding) && !REJUDGED_FINDINGS.has(finding)));
  if (time.notYetValid) findings.add('not-yet-valid');
  if (judgement.finding) findings.add(judgement.finding);
  else if (time.isStale) findings.add(staleFinding(pushAgeSeconds, time.staleAfterSeconds));
  if (input.workloadCertsBesideSocket && observation.source === 'istio-agent') findings.add('workload-certs-volume');
  return {
    state: time.state,
    findings: FINDINGS.filter((finding) => findings.has(finding)),
    source: observation.source,
    certificate: {
      serialNumber: observation.serialNumber,
      fingerprintSha256: observation.fingerprintSha256,
      spiffeId: observation.spiffeId ?? null,
      notBefore: observation.notBefore,
      notAfter: observation.notAfter,
      ageSeconds: Math.floor(Math.max(0, (nowMs - notBeforeMs) / 1000)),
      remainingSeconds: Math.floor((notAfterMs - nowMs) / 1000),
      lifetimeSeconds,
    },
    secrets: [
      {
        name: 'default',
        versionInfo: observation.versionInfo,
        lastUpdated: observation.lastUpdated,
        pushAgeSeconds: pushAgeSeconds === null ? null : Math.floor(pushAgeSeconds),
      },
    ],
    rotation: judgement.rotation,
  };
}
