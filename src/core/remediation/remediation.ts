/**
 * The remediation policy (docs/contract.md §7 "Safety of remediation"). Given one `Pod Certificate
 * Unhealthy` event, what was read back from the cluster just now (pod, top controller,
 * namespace), the last recorded restart of that workload, the settings and the current instant,
 * `decide` says whether the workload may be restarted, or why not. The persisted lease and
 * hourly budget (RestartGuard) come after it, in the engine; so does dry-run.
 *
 * Precedence, first match wins (DECISION_ORDER; `test/remediator/policy.test.ts` pins it):
 *  1. not-restartable       the event's state is not one the policy restarts for; never
 *                           `healthy`, `missing` or `unreachable` (no certificate was read);
 *                           never a leaf with `not-yet-valid` (clock skew: a restart cannot cure it)
 *  2. opted-out             `mesh-cert-watch.io/policy: alert|ignore` (workload, else pod, else
 *                           namespace); an unknown value counts as `alert`
 *  3. gone                  namespace, pod (same uid, not terminating) or an owner no longer exists
 *  4. stale-event           older than maxEventAge, or the workload was restarted at/after the
 *                           observation: a newer sweep speaks for the pod
 *  5. breaker               no `sweepSummary` on the event (nothing acts on uncertain data), or
 *                           more than breakerUnhealthyShare of the sweep not healthy (>= 2 pods):
 *                           an issuer outage is paged, not restarted away
 *  6. bare-pod              no controller, unless deleteBarePods and an explicit `restart` policy
 *     unsupported-workload  a controller that has no rollout restart (Job, CronJob, bare ReplicaSet...)
 *  7. restart-did-not-fix   a pod created after our last restart serves one of the serials that
 *                           restart was meant to replace, or a leaf issued before the pod existed
 *  8. paused  9. rolling  10. on-delete (StatefulSet/DaemonSet `OnDelete`: alert instead)
 * 11. cooldown              last restart (annotation, Argo restartAt, or our record) < cooldown ago
 * then, in the engine: lease held (`cooldown`), budget spent (`budget`), dry-run, act.
 */
import type * as z from 'zod';
import { parseDetail } from '../events/parse.js';
import { PodUnhealthyDetailSchema } from '../events/schemas.js';
import { SummarySchema } from '../model/schemas.js';
import {
  WORKLOAD_POLICIES,
  type PolicySource,
  type RestartAction,
  type RestartOutcome,
  type WorkloadPolicy,
  type WorkloadRestartDetail,
} from '../events/events.js';
import type { RestartRecord } from './restart-record.js';
import type { DeepReadonly, Finding, State, Summary, WorkloadRef } from '../model/types.js';
import { isRolloutRestartKind, POLICY_ANNOTATION, type WorkloadFacts } from './workload-facts.js';
import { cleanText } from '../model/scrub.js';

export { POLICY_ANNOTATION, RESTARTED_AT_ANNOTATION } from './workload-facts.js';

export { WORKLOAD_POLICIES, type PolicySource, type RestartAction, type WorkloadPolicy };

/** States a restart is never for, whatever the settings say. */
export const NEVER_RESTART_STATES: readonly State[] = ['healthy', 'missing', 'unreachable'];

/** The skip rules in the order `decide` applies them (the engine adds `budget` last). */
export const DECISION_ORDER = [
  'not-restartable',
  'opted-out',
  'gone',
  'stale-event',
  'breaker',
  'bare-pod',
  'unsupported-workload',
  'restart-did-not-fix',
  'paused',
  'rolling',
  'on-delete',
  'cooldown',
] as const;
export const SKIP_REASONS = [...DECISION_ORDER, 'budget'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** `failed`: the Kubernetes API refused or could not be reached; or the guard's store failed. */
export const FAILURE_REASONS = ['api-error', 'guard-error'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** `reason` of a Workload Restart: the triggering state (restarted, dry-run), a skip rule, or a failure. */
export type RestartReason = State | SkipReason | FailureReason;

/** A lease shorter than this would let duplicates through when the cooldown is set to 0. */
export const MIN_LEASE_SECONDS = 300;
/** A single unhealthy pod is never an issuer outage, whatever share of a tiny mesh it is. */
export const BREAKER_MINIMUM_UNHEALTHY = 2;
/** Leaf notBefore is often backdated by the issuer; older than pod creation by more than this = not fresh. */
export const CERTIFICATE_BACKDATE_TOLERANCE_SECONDS = 300;

/**
 * What the `history` helper adds per pod (issue 11 point 1-2). Read as optional fields: a
 * trigger without it is judged on its findings alone.
 */
export interface RotationFacts {
  readonly expectedRenewalAt?: string | null;
  readonly overdueSeconds?: number | null;
  /** The same serial was seen across sweeps past its expected renewal with pushes in between. */
  readonly provenAcrossSweeps?: boolean;
  readonly rotatedSinceLastSweep?: boolean;
}

export function rotationOf(trigger: object): RotationFacts | undefined {
  const rotation = (trigger as { rotation?: unknown }).rotation;
  return typeof rotation === 'object' && rotation !== null ? (rotation as RotationFacts) : undefined;
}

/**
 * A `stale` pod whose failure is definite: rotation proven stopped across sweeps, or pushes
 * stopped while the Istio agent serves files from a `workload-certs` volume.
 */
export function provenStale(trigger: { readonly state: State; readonly findings: readonly Finding[] }): boolean {
  if (trigger.state !== 'stale') return false;
  if (rotationOf(trigger)?.provenAcrossSweeps === true) return true;
  return trigger.findings.includes('sds-pushes-stopped') && trigger.findings.includes('workload-certs-volume');
}

export interface RemediationPolicy {
  readonly restartStates: readonly State[];
  readonly cooldownSeconds: number;
  readonly budgetPerHour: number;
  /** Breaker opens when more than this share (0-1] of the sweep's sampled pods is not healthy. */
  readonly breakerUnhealthyShare: number;
  readonly dryRun: boolean;
  /** Delete bare pods whose pod or namespace says `mesh-cert-watch.io/policy: restart`. */
  readonly deleteBarePods: boolean;
  /** Events observed longer ago than this are not acted on; a newer sweep has reported since. */
  readonly maxEventAgeSeconds: number;
  /** How long a restart is remembered to verify that new pods got new certificates. */
  readonly verifyWindowSeconds: number;
  /** Act at `stale` when the failure is definite (provenStale), not only at `restartStates`. */
  readonly actOnProvenStale: boolean;
  /** Restart the node's tbot agent for tbot-side diagnoses instead of the workloads (docs/contract.md §7.1). */
  readonly agentRestarts: boolean;
  /** At most one agent restart per cluster within this window (the cluster-wide lease). */
  readonly agentSpacingSeconds: number;
  /** An agent pod not Ready (or terminating) that is younger than this is a replacement on its way. */
  readonly agentReadyGraceSeconds: number;
  /** Observations earlier than this after an agent restart cannot verify it yet. */
  readonly agentSettleSeconds: number;
}

export const DEFAULT_REMEDIATION_POLICY: RemediationPolicy = {
  restartStates: ['expiring', 'expired'],
  cooldownSeconds: 15 * 60,
  budgetPerHour: 5,
  breakerUnhealthyShare: 0.5,
  dryRun: false,
  deleteBarePods: false,
  maxEventAgeSeconds: 15 * 60,
  verifyWindowSeconds: 2 * 3600,
  actOnProvenStale: true,
  agentRestarts: true,
  agentSpacingSeconds: 120,
  agentReadyGraceSeconds: 600,
  agentSettleSeconds: 60,
};

/** The remediator's runtime settings (`remediatorRuntimeConfig.policy`) as a policy. */
export function remediationPolicy(settings: {
  readonly restartStates: readonly State[];
  readonly cooldownMinutes: number;
  readonly budgetPerHour: number;
  readonly breakerUnhealthyShare: number;
  readonly dryRun: boolean;
  readonly deleteBarePods: boolean;
  readonly actOnProvenStale?: boolean;
  readonly agentRestarts?: boolean;
}): RemediationPolicy {
  return {
    ...DEFAULT_REMEDIATION_POLICY,
    ...(settings.actOnProvenStale !== undefined ? { actOnProvenStale: settings.actOnProvenStale } : {}),
    ...(settings.agentRestarts !== undefined ? { agentRestarts: settings.agentRestarts } : {}),
    restartStates: [...settings.restartStates],
    cooldownSeconds: Math.round(settings.cooldownMinutes * 60),
    budgetPerHour: settings.budgetPerHour,
    breakerUnhealthyShare: settings.breakerUnhealthyShare,
    dryRun: settings.dryRun,
    deleteBarePods: settings.deleteBarePods,
  };
}

/**
 * A `Pod Certificate Unhealthy` detail. The sampler always sends `sweepSummary`; it stays optional
 * here because an event without it must still be read (and then skipped by the breaker).
 */
export type RemediationTrigger = DeepReadonly<z.output<typeof RemediationTriggerSchema>>;

/** What was read back from the cluster for the event's pod, just before deciding. */
export interface Observation {
  /** Raw policy annotation of the namespace; the namespace itself is gone when `namespaceFound` is false. */
  readonly namespaceFound: boolean;
  readonly namespacePolicy?: string | undefined;
  /** The pod by name, or null when no pod of that name exists. */
  readonly pod: {
    readonly uid: string;
    readonly createdAt: string | null;
    readonly terminating: boolean;
    readonly policyAnnotation?: string | undefined;
  } | null;
  readonly owner: OwnerObservation;
}

export type OwnerObservation =
  /** A controller with a rollout restart, read fresh. */
  | { readonly type: 'workload'; readonly facts: WorkloadFacts }
  /** A controller without one (Job, CronJob, a ReplicaSet without a Deployment, other kinds). */
  | { readonly type: 'unsupported'; readonly ref: WorkloadRef }
  | { readonly type: 'bare' }
  /** The chain points at an object that no longer exists. */
  | { readonly type: 'missing'; readonly ref: WorkloadRef }
  /** Not resolved: the pod was not found. */
  | { readonly type: 'unknown' };

export interface BreakerReading {
  readonly unhealthy: number;
  readonly sampled: number;
  /** unhealthy / sampled, rounded to 3 decimals. */
  readonly share: number;
  readonly threshold: number;
}

interface DecisionCommon {
  readonly workload: WorkloadRef;
  readonly policy: WorkloadPolicy;
  readonly policySource: PolicySource;
  readonly message: string;
  readonly lastRestartAt?: string;
  readonly cooldownUntil?: string;
  readonly breaker?: BreakerReading;
  readonly verification?: 'not-fixed';
}

export type Decision =
  | (DecisionCommon & { readonly verdict: 'skip'; readonly reason: (typeof DECISION_ORDER)[number] })
  | (DecisionCommon & { readonly verdict: 'restart'; readonly action: RestartAction });

export interface DecisionInput {
  readonly trigger: RemediationTrigger;
  readonly observation: Observation;
  /** Our last restart of this workload (RestartGuard), if remembered. */
  readonly lastRestart: RestartRecord | undefined;
  readonly policy: RemediationPolicy;
  readonly now: Date;
}

/** `2025-06-01T12:00:00Z`: what `kubectl rollout restart` writes (RFC 3339, whole seconds, UTC). */
export function rfc3339Seconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isRestartableState(state: State, policy: RemediationPolicy): boolean {
  return !NEVER_RESTART_STATES.includes(state) && policy.restartStates.includes(state);
}

/** The policy's states, or `stale` with a definite diagnosis when `actOnProvenStale` is on. */
export function isActionable(trigger: { readonly state: State; readonly findings: readonly Finding[] }, policy: RemediationPolicy): boolean {
  if (isRestartableState(trigger.state, policy)) return true;
  return policy.actOnProvenStale && provenStale(trigger);
}

function parsePolicyValue(raw: string | undefined): WorkloadPolicy | 'invalid' | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  return (WORKLOAD_POLICIES as readonly string[]).includes(value) ? (value as WorkloadPolicy) : 'invalid';
}

/** The most specific `mesh-cert-watch.io/policy`: workload, then pod, then namespace; default `restart`. */
export function effectivePolicy(observation: Observation): { policy: WorkloadPolicy; source: PolicySource; invalid?: string } {
  const candidates: [PolicySource, string | undefined][] = [
    ['workload', observation.owner.type === 'workload' ? observation.owner.facts.policyAnnotation : undefined],
    ['pod', observation.pod?.policyAnnotation],
    ['namespace', observation.namespacePolicy],
  ];
  for (const [source, raw] of candidates) {
    const value = parsePolicyValue(raw);
    // An annotation we cannot read is not consent to restart: treat it as alert-only.
    if (value === 'invalid') return { policy: 'alert', source, invalid: raw! };
    if (value !== undefined) return { policy: value, source };
  }
  return { policy: 'restart', source: 'default' };
}

export function breakerReading(summary: Summary, threshold: number): BreakerReading {
  const unhealthy = Math.max(0, summary.sampled - summary.healthy);
  const share = summary.sampled > 0 ? Math.round((unhealthy / summary.sampled) * 1000) / 1000 : 1;
  return { unhealthy, sampled: summary.sampled, share, threshold };
}

function breakerOpen(reading: BreakerReading): boolean {
  if (reading.sampled === 0) return true;
  return reading.unhealthy / reading.sampled > reading.threshold && reading.unhealthy >= BREAKER_MINIMUM_UNHEALTHY;
}

function workloadOf(trigger: RemediationTrigger, owner: OwnerObservation): WorkloadRef {
  switch (owner.type) {
    case 'workload':
      return { kind: owner.facts.kind, name: owner.facts.name };
    case 'unsupported':
    case 'missing':
      return owner.ref;
    case 'bare':
      return { kind: 'Pod', name: trigger.name };
    case 'unknown':
      return trigger.workload ?? { kind: 'Pod', name: trigger.name };
  }
}

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);

function latestRestart(owner: OwnerObservation, record: RestartRecord | undefined): string | undefined {
  const annotation = owner.type === 'workload' ? owner.facts.lastRestartedAt : null;
  const candidates = [annotation, record?.restartedAt].filter((t): t is string => !!t && !Number.isNaN(ms(t)));
  return candidates.sort((a, b) => ms(b) - ms(a))[0];
}

/** Why a pod made after `record`'s restart still proves that restart did not give it a new certificate. */
function notFixedBy(trigger: RemediationTrigger, observation: Observation, record: RestartRecord | undefined): string | null {
  const certificate = trigger.certificate;
  const createdAt = ms(observation.pod?.createdAt);
  if (!record || !certificate || Number.isNaN(createdAt) || createdAt < ms(record.restartedAt)) return null;
  if (record.serials.includes(certificate.serialNumber)) {
    return `pod ${trigger.name}, created after the restart at ${record.restartedAt}, still serves leaf serial ${certificate.serialNumber} that the restart was meant to replace`;
  }
  if (ms(certificate.notBefore) < createdAt - CERTIFICATE_BACKDATE_TOLERANCE_SECONDS * 1000) {
    return `pod ${trigger.name}, created after the restart at ${record.restartedAt}, serves a leaf issued at ${certificate.notBefore}, before the pod existed (a cached certificate)`;
  }
  return null;
}

/** The policy decision before lease, budget and dry-run. See the precedence at the top of this file. */
export function decide(input: DecisionInput): Decision {
  const { trigger, observation, lastRestart, policy, now } = input;
  const { policy: workloadPolicy, source: policySource, invalid } = effectivePolicy(observation);
  const workload = workloadOf(trigger, observation.owner);
  const common = { workload, policy: workloadPolicy, policySource };
  const skip = (reason: (typeof DECISION_ORDER)[number], message: string, extra: Partial<DecisionCommon> = {}): Decision => ({
    ...common,
    ...extra,
    verdict: 'skip',
    reason,
    message,
  });
  const subject = `${workload.kind} ${trigger.namespace}/${workload.name}`;

  // 1. Only the states the policy names, and never without a certificate.
  if (!isActionable(trigger, policy)) {
    const why =
      trigger.state === 'healthy'
        ? 'the certificate is healthy (findings alone never restart a workload)'
        : NEVER_RESTART_STATES.includes(trigger.state)
          ? `state ${trigger.state} is never restarted for: no certificate was read, so nothing proves it is failing`
          : `state ${trigger.state} is not in the policy's restart states (${policy.restartStates.join(', ')})${trigger.state === 'stale' ? ' and the diagnosis is not definite' : ''}`;
    return skip('not-restartable', `pod ${trigger.name}: ${why}`);
  }
  if (trigger.findings.includes('not-yet-valid')) {
    // The leaf's notBefore lies ahead of our clock: a restart fetches a certificate from the same
    // issuer clock (or our clock is the wrong one). Time sync is the fix; alert, never restart.
    return skip(
      'not-restartable',
      `pod ${trigger.name}: the leaf is not valid yet (notBefore ${trigger.certificate?.notBefore ?? 'unknown'}); a restart would fetch a certificate from the same clock: check time sync`,
    );
  }

  // 2. Opt-out / alert-only.
  if (workloadPolicy !== 'restart') {
    const annotation = invalid !== undefined ? `unrecognised ${POLICY_ANNOTATION}: "${invalid}" (treated as alert)` : `${POLICY_ANNOTATION}: ${workloadPolicy}`;
    return skip('opted-out', `${subject}: ${annotation} on the ${policySource}`);
  }

  // 3. The event's pod must still exist: same uid, not on its way out.
  if (!observation.namespaceFound) return skip('gone', `namespace ${trigger.namespace} no longer exists`);
  const pod = observation.pod;
  if (pod === null) return skip('gone', `pod ${trigger.namespace}/${trigger.name} no longer exists`);
  if (pod.uid !== trigger.uid) return skip('gone', `pod ${trigger.namespace}/${trigger.name} was replaced (uid ${pod.uid}, event uid ${trigger.uid})`);
  if (pod.terminating) return skip('gone', `pod ${trigger.namespace}/${trigger.name} is terminating`);
  if (observation.owner.type === 'missing') {
    return skip('gone', `${observation.owner.ref.kind} ${trigger.namespace}/${observation.owner.ref.name} owning pod ${trigger.name} no longer exists`);
  }

  // 4. An old event: a newer sweep has spoken, or a restart already happened since.
  const observedAt = ms(trigger.observedAt);
  const ageSeconds = (now.getTime() - observedAt) / 1000;
  if (ageSeconds > policy.maxEventAgeSeconds) {
    return skip('stale-event', `observed at ${trigger.observedAt}, ${Math.round(ageSeconds)}s ago (limit ${policy.maxEventAgeSeconds}s)`);
  }
  const lastRestartAt = latestRestart(observation.owner, lastRestart);
  if (lastRestartAt !== undefined && ms(lastRestartAt) >= observedAt) {
    return skip('stale-event', `${subject} was restarted at ${lastRestartAt}, after the observation at ${trigger.observedAt}`, { lastRestartAt });
  }

  // 5. Many unhealthy pods at once is an issuer outage: restarting them all would not help.
  if (trigger.sweepSummary === undefined) {
    return skip('breaker', `the event carries no sweepSummary: cannot rule out an issuer outage, so nothing is restarted`);
  }
  const breaker = breakerReading(trigger.sweepSummary, policy.breakerUnhealthyShare);
  if (breakerOpen(breaker)) {
    return skip(
      'breaker',
      `${breaker.unhealthy} of ${breaker.sampled} sampled pods are not healthy (${breaker.share} > ${breaker.threshold}): likely an issuer outage, page instead of restarting`,
      { breaker },
    );
  }

  // 6. Only controllers with a rollout restart; bare pods only when opted in.
  const owner = observation.owner;
  if (owner.type === 'bare') {
    const optedIn = policySource !== 'default';
    if (!(policy.deleteBarePods && optedIn)) {
      const why = policy.deleteBarePods ? `not opted in (${POLICY_ANNOTATION}: restart on the pod or namespace)` : 'bare pod deletion is disabled';
      return skip('bare-pod', `pod ${trigger.namespace}/${trigger.name} has no controller: alert only, ${why}`, { breaker });
    }
  } else if (owner.type !== 'workload' || !isRolloutRestartKind(owner.facts.kind)) {
    return skip('unsupported-workload', `${subject} has no rollout restart: alert only`, { breaker });
  }

  // 7. Our last restart did not give the new pods a new certificate: restarting again will not either.
  const notFixed = notFixedBy(trigger, observation, lastRestart);
  if (notFixed !== null) return skip('restart-did-not-fix', notFixed, { lastRestartAt: lastRestart!.restartedAt, verification: 'not-fixed', breaker });

  if (owner.type === 'workload') {
    const facts = owner.facts;
    // 8-10. Never interfere with a rollout someone else is running or has stopped.
    if (facts.paused) return skip('paused', `${subject} is paused`, { breaker });
    if (facts.rolling !== null) return skip('rolling', `${subject} is mid-rollout: ${facts.rolling}`, { breaker });
    if (facts.updateStrategy === 'OnDelete') {
      return skip('on-delete', `${subject} uses the OnDelete update strategy: a restart would not replace pods, alert only`, { breaker });
    }
  }

  // 11. Cooldown from the annotation (survives watcher restarts) and from our own record.
  if (lastRestartAt !== undefined) {
    const until = ms(lastRestartAt) + policy.cooldownSeconds * 1000;
    if (now.getTime() < until) {
      return skip('cooldown', `${subject} was restarted at ${lastRestartAt}; cooldown ${policy.cooldownSeconds}s`, {
        lastRestartAt,
        cooldownUntil: new Date(until).toISOString(),
        breaker,
      });
    }
  }

  const action: RestartAction = owner.type === 'bare' ? 'delete-pod' : 'rollout-restart';
  const what = action === 'delete-pod' ? `delete bare pod ${trigger.namespace}/${trigger.name}` : `rollout restart of ${subject}`;
  const certificate = trigger.certificate;
  const leaf = certificate ? ` (leaf ${certificate.serialNumber}, notAfter ${certificate.notAfter})` : '';
  return {
    ...common,
    verdict: 'restart',
    action,
    message: `${what}: pod ${trigger.name} certificate ${trigger.state}${leaf}`,
    breaker,
    ...(lastRestartAt !== undefined ? { lastRestartAt } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Guard keys (one table, `pk` + `sk`): see RestartGuard.

const scope = (dryRun: boolean): string => (dryRun ? 'dry-run#' : '');

/** Lease and restart record of one workload: `workload#<cluster>#<namespace>#<kind>#<name>`. */
export function workloadKey(cluster: string, namespace: string, workload: WorkloadRef, dryRun: boolean): string {
  return `${scope(dryRun)}workload#${cluster}#${namespace}#${workload.kind}#${workload.name}`;
}

/** The restart budget counts restarts in the 60 minutes before each decision (a sliding window). */
export const BUDGET_WINDOW_SECONDS = 3600;

/** The sliding window a decision at `now` counts against, as an ISO 8601 interval `start/end` (seconds). */
export function budgetWindow(now: Date): string {
  return `${rfc3339Seconds(new Date(now.getTime() - BUDGET_WINDOW_SECONDS * 1000))}/${rfc3339Seconds(now)}`;
}

/** Restart budget of a cluster: `budget#<cluster>` (its slots are the items under it). */
export function budgetKey(cluster: string, dryRun: boolean): string {
  return `${scope(dryRun)}budget#${cluster}`;
}

export function leaseSeconds(policy: RemediationPolicy): number {
  return Math.max(policy.cooldownSeconds, MIN_LEASE_SECONDS);
}

// ---------------------------------------------------------------------------------------------
// The Workload Restart detail.

/** `Workload Restart` detail as the remediator emits it: the contract's fields plus what consumers need. */
export interface RemediationDetail extends WorkloadRestartDetail {
  readonly reason: RestartReason;
  /** One human sentence: what was done or why not, with the API error for `failed`. */
  readonly message: string;
  /** Settings were in dry-run: nothing in the cluster was changed. */
  readonly dryRun: boolean;
  /** What was (dry-run: would have been) done; null when skipped before an action was chosen. */
  readonly action: RestartAction | null;
  /** uid of the pod whose event triggered this. */
  readonly podUid: string;
  readonly policy: WorkloadPolicy;
  readonly policySource: PolicySource;
  /** restarted / dry-run rollout restarts: the restartedAt value written (or that would be). */
  readonly restartedAt?: string;
  /** The previous restart that caused cooldown, stale-event or restart-did-not-fix. */
  readonly lastRestartAt?: string;
  readonly cooldownUntil?: string;
  readonly verification?: 'not-fixed';
  readonly breaker?: BreakerReading;
  /** A fallback after the node's tbot agent was restarted at this instant without fixing the pod. */
  readonly agentRestartAt?: string;
  /** budget and restarted: the cluster's restarts in the 60 minutes up to this decision. */
  readonly budget?: { readonly window: string; readonly limit: number; readonly used?: number };
  /** failed with an answer from the API server: its HTTP status. */
  readonly statusCode?: number;
}

export interface DetailParts {
  readonly outcome: RestartOutcome;
  readonly reason: RestartReason;
  readonly message: string;
  readonly workload: WorkloadRef;
  readonly action: RestartAction | null;
  readonly dryRun: boolean;
  readonly at: Date;
  readonly policy?: WorkloadPolicy;
  readonly policySource?: PolicySource;
  readonly extra?: Partial<
    Pick<RemediationDetail, 'restartedAt' | 'lastRestartAt' | 'cooldownUntil' | 'verification' | 'breaker' | 'budget' | 'statusCode'>
  >;
}

export function restartDetail(trigger: RemediationTrigger, parts: DetailParts): RemediationDetail {
  const extra = Object.fromEntries(Object.entries(parts.extra ?? {}).filter(([, value]) => value !== undefined));
  return {
    cluster: trigger.cluster,
    namespace: trigger.namespace,
    workload: { kind: parts.workload.kind, name: parts.workload.name },
    outcome: parts.outcome,
    reason: parts.reason,
    pods: [{ name: trigger.name, state: trigger.state, findings: [...trigger.findings] }],
    triggeredBy: trigger.sweepId,
    at: parts.at.toISOString(),
    // Messages quote the cluster (annotation values, API errors): scrubbed once, here, for every output.
    message: cleanText(parts.message),
    dryRun: parts.dryRun,
    action: parts.action,
    podUid: trigger.uid,
    policy: parts.policy ?? 'restart',
    policySource: parts.policySource ?? 'default',
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the event.

/**
 * The remediator reads a `Pod Certificate Unhealthy` detail with the contract schema, but for
 * `sweepSummary`: an event without it is still read, and then skipped by the breaker (nothing
 * acts on uncertain data), so its absence is reported as an outcome rather than refused.
 */
export const RemediationTriggerSchema = PodUnhealthyDetailSchema.extend({ sweepSummary: SummarySchema.optional() });

/**
 * Parses an event detail with RemediationTriggerSchema. Throws InvalidEventError naming the first
 * bad field (`detail.certificate.notBefore`), the ZodError as its cause.
 */
export function parseTrigger(detail: unknown): RemediationTrigger {
  return parseDetail(RemediationTriggerSchema, detail);
}
