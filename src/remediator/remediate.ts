/**
 * The remediation engine: one `Pod Certificate Unhealthy` event in, one `Workload Restart`
 * detail out. Shared by the remediator Lambda (DynamoDB guard) and `sweep --remediate` (in-memory
 * guard); needs no AWS.
 *
 *   state check → read pod, owner chain, namespace → last restart record → decide (pure policy)
 *   → lease (one restart per workload per cooldown, duplicates included) → budget (sliding
 *   60 minutes) → dry-run, or restart → record the restart for verification.
 *
 * A restart whose PATCH ended without a clear answer (lost response, timeout, a retry meeting its
 * own first attempt with 409) is read back: our own `restartedAt` in place means restarted (budget
 * spent, record saved). The budget unit is given back only when the API server clearly refused
 * and the read-back confirms nothing changed; an ambiguous outcome never refunds.
 *
 * Every expected failure ends in an outcome (`failed` with the error), never in a throw: the
 * event is level-triggered, the next sweep delivers it again. Programming errors still throw.
 */
import { randomUUID } from 'node:crypto';
import { describeError, KubeApiError, MeshCertWatchError } from '../core/model/errors.js';
import {
  BUDGET_WINDOW_SECONDS,
  budgetKey,
  budgetWindow,
  decide,
  isActionable,
  leaseSeconds,
  restartDetail,
  rfc3339Seconds,
  workloadKey,
  type Decision,
  type FailureReason,
  type RemediationDetail,
  type RemediationPolicy,
  type RemediationTrigger,
} from '../core/remediation/remediation.js';
import type { RestartGuard, RestartRecord } from '../ports/restart-guard.js';
import type { WorkloadRef } from '../core/model/types.js';
import type { KubeClient } from '../kube/kube-client.js';
import { executeRestart, observeForRemediation, restartInPlace, type ClusterObservation, type RestartTarget } from '../kube/remediation.js';

export interface RemediatorOptions {
  readonly kube: KubeClient;
  readonly guard: RestartGuard;
  readonly policy: RemediationPolicy;
  readonly clock?: () => Date;
  /** Lease holder id; unique per invocation (default: a random UUID per call). */
  readonly holder?: () => string;
  /** Problems that did not change the outcome (e.g. the restart record could not be saved). */
  readonly onWarning?: (message: string, error: unknown) => void;
}

export async function remediate(trigger: RemediationTrigger, options: RemediatorOptions): Promise<RemediationDetail> {
  const { kube, guard, policy } = options;
  const now = (options.clock ?? (() => new Date()))();
  const dryRun = policy.dryRun;
  const detail = (parts: Omit<Parameters<typeof restartDetail>[1], 'dryRun' | 'at'>): RemediationDetail =>
    restartDetail(trigger, { ...parts, dryRun, at: now });
  const fallbackWorkload: WorkloadRef = trigger.workload ?? { kind: 'Pod', name: trigger.name };
  const failed = (reason: FailureReason, workload: WorkloadRef, what: string, error: unknown, decision?: Decision): RemediationDetail =>
    detail({
      outcome: 'failed',
      reason,
      message: `${what}: ${describeError(error)}`,
      workload,
      action: decision?.verdict === 'restart' ? decision.action : null,
      ...(decision ? { policy: decision.policy, policySource: decision.policySource } : {}),
      extra: { statusCode: error instanceof KubeApiError ? error.statusCode : undefined },
    });

  // Cheap first: the state alone rules most events out, without touching the API.
  if (!isActionable(trigger, policy)) {
    const decision = decide({ trigger, observation: { namespaceFound: true, pod: null, owner: { type: 'unknown' } }, lastRestart: undefined, policy, now });
    if (decision.verdict === 'skip') return fromDecision(decision);
  }

  let observed: ClusterObservation;
  try {
    observed = await observeForRemediation(kube, trigger);
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    return failed('api-error', fallbackWorkload, 'reading the pod, its owner and namespace', error);
  }
  const provisional = decide({ trigger, observation: observed.observation, lastRestart: undefined, policy, now });
  const key = workloadKey(trigger.cluster, trigger.namespace, provisional.workload, dryRun);

  // Our restart record can only change rules from stale-event on; skip the read before that.
  let decision = provisional;
  if (!(provisional.verdict === 'skip' && EARLY_RULES.has(provisional.reason))) {
    try {
      const lastRestart = await guard.lastRestart(key, now);
      if (lastRestart) decision = decide({ trigger, observation: observed.observation, lastRestart, policy, now });
    } catch (error) {
      if (!(error instanceof MeshCertWatchError)) throw error;
      return failed('guard-error', provisional.workload, 'reading the last restart record', error, provisional);
    }
  }
  if (decision.verdict === 'skip') return fromDecision(decision);
  const target = observed.target;
  if (target === null) throw new Error(`remediate: a restart was decided for ${describe(decision.workload, trigger)} without a target`);

  const common = { workload: decision.workload, action: decision.action, policy: decision.policy, policySource: decision.policySource };
  const extra = { breaker: decision.breaker, lastRestartAt: decision.lastRestartAt };
  const window = budgetWindow(now);
  const budget = budgetKey(trigger.cluster, dryRun);
  const holder = options.holder?.() ?? randomUUID();

  let taken: Taken;
  try {
    taken = await takeLeaseAndBudget(guard, { key, budget, holder, now, policy });
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    return failed('guard-error', decision.workload, 'taking the restart lease and budget', error, decision);
  }
  if (taken.result === 'lease-held') {
    const until = taken.expiresAt ? ` until ${taken.expiresAt.toISOString()}` : '';
    return detail({
      ...common,
      outcome: 'skipped',
      reason: 'cooldown',
      action: null,
      message: `${describe(decision.workload, trigger)}: another restart of this workload holds the lease${until}`,
      extra: { ...extra, cooldownUntil: taken.expiresAt?.toISOString() },
    });
  }
  const budgetInfo = { window, limit: policy.budgetPerHour, used: taken.used };
  if (taken.result === 'budget-spent') {
    return detail({
      ...common,
      outcome: 'skipped',
      reason: 'budget',
      action: null,
      message: `${describe(decision.workload, trigger)}: the cluster's restart budget of ${policy.budgetPerHour} in any 60 minutes is spent (window ${window})`,
      extra: { ...extra, budget: budgetInfo },
    });
  }

  const restartedAt = rfc3339Seconds(now);
  const written = decision.action === 'rollout-restart' ? { restartedAt } : {};
  if (dryRun) {
    return detail({
      ...common,
      outcome: 'dry-run',
      reason: trigger.state,
      message: `dry-run, nothing changed: ${decision.message}`,
      extra: { ...extra, budget: budgetInfo, ...written },
    });
  }

  let lostAnswer = '';
  try {
    await executeRestart(kube, target, restartedAt);
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    const readBack = await readBackRestart(kube, target, restartedAt);
    if (readBack === 'in-place') {
      lostAnswer = ` (the API server's answer was lost: ${describeError(error)}; read back, our restartedAt ${restartedAt} is in place)`;
    } else if (readBack === 'absent' && isClearRefusal(error)) {
      // The API server said no and the workload shows nothing of ours: the unit goes back to the
      // cluster budget. The lease stays, so a workload the API keeps refusing is retried once per
      // cooldown, not on every sweep.
      await guard.refundBudget(budget, holder).catch((refundError: unknown) => options.onWarning?.(`refunding restart budget ${budget}`, refundError));
      return failed('api-error', decision.workload, decision.message.split(':')[0]!, error, decision);
    } else {
      // Nobody knows whether the restart happened: the unit stays spent (a lost PATCH response
      // must never let the budget be exceeded) and the lease keeps others away for a cooldown.
      const why = readBack === 'absent' ? 'our restartedAt is not in place yet' : `the read-back failed: ${readBack.error}`;
      return failed(
        'api-error',
        decision.workload,
        `${decision.message.split(':')[0]!}: outcome unknown (${why}); the budget unit stays spent`,
        error,
        decision,
      );
    }
  }

  const record: RestartRecord = {
    restartedAt,
    triggeredBy: trigger.sweepId,
    serials: trigger.certificate ? [trigger.certificate.serialNumber] : [],
  };
  let recordNote = '';
  try {
    await guard.recordRestart(key, record, new Date(now.getTime() + policy.verifyWindowSeconds * 1000));
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    // The restart happened; only its later verification is lost. Say so rather than fail.
    options.onWarning?.(`saving the restart record of ${key}`, error);
    recordNote = ` (restart record not saved, it will not be verified: ${describeError(error)})`;
  }
  return detail({
    ...common,
    outcome: 'restarted',
    reason: trigger.state,
    message: `${decision.message}${lostAnswer}${recordNote}`,
    extra: { ...extra, budget: budgetInfo, ...written },
  });

  function fromDecision(skip: Decision & { verdict: 'skip' }): RemediationDetail {
    return detail({
      outcome: 'skipped',
      reason: skip.reason,
      message: skip.message,
      workload: skip.workload,
      action: null,
      policy: skip.policy,
      policySource: skip.policySource,
      extra: {
        lastRestartAt: skip.lastRestartAt,
        cooldownUntil: skip.cooldownUntil,
        verification: skip.verification,
        breaker: skip.breaker,
      },
    });
  }
}

/** Rules that do not depend on our restart record. */
const EARLY_RULES: ReadonlySet<string> = new Set(['not-restartable', 'opted-out', 'gone']);

type Taken =
  | { readonly result: 'lease-held'; readonly expiresAt?: Date }
  | { readonly result: 'budget-spent'; readonly used?: number }
  | { readonly result: 'granted'; readonly used?: number };

/** Lease, then budget: a duplicate never spends budget, and a refused budget gives the lease back. */
async function takeLeaseAndBudget(
  guard: RestartGuard,
  request: { key: string; budget: string; holder: string; now: Date; policy: RemediationPolicy },
): Promise<Taken> {
  const { key, budget, holder, now, policy } = request;
  const lease = await guard.acquireLease({ key, holder, now, ttlSeconds: leaseSeconds(policy) });
  if (!lease.acquired) return { result: 'lease-held', ...(lease.expiresAt ? { expiresAt: lease.expiresAt } : {}) };
  const spent = await guard.consumeBudget({ key: budget, limit: policy.budgetPerHour, now, windowSeconds: BUDGET_WINDOW_SECONDS, holder });
  if (spent.granted) return { result: 'granted', ...(spent.used !== undefined ? { used: spent.used } : {}) };
  await guard.releaseLease(key, holder);
  return { result: 'budget-spent', ...(spent.used !== undefined ? { used: spent.used } : {}) };
}

/** Answers where the API server looked at the request and refused it before changing anything. */
const CLEAR_REFUSALS: ReadonlySet<number> = new Set([400, 403, 404, 409, 415, 422]);

function isClearRefusal(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode !== undefined && CLEAR_REFUSALS.has(error.statusCode);
}

async function readBackRestart(kube: KubeClient, target: RestartTarget, restartedAt: string): Promise<'in-place' | 'absent' | { error: string }> {
  try {
    return (await restartInPlace(kube, target, restartedAt)) ? 'in-place' : 'absent';
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    return { error: describeError(error) };
  }
}

/**
 * The `failed` outcome for an event that could not even be looked at, e.g. the cluster's API
 * endpoint could not be resolved (no KubeClient). Same shape as every other outcome.
 */
export function failureBeforeRemediation(trigger: RemediationTrigger, policy: RemediationPolicy, now: Date, what: string, error: unknown): RemediationDetail {
  return restartDetail(trigger, {
    outcome: 'failed',
    // Whatever kept us from the API server (EKS lookup, token, network) counts as an API error.
    reason: 'api-error',
    message: `${what}: ${describeError(error)}`,
    workload: trigger.workload ?? { kind: 'Pod', name: trigger.name },
    action: null,
    dryRun: policy.dryRun,
    at: now,
    extra: { statusCode: error instanceof KubeApiError ? error.statusCode : undefined },
  });
}

function describe(workload: WorkloadRef, trigger: RemediationTrigger): string {
  return `${workload.kind} ${trigger.namespace}/${workload.name}`;
}
