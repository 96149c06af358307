/**
 * The EventBridge contract of mesh-cert-watch: source, detail-type names, the enumerations the
 * details use, the detail types (inferred from the zod schemas in ./schemas.ts, the one source of
 * the contract), the `Sweep Completed` builder and `fitDetail`, which makes a detail fit the
 * PutEvents entry limit. Constants live here, free of zod, so code that only needs the names does
 * not load it.
 *
 * Why here (pure core): rules, the remediator, the notifier and the published JSON schemas all
 * depend on these shapes; keeping them free of SDK code lets the CLI, tests and Lambdas share
 * one definition. Detail-type names are public contracts (docs/contract.md §5 "Events"): never rename.
 *
 * Oversized details are trimmed (diagnostic fields first) and flagged `truncated: true`; one
 * event is never split into several.
 */
import type * as z from 'zod';
import type { DeepReadonly, Summary, SweepReport } from '../model/types.js';
import type {
  AgentPodRefSchema,
  AgentRestartDetailSchema,
  PodEventDetailSchema,
  PodGoneDetailSchema,
  PodPresentChangeDetailSchema,
  PodUnhealthyDetailSchema,
  SweepCompletedDetailSchema,
  SweepErrorItemSchema,
  SweepJsonReportSchema,
  WorkloadRestartDetailSchema,
} from './schemas.js';
import { cleanText } from '../model/scrub.js';

export const EVENT_SOURCE = 'mesh-cert-watch';

/** At most this many pods in `Pod Certificate Unhealthy.agentPods` (a node runs about 110 pods; the event stays small). */
export const AGENT_PODS_LIMIT = 100;

export const POD_CERTIFICATE_UNHEALTHY = 'Pod Certificate Unhealthy';
export const POD_CERTIFICATE_STATE_CHANGED = 'Pod Certificate State Changed';
export const SWEEP_COMPLETED = 'Sweep Completed';
export const WORKLOAD_RESTART = 'Workload Restart';
/** The remediator restarted (or would, or did not) a node's tbot agent: docs/contract.md §7.1. */
export const AGENT_RESTART = 'Agent Restart';

export const DETAIL_TYPES = [POD_CERTIFICATE_UNHEALTHY, POD_CERTIFICATE_STATE_CHANGED, SWEEP_COMPLETED, WORKLOAD_RESTART, AGENT_RESTART] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

/** PutEvents limit for one entry and for the sum of a request's entries (256 KiB). */
export const MAX_EVENT_ENTRY_BYTES = 256 * 1024;

export const CHANGES = ['opened', 'worsened', 'improved', 'resolved', 'gone'] as const;
export type Change = (typeof CHANGES)[number];
/** The changes of a pod that is still sampled (`gone` is the one without a current observation). */
export const PRESENT_CHANGES = ['opened', 'worsened', 'improved', 'resolved'] as const satisfies readonly Change[];

export const RESTART_OUTCOMES = ['restarted', 'skipped', 'dry-run', 'failed'] as const;
export type RestartOutcome = (typeof RESTART_OUTCOMES)[number];

/** What a workload restart does: a rollout restart, or (bare pods, opted in) deleting the pod. */
export const RESTART_ACTIONS = ['rollout-restart', 'delete-pod'] as const;
export type RestartAction = (typeof RESTART_ACTIONS)[number];

/** `mesh-cert-watch.io/policy` values, and where the effective one was read. */
export const WORKLOAD_POLICIES = ['restart', 'alert', 'ignore'] as const;
export type WorkloadPolicy = (typeof WORKLOAD_POLICIES)[number];
export const POLICY_SOURCES = ['workload', 'pod', 'namespace', 'default'] as const;
export type PolicySource = (typeof POLICY_SOURCES)[number];

// The detail types are inferred from the zod schemas in ./schemas.ts (the one contract source).

/** The per-pod object of the sweep report, plus where and when it was observed (`truncated` when `fitDetail` trimmed it). */
export type PodEventDetail = DeepReadonly<z.output<typeof PodEventDetailSchema>>;

/**
 * `Pod Certificate Unhealthy`: the pod plus `sweepSummary`, the counts of the sweep that observed
 * it. The remediator's breaker reads it (many unhealthy pods at once = an issuer outage, not
 * something restarts fix) and refuses to act on an event without it.
 */
export type PodUnhealthyDetail = DeepReadonly<z.output<typeof PodUnhealthyDetailSchema>>;

/** One pod served by a tbot agent, as `Pod Certificate Unhealthy.agentPods` and `Agent Restart.pods` list it. */
export type AgentPodRef = DeepReadonly<z.output<typeof AgentPodRefSchema>>;

/** A pod that is still sampled: the full per-pod object. */
export type PodPresentChangeDetail = DeepReadonly<z.output<typeof PodPresentChangeDetailSchema>>;

/**
 * A pod that left the sweep (deleted, or no longer Running): only what the ledger knows.
 * `state` is null and `findings` empty: there is no current observation.
 */
export type PodGoneDetail = DeepReadonly<z.output<typeof PodGoneDetailSchema>>;

export type PodStateChangedDetail = PodPresentChangeDetail | PodGoneDetail;

export type SweepErrorItem = DeepReadonly<z.output<typeof SweepErrorItemSchema>>;

export type SweepCompletedDetail = DeepReadonly<z.output<typeof SweepCompletedDetailSchema>>;

/** `Workload Restart`: the contract's fields (the remediator's RemediationDetail makes its extras required). */
export type WorkloadRestartDetail = DeepReadonly<z.output<typeof WorkloadRestartDetailSchema>>;

/** `Agent Restart`: the contract's fields (the remediator's AgentRestartDetail makes its extras required). */
export type AgentRestartEventDetail = DeepReadonly<z.output<typeof AgentRestartDetailSchema>>;

/** The JSON report of `sweep --output json`. */
export type SweepJsonReport = DeepReadonly<z.output<typeof SweepJsonReportSchema>>;

export interface DetailByType {
  [POD_CERTIFICATE_UNHEALTHY]: PodUnhealthyDetail;
  [POD_CERTIFICATE_STATE_CHANGED]: PodStateChangedDetail;
  [SWEEP_COMPLETED]: SweepCompletedDetail;
  [WORKLOAD_RESTART]: WorkloadRestartDetail;
  [AGENT_RESTART]: AgentRestartEventDetail;
}

/** One event to publish; the adapter adds Source, the bus and serialises the detail. */
export type EventDraft = {
  [K in DetailType]: { readonly detailType: K; readonly detail: DetailByType[K]; readonly resources?: readonly string[] };
}[DetailType];

const ZERO_SUMMARY: Summary = {
  sampled: 0,
  skipped: 0,
  healthy: 0,
  stale: 0,
  expiring: 0,
  expired: 0,
  missing: 0,
  unreachable: 0,
};

export interface SweepCompletedOptions {
  /** Errors that belong to no sampled pod (e.g. a namespace could not be listed); listed first. */
  readonly sweepErrors?: readonly SweepErrorItem[];
  /** The sweep stopped for a reason other than the deadline. */
  readonly failed?: boolean;
  /** Keep at most this many errors (default 50). */
  readonly maxErrors?: number;
  /** Shorten each error message to this many characters (default 500). */
  readonly maxErrorLength?: number;
  /** Publish results of this sweep's pod events, when known. */
  readonly events?: { readonly published: number; readonly failed: number };
}

function durationMs(startedAt: string, finishedAt: string): number {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

export function buildSweepCompletedDetail(report: SweepReport, options: SweepCompletedOptions = {}): SweepCompletedDetail {
  const maxErrors = options.maxErrors ?? 50;
  const maxLength = options.maxErrorLength ?? 500;
  const all: SweepErrorItem[] = [
    ...(options.sweepErrors ?? []),
    ...report.pods.flatMap((p) => (p.error === undefined ? [] : [{ namespace: p.namespace, name: p.name, error: p.error }])),
  ];
  const errors = all.slice(0, maxErrors).map((e) => ({ ...e, error: shorten(cleanText(e.error), maxLength) }));
  const trimmed = all.length > errors.length || errors.some((e, i) => e.error !== all[i]?.error);
  return {
    cluster: report.cluster,
    sweepId: report.sweepId,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: durationMs(report.startedAt, report.finishedAt),
    partial: report.partial,
    failed: options.failed ?? false,
    summary: report.summary,
    thresholds: report.thresholds,
    errors,
    errorsTotal: all.length,
    ...(options.events ? { eventsPublished: options.events.published, eventsFailed: options.events.failed } : {}),
    ...(report.rotations ? { rotations: report.rotations } : {}),
    ...(trimmed ? { truncated: true as const } : {}),
  };
}

/** `Sweep Completed` for a sweep that could not run at all (e.g. the cluster was unreachable). */
export function buildSweepFailedDetail(input: {
  readonly cluster: string;
  readonly sweepId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly error: string;
}): SweepCompletedDetail {
  return {
    cluster: input.cluster,
    sweepId: input.sweepId,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    durationMs: durationMs(input.startedAt, input.finishedAt),
    partial: false,
    failed: true,
    summary: ZERO_SUMMARY,
    thresholds: null,
    errors: [{ namespace: null, name: null, error: shorten(cleanText(input.error), 2000) }],
    errorsTotal: 1,
  };
}

/** UTF-8 byte length (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Bytes of a detail as PutEvents counts it (its JSON text). */
export function detailBytes(detail: unknown): number {
  return utf8Length(JSON.stringify(detail));
}

const ELLIPSIS = '…';

/** Shorten to at most `max` UTF-16 units (ellipsis included), never splitting a surrogate pair. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - ELLIPSIS.length));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `default` and `ROOTCA` (or their file-mounted stand-ins) are what the verdict is about; keep them first when trimming secrets. */
function secretRank(secret: Json): number {
  const name = isObject(secret) ? secret.name : undefined;
  if (name === 'default' || (typeof name === 'string' && name.startsWith('file-cert:'))) return 0;
  return name === 'ROOTCA' || (typeof name === 'string' && name.startsWith('file-root:')) ? 1 : 2;
}

function keepSecrets(detail: JsonObject, n: number): void {
  const secrets = detail.secrets;
  if (!Array.isArray(secrets) || secrets.length <= n) return;
  detail.secrets = [...secrets].sort((a, b) => secretRank(a) - secretRank(b)).slice(0, n);
}

function shortenField(holder: Json | undefined, key: string, max: number): void {
  if (isObject(holder) && typeof holder[key] === 'string') holder[key] = shorten(holder[key], max);
}

/** Fields that identify the event's subject or drive rules: never shortened. */
const PROTECTED_KEYS = new Set([
  'cluster', 'sweepId', 'namespace', 'name', 'uid', 'kind', 'state', 'findings', 'change', 'previousState',
  'previousFindings', 'observedAt', 'previousObservedAt', 'startedAt', 'finishedAt', 'at', 'triggeredBy', 'outcome',
]);

function shortenAllStrings(value: Json, max: number): Json {
  if (typeof value === 'string') return shorten(value, max);
  if (Array.isArray(value)) return value.map((v) => shortenAllStrings(v, max));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, PROTECTED_KEYS.has(k) ? v : shortenAllStrings(v, max)]));
  }
  return value;
}

/** Trimming steps, least informative first. Each mutates the working copy. */
const STEPS: readonly ((d: JsonObject) => void)[] = [
  (d) => keepSecrets(d, 4),
  (d) => shortenField(d, 'error', 1000),
  (d) => {
    if (Array.isArray(d.errors)) for (const e of d.errors) shortenField(e, 'error', 200);
  },
  (d) => keepSecrets(d, 2),
  (d) => shortenField(d, 'reason', 1000),
  (d) => {
    if (Array.isArray(d.secrets)) for (const s of d.secrets) shortenField(s, 'versionInfo', 100);
  },
  (d) => keepSecrets(d, 0),
  (d) => shortenField(d, 'error', 200),
];

/** Halve an array field until the detail fits (keeps the first items: reports put the worst first). */
function halveUntilFits(d: JsonObject, key: string, maxBytes: number): void {
  const list = d[key];
  if (!Array.isArray(list)) return;
  let keep = list.length;
  while (keep > 0 && detailBytes(d) > maxBytes) {
    keep = Math.floor(keep / 2);
    d[key] = list.slice(0, keep);
  }
}

/**
 * Returns `detail` unchanged when its JSON fits in `maxBytes`, otherwise a trimmed copy with
 * `truncated: true`: secrets beyond the first few (`default`/`ROOTCA` kept longest), long error
 * texts, then list tails (`errors`, `agentPods`, `pods`), then any long string. Identity fields (cluster,
 * namespace, name, uid, state, findings, change...) are never removed. The result can still
 * exceed `maxBytes` if those alone do; callers must check (`detailBytes`) and report it.
 */
export function fitDetail<T extends object>(detail: T, maxBytes: number): T {
  if (detailBytes(detail) <= maxBytes) return detail;
  const work = JSON.parse(JSON.stringify(detail)) as JsonObject;
  work.truncated = true;
  const fits = (): boolean => detailBytes(work) <= maxBytes;
  for (const step of STEPS) {
    step(work);
    if (fits()) return work as T;
  }
  halveUntilFits(work, 'errors', maxBytes);
  if (fits()) return work as T;
  halveUntilFits(work, 'agentPods', maxBytes);
  if (fits()) return work as T;
  halveUntilFits(work, 'pods', maxBytes);
  if (fits()) return work as T;
  let last = work;
  for (const max of [256, 64]) {
    last = shortenAllStrings(work, max) as JsonObject;
    if (detailBytes(last) <= maxBytes) break;
  }
  return last as T;
}
