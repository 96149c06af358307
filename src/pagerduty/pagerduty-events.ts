/**
 * PagerDuty Events API v2 events rendered from the channel-neutral digest: one event per workload
 * whose incident opens or closes in this batch (docs/contract.md "PagerDuty").
 *
 * - trigger: a pod of the workload is at an incident state (`expired`, and `expiring` when the
 *   destination says so). Severity `critical` for expired, `error` for expiring. PagerDuty
 *   deduplicates on `dedup_key`, so a trigger for a workload that already has an open alert adds
 *   to it instead of paging again.
 * - resolve: the last pod that held the workload's incident open left the incident states
 *   (healthy again, better, or gone); the engine's incident log counts the pods across batches.
 *
 * `dedup_key` is stable per cluster, namespace and workload: `mesh-cert-watch:<cluster>/<ns>/<Kind>/<name>`
 * (a bare pod: `Pod/<name>`), shortened with a digest past 255 characters. Limits enforced here:
 * summary ≤ 1024 characters, the whole event ≤ 512 KB (custom details shrink first). The routing
 * key is added when sending (pagerduty-channel.ts): a rendered event holds no credential.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { shortenText, type Digest, type WorkloadStatus } from '../core/notification/digest.js';
import { STATE_SEVERITY, type Finding, type State } from '../core/model/types.js';
import type { RenderContext } from '../ports/notification.js';

export const PAGERDUTY_LIMITS = {
  routingKey: 32,
  dedupKey: 255,
  summary: 1024,
  /** The whole request body. */
  eventBytes: 512 * 1024,
} as const;

export const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type PagerDutySeverity = (typeof PAGERDUTY_SEVERITIES)[number];
export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

/** What `custom_details` carries for a trigger. */
export interface PagerDutyDetails {
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: string;
  readonly state: State | null;
  readonly pods: readonly string[];
  readonly findings: readonly Finding[];
  readonly diagnosis: readonly string[];
  readonly advice: readonly string[];
  readonly dashboard?: string;
  readonly truncated?: true;
}

/** An event as rendered: everything but `routing_key`. */
export interface PagerDutyEvent {
  readonly event_action: PagerDutyAction;
  readonly dedup_key: string;
  readonly payload?: {
    readonly summary: string;
    readonly source: string;
    readonly severity: PagerDutySeverity;
    readonly timestamp: string;
    readonly component: string;
    readonly group: string;
    readonly class: string;
    readonly custom_details: PagerDutyDetails;
  };
  readonly client?: string;
  readonly client_url?: string;
}

/** The request body: the event plus the routing key. */
export type PagerDutyRequest = PagerDutyEvent & { readonly routing_key: string };

const MAX_PODS = 20;

/** `mesh-cert-watch:<workload key>`, at most 255 characters (a digest replaces the tail of longer ones). */
export function dedupKey(workloadKey: string): string {
  const key = `mesh-cert-watch:${workloadKey}`;
  if (key.length <= PAGERDUTY_LIMITS.dedupKey) return key;
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${key.slice(0, PAGERDUTY_LIMITS.dedupKey - digest.length - 1)}#${digest}`;
}

function severityOf(state: State | null): PagerDutySeverity {
  if (state === 'expired') return 'critical';
  if (state === 'expiring') return 'error';
  return 'warning';
}

/** Workload statuses of the digest merged by key (a workload can have pods in several sections). */
function mergeWorkloads(workloads: readonly WorkloadStatus[]): WorkloadStatus[] {
  const merged = new Map<string, WorkloadStatus>();
  for (const w of workloads) {
    const seen = merged.get(w.key);
    if (!seen) {
      merged.set(w.key, w);
      continue;
    }
    const worse = (seen.worstState === null ? -1 : STATE_SEVERITY[seen.worstState]) >= (w.worstState === null ? -1 : STATE_SEVERITY[w.worstState]) ? seen : w;
    merged.set(w.key, {
      ...worse,
      pods: [...seen.pods, ...w.pods],
      findings: [...new Set([...seen.findings, ...w.findings])].sort(),
      diagnosis: [...new Set([...seen.diagnosis, ...w.diagnosis])],
      advice: [...new Set([...seen.advice, ...w.advice])],
      observedAt: seen.observedAt > w.observedAt ? seen.observedAt : w.observedAt,
    });
  }
  return [...merged.values()];
}

function fitsSize(event: PagerDutyEvent): boolean {
  // The routing key adds 32 characters and its field name.
  return Buffer.byteLength(JSON.stringify(event), 'utf8') + 64 <= PAGERDUTY_LIMITS.eventBytes;
}

/** Shrinks custom details until the event fits 512 KB: fewer pods, then bounded text, then none. */
function withinSize(event: PagerDutyEvent): PagerDutyEvent {
  if (fitsSize(event) || !event.payload) return event;
  const details = event.payload.custom_details;
  const attempts: PagerDutyDetails[] = [
    { ...details, pods: details.pods.slice(0, 5), truncated: true },
    { ...details, pods: details.pods.slice(0, 5), diagnosis: details.diagnosis.map((d) => shortenText(d, 500)), advice: details.advice.map((a) => shortenText(a, 500)), truncated: true },
    { cluster: details.cluster, namespace: details.namespace, workload: shortenText(details.workload, 300), state: details.state, pods: [], findings: details.findings, diagnosis: [], advice: [], truncated: true },
  ];
  for (const custom_details of attempts) {
    const smaller = { ...event, payload: { ...event.payload, custom_details } };
    if (fitsSize(smaller)) return smaller;
  }
  return { ...event, payload: { ...event.payload, component: shortenText(event.payload.component, 300), group: shortenText(event.payload.group, 300), custom_details: attempts[2]! } };
}

function triggerEvent(workload: WorkloadStatus, incidentStates: readonly State[], context: RenderContext): PagerDutyEvent {
  const open = workload.pods.filter((p) => p.state !== null && incidentStates.includes(p.state));
  const state = open.map((p) => p.state!).sort((a, b) => STATE_SEVERITY[b] - STATE_SEVERITY[a])[0] ?? workload.worstState;
  const where = `${workload.cluster}/${workload.namespace}`;
  const summary = shortenText(`${where} ${workload.subject}: ${workload.summary}`, PAGERDUTY_LIMITS.summary);
  const pods = [...new Set(workload.pods.map((p) => `${p.name} (${p.state ?? 'gone'})`))].sort();
  const event: PagerDutyEvent = {
    event_action: 'trigger',
    dedup_key: dedupKey(workload.key),
    payload: {
      summary,
      source: workload.cluster,
      severity: severityOf(state),
      timestamp: workload.observedAt,
      component: `${workload.namespace}/${workload.subject}`,
      group: where,
      class: `certificate ${state ?? 'unhealthy'}`,
      custom_details: {
        cluster: workload.cluster,
        namespace: workload.namespace,
        workload: workload.subject,
        state,
        pods: pods.length > MAX_PODS ? [...pods.slice(0, MAX_PODS), `+${pods.length - MAX_PODS} more`] : pods,
        findings: workload.findings,
        diagnosis: workload.diagnosis,
        advice: workload.advice,
        ...(context.dashboardUrl ? { dashboard: context.dashboardUrl } : {}),
      },
    },
    client: 'mesh-cert-watch',
    ...(context.dashboardUrl ? { client_url: context.dashboardUrl } : {}),
  };
  return withinSize(event);
}

/**
 * The events for a digest: a trigger per workload whose incident gained pods, a resolve per
 * workload whose incident has no pod left. Without incident state (`notify-preview`), every
 * workload with a pod at an incident state triggers and every workload whose pods all left them
 * resolves.
 */
export function renderPagerDutyEvents(digest: Digest, context: RenderContext, incidentStates: readonly State[]): PagerDutyEvent[] {
  const events: PagerDutyEvent[] = [];
  for (const workload of mergeWorkloads(digest.workloads)) {
    const opened = workload.pods.filter((p) => p.state !== null && incidentStates.includes(p.state));
    const closed = workload.pods.filter((p) => !opened.includes(p) && p.previousState !== null && incidentStates.includes(p.previousState));
    const incident = context.incidents?.get(workload.key);
    const openAfter = incident ? incident.openAfter : opened.length;
    if (opened.length > 0) events.push(triggerEvent(workload, incidentStates, context));
    else if ((incident ? incident.closed.length > 0 : closed.length > 0) && openAfter === 0) events.push({ event_action: 'resolve', dedup_key: dedupKey(workload.key) });
  }
  return events;
}
