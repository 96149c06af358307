/**
 * Change detection between the findings ledger and a new sweep.
 *
 * Why: the remediator wants every unhealthy pod on every sweep (level-triggered, so a lost
 * event heals itself), while people want to hear only about changes (edge-triggered). The
 * ledger (one DynamoDB item per unhealthy pod) holds the last known state; this module turns
 * ledger + sweep into both kinds of events and the minimal ledger writes. Pure: no I/O.
 *
 * Ledger policy:
 * - only pods that are not `healthy` or have findings are stored, so a fleet of healthy pods
 *   costs nothing; a healthy pod seen for the first time yields no event and no write;
 * - `resolved` and `gone` delete the item. A pod uid never comes back once deleted from the
 *   API, so a tombstone would protect against nothing; deleting keeps `load()` small;
 * - unchanged pods are not rewritten, except to push `expiresAt` forward once less than half
 *   of the TTL remains. The TTL (default 7 days) is only a safety net for clusters that stop
 *   being swept (decommissioned, schedule removed): their items age out instead of lingering;
 * - `entry.observedAt`/`sweepId` record when the current state was first seen ("since").
 *
 * `gone` is declared only for ledger pods inside the swept namespace scope and only when the
 * sweep was not `partial`: absence from incomplete data proves nothing. "Gone" means no longer
 * among the sampled pods (deleted, or no longer Running); a restarted pod has a new uid.
 */
import { ConfigError } from '../model/errors.js';
import { AGENT_PODS_LIMIT, type AgentPodRef, type PodGoneDetail, type PodPresentChangeDetail, type PodStateChangedDetail, type PodUnhealthyDetail } from './events.js';
import { STATE_SEVERITY, type Finding, type PodReport, type State, type SweepReport, type WorkloadRef } from '../model/types.js';

export interface LedgerEntry {
  /** Pod uid (the item's sort key). */
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly state: State;
  readonly findings: readonly Finding[];
  readonly workload: WorkloadRef | null;
  /** When this state/findings combination was first observed. */
  readonly observedAt: string;
  /** The sweep that first observed it. */
  readonly sweepId: string;
  /** TTL, epoch seconds (DynamoDB TTL attribute); absent on items written without one. */
  readonly expiresAt?: number;
}

export type LedgerWrite = { readonly kind: 'put'; readonly entry: LedgerEntry } | { readonly kind: 'delete'; readonly uid: string };

/** What was swept: every namespace, only these, or every namespace except these. */
export type SweepScope = 'all' | readonly string[] | { readonly allExcept: readonly string[] };

export interface ChangeInput {
  readonly previous: readonly LedgerEntry[];
  readonly report: SweepReport;
  readonly scope: SweepScope;
  /**
   * Every pod uid the sweep judged, when `report.pods` keeps only some of them: the sampler keeps
   * the pods that need attention or have a ledger item, the only ones that can make an event or
   * a write. A ledger item whose pod is in neither is gone. Default: the uids of `report.pods`.
   */
  readonly judgedUids?: ReadonlySet<string>;
  /** Ledger item lifetime without refresh (default 7 days). */
  readonly ledgerTtlSeconds?: number;
}

export interface ChangeSet {
  /** `Pod Certificate Unhealthy` details, one per pod not healthy or with findings. */
  readonly unhealthy: readonly PodUnhealthyDetail[];
  /** `Pod Certificate State Changed` details. */
  readonly changes: readonly PodStateChangedDetail[];
  readonly writes: readonly LedgerWrite[];
}

export const DEFAULT_LEDGER_TTL_SECONDS = 7 * 24 * 3600;

/** A pod needs attention (and a ledger item) when it is not healthy or has findings. */
export function needsAttention(p: { readonly state: State; readonly findings: readonly Finding[] }): boolean {
  return p.state !== 'healthy' || p.findings.length > 0;
}

type Classified = 'opened' | 'worsened' | 'improved' | 'resolved' | 'unchanged' | 'ignored';

/**
 * How a pod moved from `prev` (ledger, possibly absent) to `cur`.
 * - first seen or previously fine, now needing attention: opened
 * - now healthy without findings: resolved (or ignored when there was nothing to resolve)
 * - higher severity, or same severity plus a new finding: worsened
 * - lower severity, or same severity with findings only removed: improved
 */
export function classifyChange(
  prev: { readonly state: State; readonly findings: readonly Finding[] } | undefined,
  cur: { readonly state: State; readonly findings: readonly Finding[] },
): Classified {
  const prevBad = prev !== undefined && needsAttention(prev);
  if (!needsAttention(cur)) return prevBad ? 'resolved' : 'ignored';
  if (!prev || !prevBad) return 'opened';
  const before = STATE_SEVERITY[prev.state];
  const after = STATE_SEVERITY[cur.state];
  if (after > before) return 'worsened';
  if (after < before) return 'improved';
  const previous = new Set(prev.findings);
  const current = new Set(cur.findings);
  if ([...current].some((f) => !previous.has(f))) return 'worsened';
  if ([...previous].some((f) => !current.has(f))) return 'improved';
  return 'unchanged';
}

function inScope(scope: SweepScope, namespace: string): boolean {
  if (scope === 'all') return true;
  if ('allExcept' in scope) return !scope.allExcept.includes(namespace);
  return scope.includes(namespace);
}

function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new ConfigError('report.now', `not an ISO timestamp: ${JSON.stringify(iso)}`);
  return Math.floor(ms / 1000);
}

export function computeChanges(input: ChangeInput): ChangeSet {
  const { report, scope } = input;
  const ttl = input.ledgerTtlSeconds ?? DEFAULT_LEDGER_TTL_SECONDS;
  const observedAt = report.now;
  const nowSeconds = epochSeconds(observedAt);
  const expiresAt = nowSeconds + ttl;
  const context = { cluster: report.cluster, sweepId: report.sweepId, observedAt };

  const ledger = new Map(input.previous.map((e) => [e.uid, e]));
  const seen = new Set<string>();
  const unhealthy: PodUnhealthyDetail[] = [];
  const changes: PodStateChangedDetail[] = [];
  const writes: LedgerWrite[] = [];

  const entryFor = (pod: PodReport): LedgerEntry => ({
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    state: pod.state,
    findings: [...pod.findings],
    workload: pod.workload,
    observedAt,
    sweepId: report.sweepId,
    expiresAt,
  });

  const byAgent = unhealthyPodsByAgent(report.pods);
  for (const pod of report.pods) {
    if (seen.has(pod.uid)) continue; // defensive: one verdict per pod uid
    seen.add(pod.uid);
    const prev = ledger.get(pod.uid);
    if (needsAttention(pod)) {
      const served = pod.agent ? byAgent.get(agentKeyOf(pod)) : undefined;
      unhealthy.push({
        ...pod,
        ...context,
        sweepSummary: report.summary,
        ...(served ? { agentPods: served.slice(0, AGENT_PODS_LIMIT), agentPodsTotal: served.length } : {}),
      });
    }

    const kind = classifyChange(prev, pod);
    switch (kind) {
      case 'ignored':
        // Fine now and not worth an item; drop a stray item of a pod that was fine before too.
        if (prev) writes.push({ kind: 'delete', uid: pod.uid });
        break;
      case 'unchanged':
        // Refresh the TTL only when less than half of it remains (rare writes).
        if (prev && (prev.expiresAt === undefined || prev.expiresAt - nowSeconds < ttl / 2)) {
          writes.push({ kind: 'put', entry: { ...prev, expiresAt } });
        }
        break;
      default: {
        const detail: PodPresentChangeDetail = {
          ...pod,
          ...context,
          previousState: prev?.state ?? null,
          previousFindings: prev ? [...prev.findings] : [],
          previousObservedAt: prev?.observedAt ?? null,
          change: kind,
        };
        changes.push(detail);
        writes.push(kind === 'resolved' ? { kind: 'delete', uid: pod.uid } : { kind: 'put', entry: entryFor(pod) });
      }
    }
  }

  if (!report.partial) {
    const judged = input.judgedUids ?? seen;
    const gone = input.previous
      .filter((e) => !seen.has(e.uid) && !judged.has(e.uid) && inScope(scope, e.namespace))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid));
    for (const entry of gone) {
      const detail: PodGoneDetail = {
        ...context,
        namespace: entry.namespace,
        name: entry.name,
        uid: entry.uid,
        workload: entry.workload,
        state: null,
        findings: [],
        previousState: entry.state,
        previousFindings: [...entry.findings],
        previousObservedAt: entry.observedAt,
        change: 'gone',
      };
      changes.push(detail);
      writes.push({ kind: 'delete', uid: entry.uid });
    }
  }

  return { unhealthy, changes, writes };
}

const agentKeyOf = (pod: PodReport): string => `${pod.node}\u0000${pod.agent?.pod ?? ''}`;

/**
 * The pods not healthy per serving tbot agent (node + agent pod), in report order: what one
 * restart of that agent would fix. One pass, so a sweep stays linear in pods.
 */
function unhealthyPodsByAgent(pods: readonly PodReport[]): Map<string, AgentPodRef[]> {
  const byAgent = new Map<string, AgentPodRef[]>();
  for (const pod of pods) {
    if (!pod.agent || pod.state === 'healthy') continue;
    const key = agentKeyOf(pod);
    const list = byAgent.get(key) ?? [];
    list.push({ namespace: pod.namespace, name: pod.name, state: pod.state, findings: [...pod.findings] });
    byAgent.set(key, list);
  }
  return byAgent;
}
