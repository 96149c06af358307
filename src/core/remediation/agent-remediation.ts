/**
 * Node-aware remediation (docs/contract.md §7.1): when a pod's diagnosis is on the tbot side and
 * tbot's agent on its node serves it, restart that agent (delete its pod; the DaemonSet recreates
 * it) instead of the pod's workload. Every Envoy on the node then opens a new SDS stream and gets
 * a fresh SVID (shared research §4.4, §8.7); no application pod restarts. The next sweep verifies
 * it: a pod on that node observed after the agent restart that still serves a leaf issued before
 * it was not fixed, and only then does the remediator fall back to restarting its workload.
 *
 * `decideAgent` is the pure policy; the engine (src/remediator/remediate-event.ts) adds the
 * lease per agent (cooldown, duplicates), the cluster-wide lease (one agent at a time), the
 * hourly budget shared with workload restarts, and dry-run.
 *
 * Precedence, first match wins:
 *  - workload path  the diagnosis is not tbot-side, the pod has no agent, agent restarts are off,
 *                   the pod is gone or the event too old (the workload path says why)
 *  1. breaker              as for workload restarts: many unhealthy pods = an issuer outage
 *  2. stale-event          observed before our last restart of this agent (+ settle time), or
 *                          before its replacement served: the next sweep verifies that restart
 *     agent-not-ready      the replacement is not Ready yet: verify once it serves
 *  3. workload path        (fallback) a pod observed after our agent restart still serves a leaf
 *                          issued before it: the agent restart did not fix it
 *  4. workload path        no agent on the node now, or the agent side opted out
 *                          (`mesh-cert-watch.io/policy: alert|ignore` on the DaemonSet or namespace)
 *  5. rolling              the DaemonSet is rolling out (an upgrade replaces the agent anyway)
 *  6. agent-not-ready      the node's agent is not Ready, or another agent pod is not Ready or
 *                          terminating and younger than `agentReadyGraceSeconds`: a replacement
 *                          is on its way, never delete a second one meanwhile
 * then, in the engine: agent lease (`cooldown`), cluster lease (`agent-busy`), budget, dry-run.
 */
import { judgeTbotVersion, tbotUpgradeAdvice, type AgentPod } from '../judgement/agents.js';
import type { AgentPodRef, AgentRestartEventDetail, RestartOutcome } from '../events/events.js';
export { provenStale, rotationOf, type RotationFacts } from './remediation.js';
import {
  breakerReading,
  CERTIFICATE_BACKDATE_TOLERANCE_SECONDS,
  type BreakerReading,
  type RemediationPolicy,
  type RemediationTrigger,
} from './remediation.js';
import type { RestartRecord } from './restart-record.js';
import { BREAKER_MINIMUM_UNHEALTHY } from './remediation.js';
import type { Finding, State } from '../model/types.js';
import { POLICY_ANNOTATION } from './workload-facts.js';

/** The failure lives in tbot, not in the application. */
export function tbotSideDiagnosis(trigger: { readonly findings: readonly Finding[]; readonly source: string }): boolean {
  return (
    trigger.findings.includes('sds-push-without-rotation') ||
    trigger.findings.includes('tbot-outdated') ||
    (trigger.findings.includes('sds-pushes-stopped') && trigger.source === 'tbot')
  );
}

/** Agent restart skips beyond the workload ones. */
export const AGENT_SKIP_REASONS = ['breaker', 'stale-event', 'rolling', 'agent-not-ready', 'cooldown', 'agent-busy', 'budget'] as const;
export type AgentSkipReason = (typeof AGENT_SKIP_REASONS)[number];

/** What was read back for the agent side, just before deciding. */
export interface AgentObservation {
  /** All agent pods matching the selector in the tbot namespace, now. */
  readonly agents: readonly AgentPod[];
  /** The DaemonSet owning the node's agent, when it has one. */
  readonly daemonSet: {
    readonly name: string;
    readonly policyAnnotation?: string | undefined;
    /** Why it is mid-rollout, or null. */
    readonly rolling: string | null;
  } | null;
  readonly namespacePolicy?: string | undefined;
}

export type AgentDecision =
  | { readonly path: 'workload'; readonly note?: string; readonly agentRestartAt?: string }
  | {
      readonly path: 'agent';
      readonly verdict: 'skip';
      readonly reason: AgentSkipReason;
      readonly message: string;
      readonly agent: AgentPod | null;
      readonly lastRestartAt?: string;
      readonly breaker?: BreakerReading;
    }
  | { readonly path: 'agent'; readonly verdict: 'restart'; readonly agent: AgentPod; readonly message: string; readonly breaker: BreakerReading; readonly lastRestartAt?: string };

export interface AgentDecisionInput {
  readonly trigger: RemediationTrigger;
  readonly observation: AgentObservation;
  /** Our last restart of this node's agent, if remembered. */
  readonly lastRestart: RestartRecord | undefined;
  readonly policy: RemediationPolicy;
  readonly now: Date;
}

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);

function optedOut(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const value = raw.trim().toLowerCase();
  return value === 'restart' ? null : value;
}

export function decideAgent(input: AgentDecisionInput): AgentDecision {
  const { trigger, observation, lastRestart, policy, now } = input;
  const node = trigger.node;
  const agent = observation.agents.find((a) => a.node === node && a.ready && !a.terminating) ?? observation.agents.find((a) => a.node === node) ?? null;
  const skip = (reason: AgentSkipReason, message: string, extra: { lastRestartAt?: string; breaker?: BreakerReading } = {}): AgentDecision => ({
    path: 'agent',
    verdict: 'skip',
    reason,
    message,
    agent,
    ...extra,
  });

  // 1. Breaker, as for workload restarts.
  if (trigger.sweepSummary === undefined) return skip('breaker', 'the event carries no sweepSummary: cannot rule out an issuer outage, so nothing is restarted');
  const breaker = breakerReading(trigger.sweepSummary, policy.breakerUnhealthyShare);
  if (breaker.sampled === 0 || (breaker.unhealthy / breaker.sampled > breaker.threshold && breaker.unhealthy >= BREAKER_MINIMUM_UNHEALTHY)) {
    return skip(
      'breaker',
      `${breaker.unhealthy} of ${breaker.sampled} sampled pods are not healthy (${breaker.share} > ${breaker.threshold}): likely an issuer outage, page instead of restarting tbot agents`,
      { breaker },
    );
  }

  // 2-3. Our last restart of this agent: wait for the sweep that can verify it, then verify.
  if (lastRestart !== undefined) {
    const restartedAt = ms(lastRestart.restartedAt);
    const observedAt = ms(trigger.observedAt);
    if (observedAt < restartedAt + policy.agentSettleSeconds * 1000) {
      return skip('stale-event', `pod ${trigger.name} was observed at ${trigger.observedAt}, before the tbot agent on node ${node} was restarted at ${lastRestart.restartedAt}: the next sweep verifies that restart`, {
        lastRestartAt: lastRestart.restartedAt,
        breaker,
      });
    }
    // The replacement must serve before its effect can be judged.
    if (agent === null || !agent.ready || agent.terminating) {
      return skip('agent-not-ready', `the replacement tbot agent on node ${node} (restarted at ${lastRestart.restartedAt}) is not Ready yet: its pods are verified once it serves`, {
        lastRestartAt: lastRestart.restartedAt,
        breaker,
      });
    }
    if (observedAt < ms(agent.createdAt) + policy.agentSettleSeconds * 1000) {
      return skip('stale-event', `pod ${trigger.name} was observed at ${trigger.observedAt}, before the replacement tbot agent ${agent.name} on node ${node} served it: the next sweep verifies the restart`, {
        lastRestartAt: lastRestart.restartedAt,
        breaker,
      });
    }
    const notBefore = ms(trigger.certificate?.notBefore);
    if (!Number.isNaN(notBefore) && notBefore < restartedAt - CERTIFICATE_BACKDATE_TOLERANCE_SECONDS * 1000) {
      return {
        path: 'workload',
        agentRestartAt: lastRestart.restartedAt,
        note: `the tbot agent restart on node ${node} at ${lastRestart.restartedAt} did not fix pod ${trigger.name} (it still serves a leaf issued at ${trigger.certificate!.notBefore}): falling back to a workload restart`,
      };
    }
  }

  // 4. Nothing to restart on the agent side, or its owners said no: the workload path decides.
  if (agent === null) return { path: 'workload', note: `no tbot agent found on node ${node}` };
  const dsPolicy = optedOut(observation.daemonSet?.policyAnnotation);
  if (dsPolicy !== null) return { path: 'workload', note: `tbot DaemonSet ${agent.namespace}/${observation.daemonSet!.name}: ${POLICY_ANNOTATION}: ${dsPolicy}` };
  const nsPolicy = optedOut(observation.namespacePolicy);
  if (nsPolicy !== null && observation.daemonSet?.policyAnnotation === undefined) {
    return { path: 'workload', note: `namespace ${agent.namespace}: ${POLICY_ANNOTATION}: ${nsPolicy}` };
  }

  // 5. An upgrade is under way: it replaces the agent anyway.
  if (observation.daemonSet?.rolling) return skip('rolling', `tbot DaemonSet ${agent.namespace}/${observation.daemonSet.name} is mid-rollout: ${observation.daemonSet.rolling}`, { breaker });

  // 6. Never while a replacement is not Ready yet.
  if (!agent.ready || agent.terminating) {
    return skip('agent-not-ready', `the tbot agent ${agent.namespace}/${agent.name} on node ${node} is not Ready${agent.terminating ? ' (terminating)' : ''}: it may be the replacement of a restart, wait for it`, { breaker });
  }
  const graceMs = policy.agentReadyGraceSeconds * 1000;
  const coming = observation.agents.find(
    (other) => other.name !== agent.name && (other.terminating || !other.ready) && now.getTime() - ms(other.createdAt) < graceMs,
  );
  if (coming) {
    return skip(
      'agent-not-ready',
      `tbot agent ${coming.namespace}/${coming.name} on node ${coming.node || '(unscheduled)'} is ${coming.terminating ? 'terminating' : 'not Ready yet'}: one agent at a time, never another while a replacement is not Ready`,
      { breaker },
    );
  }

  const verdict = judgeTbotVersion(agent.version);
  const why = trigger.findings.filter((f) => f !== 'tbot-outdated').join(', ') || 'tbot-outdated';
  const upgrade = verdict.upgradeTo ? `; ${tbotUpgradeAdvice(node, agent.version)}` : '';
  return {
    path: 'agent',
    verdict: 'restart',
    agent,
    breaker,
    message: `restart tbot agent ${agent.namespace}/${agent.name} on node ${node}: pod ${trigger.namespace}/${trigger.name} certificate ${trigger.state} (${why})${upgrade}`,
    ...(lastRestart ? { lastRestartAt: lastRestart.restartedAt } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Keys.

const scope = (dryRun: boolean): string => (dryRun ? 'dry-run#' : '');

/** Lease and restart record of one node's agent: `agent#<cluster>#<node>`. */
export function agentKey(cluster: string, node: string, dryRun: boolean): string {
  return `${scope(dryRun)}agent#${cluster}#${node}`;
}

/** The cluster-wide lease that lets one agent restart through at a time: `agent-restart#<cluster>`. */
export function agentClusterKey(cluster: string, dryRun: boolean): string {
  return `${scope(dryRun)}agent-restart#${cluster}`;
}

// ---------------------------------------------------------------------------------------------
// The Agent Restart detail.

export type AgentRestartReason = State | AgentSkipReason | 'api-error' | 'guard-error';

/** `Agent Restart` detail as the remediator emits it: the contract's fields, with its extras required. */
export interface AgentRestartDetail extends AgentRestartEventDetail {
  readonly version: string | null;
  /** `upgrade tbot on node X (18.5.0 → 18.6.4)` when the agent's version has a rotation bug. */
  readonly upgradeAdvice: string | null;
  readonly upgradeTo: string | null;
  /**
   * The pods affected: every pod the triggering sweep found not healthy that this agent serves
   * (the event's `agentPods`), the triggering pod first; only the triggering pod when the event
   * does not carry the list (an event from an older sampler).
   */
  readonly pods: readonly AgentPodRef[];
  readonly reason: AgentRestartReason;
  readonly message: string;
  readonly dryRun: boolean;
  readonly breaker?: BreakerReading;
}

export function agentRestartDetail(
  trigger: RemediationTrigger,
  parts: {
    readonly namespace: string;
    readonly agent: AgentPod | null;
    readonly outcome: RestartOutcome;
    readonly reason: AgentRestartReason;
    readonly message: string;
    readonly dryRun: boolean;
    readonly at: Date;
    readonly extra?: Partial<Pick<AgentRestartDetail, 'lastRestartAt' | 'cooldownUntil' | 'breaker' | 'budget' | 'statusCode'>>;
  },
): AgentRestartDetail {
  const version = parts.agent?.version ?? trigger.agent?.version ?? null;
  const extra = Object.fromEntries(Object.entries(parts.extra ?? {}).filter(([, value]) => value !== undefined));
  return {
    cluster: trigger.cluster,
    node: trigger.node,
    agentPod: parts.agent?.name ?? trigger.agent?.pod ?? null,
    namespace: parts.namespace,
    version,
    upgradeAdvice: tbotUpgradeAdvice(trigger.node, version),
    upgradeTo: judgeTbotVersion(version).upgradeTo,
    ...affectedPods(trigger),
    outcome: parts.outcome,
    reason: parts.reason,
    message: parts.message,
    triggeredBy: trigger.sweepId,
    at: parts.at.toISOString(),
    dryRun: parts.dryRun,
    ...extra,
  };
}

/** `pods` (and `podsTotal` when the event's list was cut) of an Agent Restart detail. */
function affectedPods(trigger: RemediationTrigger): { readonly pods: AgentPodRef[]; readonly podsTotal?: number } {
  const self: AgentPodRef = { namespace: trigger.namespace, name: trigger.name, state: trigger.state, findings: [...trigger.findings] };
  const listed = trigger.agentPods ?? [];
  const others = listed.filter((p) => !(p.namespace === trigger.namespace && p.name === trigger.name));
  const pods = [self, ...others.map((p) => ({ namespace: p.namespace, name: p.name, state: p.state, findings: [...p.findings] }))];
  // The sampler counts every pod not healthy, the trigger included when it is one of them.
  const counted = trigger.agentPods !== undefined && trigger.state !== 'healthy';
  const total = Math.max((trigger.agentPodsTotal ?? listed.length) + (counted ? 0 : 1), pods.length);
  return total > pods.length ? { pods, podsTotal: total } : { pods };
}
