/**
 * What the notifier is told about, before any Slack formatting: the event kinds it receives
 * (`Pod Certificate State Changed`, `Workload Restart`, `Agent Restart`, failed or partial
 * `Sweep Completed`), read from an EventBridge envelope and parsed with the contract schemas
 * (../events/schemas.ts); whether an item is worth a message at all (severity filter, `policy: ignore`,
 * routine skips); where it goes (per-namespace webhook); and its delivery key, which makes a
 * retried SQS batch not post the same change twice. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { InvalidEventError } from '../model/errors.js';
import {
  EVENT_SOURCE,
  POD_CERTIFICATE_STATE_CHANGED,
  SWEEP_COMPLETED,
  WORKLOAD_RESTART,
  AGENT_RESTART,
  type AgentRestartEventDetail,
  type PodStateChangedDetail,
  type SweepCompletedDetail,
  type WorkloadRestartDetail,
} from '../events/events.js';
import { parseDetail } from '../events/parse.js';
import { AgentRestartDetailSchema, PodStateChangedDetailSchema, SweepCompletedDetailSchema, WorkloadRestartDetailSchema } from '../events/schemas.js';
import { STATE_SEVERITY, type State } from '../model/types.js';

/**
 * A `Workload Restart` detail: the contract's fields, with what the remediator adds optional (the
 * contract schema's shape), so a detail from an older remediator still renders.
 */
export type RestartNotice = WorkloadRestartDetail;

/** An `Agent Restart` detail: the contract's fields plus what the remediator adds (optional). */
export type AgentRestartNotice = AgentRestartEventDetail;

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

/**
 * Reads one event: an EventBridge envelope (`{ "detail-type", "source", "detail", ... }`, the
 * body of an SQS record from the notifier rule) or, for `slack-preview` files, a detail with
 * its own `detail-type` field. The detail is parsed with its contract schema (../events/schemas.ts);
 * throws InvalidEventError naming the first field at fault (`detail.pods[0].state`).
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
      return { kind: 'change', detail: parseDetail(PodStateChangedDetailSchema, detail) };
    case WORKLOAD_RESTART:
      return { kind: 'restart', detail: parseDetail(WorkloadRestartDetailSchema, detail) };
    case AGENT_RESTART:
      return { kind: 'agent-restart', detail: parseDetail(AgentRestartDetailSchema, detail) };
    case SWEEP_COMPLETED:
      return { kind: 'sweep', detail: parseDetail(SweepCompletedDetailSchema, detail) };
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
