/**
 * One `Pod Certificate Unhealthy` event in, one outcome event out: `Agent Restart` when the
 * node-aware path (docs/contract.md §7.1) handles it, else `Workload Restart` (remediate.ts).
 *
 *   tbot-side diagnosis, pod has an agent, event fresh and actionable
 *     → read the pod, the agents, their DaemonSet → our last restart of this node's agent
 *     → decideAgent (pure) → agent lease (cooldown, duplicates) → cluster lease (one agent at a
 *       time) → hourly budget (shared with workload restarts) → dry-run, or delete the agent pod
 *     → record it, so the next sweep can verify that the node's pods got new certificates.
 *   anything else, or decideAgent says "workload" (fallback) → remediate().
 *
 * Like remediate(), every expected failure ends in an outcome, never in a throw.
 */
import { randomUUID } from 'node:crypto';
import {
  agentClusterKey,
  agentKey,
  agentRestartDetail,
  decideAgent,
  tbotSideDiagnosis,
  type AgentObservation,
  type AgentRestartDetail,
} from '../core/remediation/agent-remediation.js';
import { DEFAULT_TBOT_AGENTS, type AgentPod, type TbotAgentSelector } from '../core/judgement/agents.js';
import { describeError, KubeApiError, MeshCertWatchError } from '../core/model/errors.js';
import { AGENT_RESTART, WORKLOAD_RESTART } from '../core/events/events.js';
import {
  BUDGET_WINDOW_SECONDS,
  budgetKey,
  budgetWindow,
  isActionable,
  leaseSeconds,
  rfc3339Seconds,
  type RemediationDetail,
  type RemediationTrigger,
} from '../core/remediation/remediation.js';
import type { RestartRecord } from '../ports/restart-guard.js';
import { deleteAgentPod, observeAgents } from '../kube/agent-remediation.js';
import { remediate, type RemediatorOptions } from './remediate.js';

export interface EventRemediatorOptions extends RemediatorOptions {
  /** Where the tbot agents of the event's cluster run. @default teleport-system, app=tbot */
  readonly tbotAgents?: TbotAgentSelector;
}

export type RemediationOutcome =
  | { readonly detailType: typeof WORKLOAD_RESTART; readonly detail: RemediationDetail }
  | { readonly detailType: typeof AGENT_RESTART; readonly detail: AgentRestartDetail };

/** Whether the agent path is worth looking at for this event (no API call needed to tell). */
export function agentPathApplies(trigger: RemediationTrigger, options: Pick<EventRemediatorOptions, 'policy' | 'clock'>, now: Date): boolean {
  const { policy } = options;
  if (!policy.agentRestarts || trigger.agent === undefined || !tbotSideDiagnosis(trigger)) return false;
  if (!isActionable(trigger, policy)) return false;
  // Too old: the workload path says `stale-event` the same way for both.
  return (now.getTime() - Date.parse(trigger.observedAt)) / 1000 <= policy.maxEventAgeSeconds;
}

export async function remediateEvent(trigger: RemediationTrigger, options: EventRemediatorOptions): Promise<RemediationOutcome> {
  const now = (options.clock ?? (() => new Date()))();
  const workload = async (note?: string, agentRestartAt?: string): Promise<RemediationOutcome> => {
    const detail = await remediate(trigger, { ...options, clock: () => now });
    if (note === undefined) return { detailType: WORKLOAD_RESTART, detail };
    return {
      detailType: WORKLOAD_RESTART,
      detail: { ...detail, message: `${note}; ${detail.message}`, ...(agentRestartAt ? { agentRestartAt } : {}) },
    };
  };
  if (!agentPathApplies(trigger, options, now)) return workload();

  const { kube, guard, policy } = options;
  const selector = options.tbotAgents ?? DEFAULT_TBOT_AGENTS;
  const dryRun = policy.dryRun;
  const detail = (parts: Omit<Parameters<typeof agentRestartDetail>[1], 'namespace' | 'dryRun' | 'at'>): RemediationOutcome => ({
    detailType: AGENT_RESTART,
    detail: agentRestartDetail(trigger, { ...parts, namespace: selector.namespace, dryRun, at: now }),
  });
  const failed = (reason: 'api-error' | 'guard-error', what: string, error: unknown, agent: AgentPod | null = null) =>
    detail({
      agent,
      outcome: 'failed',
      reason,
      message: `${what}: ${describeError(error)}`,
      extra: { statusCode: error instanceof KubeApiError ? error.statusCode : undefined },
    });

  // The event's pod must still be the one observed; otherwise the workload path says `gone`.
  let observation: AgentObservation;
  try {
    const pod = await kube
      .call(`get pod ${trigger.namespace}/${trigger.name}`, () => kube.core.readNamespacedPod({ namespace: trigger.namespace, name: trigger.name }))
      .catch((error: unknown) => {
        if (error instanceof KubeApiError && error.statusCode === 404) return undefined;
        throw error;
      });
    if (!pod || pod.metadata?.uid !== trigger.uid || pod.metadata?.deletionTimestamp) return workload();
    observation = await observeAgents(kube, selector, trigger.node);
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    return failed('api-error', `reading the pod and the tbot agents in ${selector.namespace}`, error);
  }

  const key = agentKey(trigger.cluster, trigger.node, dryRun);
  let lastRestart: RestartRecord | undefined;
  try {
    lastRestart = await guard.lastRestart(key, now);
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    return failed('guard-error', 'reading the last agent restart record', error);
  }
  const decision = decideAgent({ trigger, observation, lastRestart, policy, now });
  if (decision.path === 'workload') return workload(decision.note, decision.agentRestartAt);
  if (decision.verdict === 'skip') {
    return detail({
      agent: decision.agent,
      outcome: 'skipped',
      reason: decision.reason,
      message: decision.message,
      extra: { lastRestartAt: decision.lastRestartAt, breaker: decision.breaker },
    });
  }

  const agent = decision.agent;
  const extra = { breaker: decision.breaker, lastRestartAt: decision.lastRestartAt };
  const holder = options.holder?.() ?? randomUUID();
  const clusterKey = agentClusterKey(trigger.cluster, dryRun);
  const budget = budgetKey(trigger.cluster, dryRun);
  const window = budgetWindow(now);
  let used: number | undefined;
  try {
    // 1. This agent: one restart per cooldown, however many of its pods report at once.
    const lease = await guard.acquireLease({ key, holder, now, ttlSeconds: leaseSeconds(policy) });
    if (!lease.acquired) {
      const until = lease.expiresAt ? ` until ${lease.expiresAt.toISOString()}` : '';
      return detail({
        agent,
        outcome: 'skipped',
        reason: 'cooldown',
        message: `tbot agent on node ${trigger.node}: another restart of it holds the lease${until}`,
        extra: { ...extra, cooldownUntil: lease.expiresAt?.toISOString() },
      });
    }
    // 2. The cluster: one agent at a time.
    const spacing = await guard.acquireLease({ key: clusterKey, holder, now, ttlSeconds: policy.agentSpacingSeconds });
    if (!spacing.acquired) {
      await guard.releaseLease(key, holder);
      return detail({
        agent,
        outcome: 'skipped',
        reason: 'agent-busy',
        message: `another tbot agent of cluster ${trigger.cluster} is being restarted${spacing.expiresAt ? ` (until ${spacing.expiresAt.toISOString()})` : ''}: one agent at a time`,
        extra,
      });
    }
    // 3. The budget (sliding 60 minutes), shared with workload restarts.
    const spent = await guard.consumeBudget({ key: budget, limit: policy.budgetPerHour, now, windowSeconds: BUDGET_WINDOW_SECONDS, holder });
    used = spent.used;
    if (!spent.granted) {
      await guard.releaseLease(clusterKey, holder);
      await guard.releaseLease(key, holder);
      return detail({
        agent,
        outcome: 'skipped',
        reason: 'budget',
        message: `tbot agent on node ${trigger.node}: the cluster's restart budget of ${policy.budgetPerHour} in any 60 minutes is spent (window ${window})`,
        extra: { ...extra, budget: { window, limit: policy.budgetPerHour, ...(spent.used !== undefined ? { used: spent.used } : {}) } },
      });
    }
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    return failed('guard-error', 'taking the agent restart leases and budget', error, agent);
  }
  const budgetInfo = { window, limit: policy.budgetPerHour, ...(used !== undefined ? { used } : {}) };

  if (dryRun) {
    return detail({ agent, outcome: 'dry-run', reason: trigger.state, message: `dry-run, nothing changed: ${decision.message}`, extra: { ...extra, budget: budgetInfo } });
  }
  try {
    await deleteAgentPod(kube, agent);
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    // Only a clear refusal gives the unit back: a lost answer or a 404 (the pod may be gone
    // because our own delete went through) never does.
    const clearRefusal = error instanceof KubeApiError && [400, 403, 409, 415, 422].includes(error.statusCode ?? 0);
    if (clearRefusal) await guard.refundBudget(budget, holder).catch((refundError: unknown) => options.onWarning?.(`refunding restart budget ${budget}`, refundError));
    return failed('api-error', `delete tbot agent pod ${agent.namespace}/${agent.name}`, error, agent);
  }
  const restartedAt = rfc3339Seconds(now);
  let recordNote = '';
  try {
    const record: RestartRecord = { restartedAt, triggeredBy: trigger.sweepId, serials: trigger.certificate ? [trigger.certificate.serialNumber] : [] };
    await guard.recordRestart(key, record, new Date(now.getTime() + policy.verifyWindowSeconds * 1000));
  } catch (error) {
    if (!(error instanceof MeshCertWatchError)) throw error;
    options.onWarning?.(`saving the agent restart record of ${key}`, error);
    recordNote = ` (restart record not saved, it will not be verified: ${describeError(error)})`;
  }
  return detail({ agent, outcome: 'restarted', reason: trigger.state, message: `${decision.message}${recordNote}`, extra: { ...extra, budget: budgetInfo } });
}
