/**
 * What the notifier is told about, before any Slack formatting: the three event kinds it
 * receives (`Pod Certificate State Changed`, `Workload Restart`, failed or partial
 * `Sweep Completed`), read from an EventBridge envelope and checked against the fields the
 * message uses; whether an item is worth a message at all (severity filter, `policy: ignore`,
 * routine skips); where it goes (per-namespace webhook); and its delivery key, which makes a
 * retried SQS batch not post the same change twice. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { InvalidEventError } from '../model/errors.js';
import {
  CHANGES,
  EVENT_SOURCE,
  POD_CERTIFICATE_STATE_CHANGED,
  RESTART_OUTCOMES,
  SWEEP_COMPLETED,
  WORKLOAD_RESTART,
  AGENT_RESTART,
  type AgentRestartEventDetail,
  type PodStateChangedDetail,
  type SweepCompletedDetail,
  type WorkloadRestartDetail,
} from '../events/events.js';
import type { RemediationDetail } from '../remediation/remediation.js';
import type { AgentRestartDetail } from '../remediation/agent-remediation.js';
import { FINDINGS, STATES, STATE_SEVERITY, type State } from '../model/types.js';

/**
 * A `Workload Restart` detail: the contract's fields, plus what the remediator adds (all
 * optional here, so a detail from an older remediator still renders).
 */
export type RestartNotice = WorkloadRestartDetail &
  Partial<
    Pick<
      RemediationDetail,
      'message' | 'dryRun' | 'action' | 'podUid' | 'policy' | 'policySource' | 'restartedAt' | 'lastRestartAt' | 'cooldownUntil' | 'verification' | 'breaker' | 'budget' | 'statusCode'
    >
  >;

/** An `Agent Restart` detail: the contract's fields plus what the remediator adds (optional). */
export type AgentRestartNotice = AgentRestartEventDetail &
  Partial<Pick<AgentRestartDetail, 'message' | 'dryRun' | 'version' | 'upgradeAdvice' | 'upgradeTo' | 'lastRestartAt' | 'cooldownUntil' | 'breaker' | 'budget' | 'statusCode'>>;

export type NotificationItem =
  | { readonly kind: 'change'; readonly detail: PodStateChangedDetail }
  | { readonly kind: 'restart'; readonly detail: RestartNotice }
  | { readonly kind: 'agent-restart'; readonly detail: AgentRestartNotice }
  | { readonly kind: 'sweep'; readonly detail: SweepCompletedDetail };

/**
 * Skips that are the remediator doing its job, not something to act on: another pod of the
 * workload was just restarted (`cooldown`), a newer sweep or restart speaks for the pod
 * (`stale-event`), the pod is gone, or the state is not one restarts are for. Posting them
 * would repeat, every sweep, what the state-change messages already say.
 */
export const QUIET_SKIP_REASONS: readonly string[] = ['cooldown', 'stale-event', 'gone', 'not-restartable'];

/**
 * Agent restart skips that are the remediator waiting its turn: the next sweep retries them
 * (another agent is being restarted, a replacement is not Ready yet, an upgrade is rolling out).
 */
export const QUIET_AGENT_SKIP_REASONS: readonly string[] = ['cooldown', 'stale-event', 'agent-busy', 'agent-not-ready', 'rolling'];

/** Skips and failures that need a person (the remediator will not fix them by itself). */
export const PAGE_REASONS: readonly string[] = ['restart-did-not-fix', 'breaker', 'on-delete'];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function requireString(object: Json, key: string, path: string): string {
  const value = object[key];
  if (typeof value !== 'string' || value === '') throw new InvalidEventError(`${path}.${key}`, 'must be a non-empty string');
  return value;
}

function requireInstant(object: Json, key: string, path: string): string {
  const value = requireString(object, key, path);
  if (Number.isNaN(Date.parse(value))) throw new InvalidEventError(`${path}.${key}`, `not an RFC 3339 instant: ${JSON.stringify(value)}`);
  return value;
}

function requireOneOf<T extends string>(object: Json, key: string, allowed: readonly T[], path: string, nullable = false): T | null {
  const value = object[key];
  if (nullable && value === null) return null;
  if (!(allowed as readonly unknown[]).includes(value)) throw new InvalidEventError(`${path}.${key}`, `must be ${nullable ? 'null or ' : ''}one of ${allowed.join(', ')}`);
  return value as T;
}

function requireFindings(object: Json, key: string, path: string): void {
  const value = object[key];
  if (!Array.isArray(value) || !value.every((f) => (FINDINGS as readonly unknown[]).includes(f))) {
    throw new InvalidEventError(`${path}.${key}`, 'must be a list of known findings');
  }
}

function requireWorkload(object: Json, key: string, path: string, nullable: boolean): void {
  const value = object[key];
  if (nullable && (value === null || value === undefined)) return;
  if (!(isObject(value) && typeof value.kind === 'string' && value.kind !== '' && typeof value.name === 'string' && value.name !== '')) {
    throw new InvalidEventError(`${path}.${key}`, nullable ? 'must be null or {kind, name}' : 'must be {kind, name}');
  }
}

function parseChange(detail: Json): PodStateChangedDetail {
  const path = 'detail';
  for (const key of ['cluster', 'sweepId', 'namespace', 'name', 'uid']) requireString(detail, key, path);
  requireInstant(detail, 'observedAt', path);
  const change = requireOneOf(detail, 'change', CHANGES, path);
  requireOneOf(detail, 'state', STATES, path, change === 'gone');
  requireOneOf(detail, 'previousState', STATES, path, change !== 'gone');
  requireFindings(detail, 'findings', path);
  requireFindings(detail, 'previousFindings', path);
  requireWorkload(detail, 'workload', path, true);
  const certificate = detail.certificate;
  if (certificate !== null && certificate !== undefined) {
    if (!isObject(certificate) || typeof certificate.ageSeconds !== 'number' || typeof certificate.remainingSeconds !== 'number') {
      throw new InvalidEventError('detail.certificate', 'must be null or carry ageSeconds and remainingSeconds');
    }
  }
  return { ...detail, workload: detail.workload ?? null } as unknown as PodStateChangedDetail;
}

function parseRestart(detail: Json): RestartNotice {
  const path = 'detail';
  for (const key of ['cluster', 'namespace', 'reason', 'triggeredBy']) requireString(detail, key, path);
  requireInstant(detail, 'at', path);
  requireOneOf(detail, 'outcome', RESTART_OUTCOMES, path);
  requireWorkload(detail, 'workload', path, false);
  const pods = detail.pods;
  if (!Array.isArray(pods) || !pods.every((p) => isObject(p) && typeof p.name === 'string' && (STATES as readonly unknown[]).includes(p.state))) {
    throw new InvalidEventError('detail.pods', 'must be a list of {name, state}');
  }
  if (detail.message !== undefined && typeof detail.message !== 'string') throw new InvalidEventError('detail.message', 'must be a string');
  return detail as unknown as RestartNotice;
}

function parseAgentRestart(detail: Json): AgentRestartNotice {
  const path = 'detail';
  for (const key of ['cluster', 'node', 'namespace', 'reason', 'triggeredBy']) requireString(detail, key, path);
  requireInstant(detail, 'at', path);
  requireOneOf(detail, 'outcome', RESTART_OUTCOMES, path);
  if (detail.agentPod !== null && typeof detail.agentPod !== 'string') throw new InvalidEventError('detail.agentPod', 'must be null or a pod name');
  const pods = detail.pods;
  if (!Array.isArray(pods) || !pods.every((p) => isObject(p) && typeof p.name === 'string' && typeof p.namespace === 'string' && (STATES as readonly unknown[]).includes(p.state))) {
    throw new InvalidEventError('detail.pods', 'must be a list of {namespace, name, state}');
  }
  if (detail.message !== undefined && typeof detail.message !== 'string') throw new InvalidEventError('detail.message', 'must be a string');
  return detail as unknown as AgentRestartNotice;
}

function parseSweep(detail: Json): SweepCompletedDetail {
  const path = 'detail';
  for (const key of ['cluster', 'sweepId']) requireString(detail, key, path);
  requireInstant(detail, 'startedAt', path);
  requireInstant(detail, 'finishedAt', path);
  for (const key of ['partial', 'failed']) {
    if (typeof detail[key] !== 'boolean') throw new InvalidEventError(`detail.${key}`, 'must be a boolean');
  }
  const summary = detail.summary;
  if (!isObject(summary) || !['sampled', ...STATES].every((key) => typeof summary[key] === 'number')) {
    throw new InvalidEventError('detail.summary', 'must hold the sweep counts');
  }
  const errors = detail.errors;
  if (!Array.isArray(errors) || !errors.every((e) => isObject(e) && typeof e.error === 'string')) {
    throw new InvalidEventError('detail.errors', 'must be a list of {namespace, name, error}');
  }
  return { ...detail, errorsTotal: typeof detail.errorsTotal === 'number' ? detail.errorsTotal : errors.length } as unknown as SweepCompletedDetail;
}

/**
 * Reads one event: an EventBridge envelope (`{ "detail-type", "source", "detail", ... }`, the
 * body of an SQS record from the notifier rule) or, for `slack-preview` files, a detail with
 * its own `detail-type` field. Throws InvalidEventError naming the first field at fault.
 */
export function parseNotificationEvent(value: unknown): NotificationItem {
  if (!isObject(value)) throw new InvalidEventError('event', 'must be a JSON object');
  const detailType = value['detail-type'];
  if (typeof detailType !== 'string') throw new InvalidEventError('detail-type', 'missing');
  let detail: Json;
  if (isObject(value.detail)) {
    // An envelope: its `source` is the event source (a detail's own `source` is the pod's SDS source).
    if (value.source !== undefined && value.source !== EVENT_SOURCE) {
      throw new InvalidEventError('source', `must be ${EVENT_SOURCE}, got ${JSON.stringify(value.source)}`);
    }
    detail = value.detail;
  } else {
    const { 'detail-type': _type, ...rest } = value;
    detail = rest;
  }
  switch (detailType) {
    case POD_CERTIFICATE_STATE_CHANGED:
      return { kind: 'change', detail: parseChange(detail) };
    case WORKLOAD_RESTART:
      return { kind: 'restart', detail: parseRestart(detail) };
    case AGENT_RESTART:
      return { kind: 'agent-restart', detail: parseAgentRestart(detail) };
    case SWEEP_COMPLETED:
      return { kind: 'sweep', detail: parseSweep(detail) };
    default:
      throw new InvalidEventError('detail-type', `the notifier does not handle ${JSON.stringify(detailType)}`);
  }
}

export interface NotificationFilter {
  /** A state change posts only when its state or previous state is at least this severe. */
  readonly minimumSeverity: State;
}

/** Why an item is not posted, or null when it is. */
export function silenceReason(item: NotificationItem, filter: NotificationFilter): string | null {
  switch (item.kind) {
    case 'change': {
      const { state, previousState } = item.detail;
      // An outdated tbot agent comes with upgrade advice in Slack: its clearing (the upgrade
      // worked) is worth a ✅ even when the pods were healthy meanwhile.
      if (item.detail.change === 'resolved' && item.detail.previousFindings.includes('tbot-outdated')) return null;
      const worst = Math.max(state === null ? 0 : STATE_SEVERITY[state], previousState === null ? 0 : STATE_SEVERITY[previousState]);
      return worst >= STATE_SEVERITY[filter.minimumSeverity] ? null : `below the severity filter (${filter.minimumSeverity})`;
    }
    case 'restart': {
      const { policy, outcome, reason } = item.detail;
      if (policy === 'ignore') return 'the workload policy is ignore';
      if (outcome === 'skipped' && QUIET_SKIP_REASONS.includes(reason)) return `routine skip (${reason})`;
      return null;
    }
    case 'agent-restart': {
      const { outcome, reason } = item.detail;
      if (outcome === 'skipped' && QUIET_AGENT_SKIP_REASONS.includes(reason)) return `routine skip (${reason})`;
      return null;
    }
    case 'sweep':
      return item.detail.partial || item.detail.failed ? null : 'the sweep was complete';
  }
}

/** The namespace whose webhook an item goes to; null for cluster-wide items (sweeps). */
export function routingNamespace(item: NotificationItem): string | null {
  return item.kind === 'sweep' ? null : item.detail.namespace;
}

/** The UTC clock hour of an instant: `2026-11-20T03`. */
function hourOf(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().slice(0, 13);
}

/**
 * What makes two items "the same notification":
 * - a state change: cluster, pod uid, change and the sweep that saw it;
 * - a restart: cluster, workload and outcome, plus the triggering sweep when it `restarted`;
 *   other outcomes (skipped, dry-run, failed) repeat on every sweep while the pod stays
 *   unhealthy, so they are keyed by the UTC hour instead: at most one reminder an hour;
 * - a sweep: cluster and sweepId.
 */
export function deliveryKey(item: NotificationItem): string {
  switch (item.kind) {
    case 'change': {
      const d = item.detail;
      return ['change', d.cluster, d.uid, d.change, d.sweepId].join('#');
    }
    case 'restart': {
      const d = item.detail;
      const workload = `${d.namespace}/${d.workload.kind}/${d.workload.name}`;
      return d.outcome === 'restarted'
        ? ['restart', d.cluster, workload, d.outcome, d.triggeredBy].join('#')
        : ['restart', d.cluster, workload, d.outcome, d.reason, hourOf(d.at)].join('#');
    }
    case 'agent-restart': {
      const d = item.detail;
      return d.outcome === 'restarted'
        ? ['agent-restart', d.cluster, d.node, d.outcome, d.triggeredBy].join('#')
        : ['agent-restart', d.cluster, d.node, d.outcome, d.reason, hourOf(d.at)].join('#');
    }
    case 'sweep':
      return ['sweep', item.detail.cluster, item.detail.sweepId].join('#');
  }
}

/** Fixed-length digest of a delivery key (a table key that holds no pod names). */
export function deliveryDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/** The cluster an item is about (metrics dimension). */
export function clusterOf(item: NotificationItem): string {
  return item.detail.cluster;
}
