/**
 * The sweep: list injected pods, sample each one's Envoy secrets with bounded concurrency,
 * classify, and assemble the report. Pure orchestration over a `SweepSource` port, so the CLI,
 * the sampler Lambda, the demo and the tests all run the same code.
 */
import { agentsByNode, agentsSection, countServedPod, judgeTbotVersion, podAgentRef, type AgentPod, type AgentServedCounts } from './agents.js';
import { classifySecrets, unreachableVerdict } from './classify.js';
import type { ParsedSecrets } from './envoy-secrets.js';
import { PodGoneError, TimeoutError, describeError } from '../model/errors.js';
import { previousOf, RotationTally, type PodObservation, type RenewalPolicy } from './history.js';
import { dueReason, judgeFromObservation, type DuePolicy } from './due.js';
import type { PodListing, PodTarget } from '../model/pods.js';
import { forEachConcurrent } from '../model/retry.js';
import { compareByWorst } from './summary.js';
import { formatThresholds } from '../model/threshold.js';
import { FINDINGS, type PodReport, type State, type SweepReport, type Thresholds, type WorkloadRef } from '../model/types.js';

export interface SweepSource {
  /** Pods in the sweep's scope, page by page. May throw: then the whole sweep fails. */
  listPods(): AsyncIterable<PodListing>;
  /** Reads one pod's secrets; throws on any sampling failure (`PodGoneError` if it vanished). */
  sample(target: PodTarget): Promise<ParsedSecrets>;
  /** Top controller of the pod, or null for a bare pod. */
  resolveWorkload(target: PodTarget): Promise<WorkloadRef | null>;
  /**
   * The tbot agent pods (one list call per sweep). Optional: without it the report has no
   * `agents` section. A failure is reported (`agentsError`), never fatal to the sweep.
   */
  listAgents?(): Promise<readonly AgentPod[]>;
}

export interface SweepOptions {
  readonly cluster: string;
  readonly sweepId: string;
  readonly thresholds: Thresholds;
  readonly concurrency: number;
  /** Evaluation instant (`--now`); defaults to the sweep's start. */
  readonly now?: Date;
  /** Wall clock; injectable for tests. */
  readonly clock?: () => Date;
  /** Stop starting new samples at this instant and report a partial sweep. */
  readonly deadline?: Date;
  /** Called as each pod is judged (progress, streaming consumers). */
  readonly onPod?: (pod: PodReport) => void;
  /** Called when a resolvable problem is worked around (e.g. owner lookup failed). */
  readonly onWarning?: (message: string) => void;
  /**
   * Rotation history (docs/contract.md §8): each pod is compared with its previous observation
   * (by uid) and judged against its expected renewal point; the report gains `rotations`.
   */
  readonly history?: SweepHistory;
  /**
   * Which judged pods `report.pods` keeps (default: every pod). A caller that consumes pods as
   * they come (`onPod`: the CLI streams its report) keeps only what it still needs, so memory
   * does not grow with the cluster. `summary` and `rotations` always count every pod.
   */
  readonly retainPod?: (pod: PodReport) => boolean;
  /**
   * At most this many samples (exec streams) start per second, evenly spaced, whatever the
   * concurrency: a large cluster's API server and kubelets never see a burst of exec upgrades.
   * Default: unlimited (only `concurrency` bounds the sweep). See DEFAULT_MAX_EXEC_STARTS_PER_SECOND.
   */
  readonly maxStartsPerSecond?: number;
  /** Waits `ms` (the start pacing); injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export { DEFAULT_MAX_EXEC_STARTS_PER_SECOND } from './sampling-defaults.js';

/** Evenly spaced start slots, `perSecond` a second; each caller waits for its own slot. */
export function startPacer(perSecond: number, clock: () => Date, sleep: (ms: number) => Promise<void>): () => Promise<void> {
  const spacingMs = 1000 / perSecond;
  let nextSlot = -Infinity;
  return async () => {
    const now = clock().getTime();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + spacingMs;
    if (slot > now) await sleep(slot - now);
  };
}

/**
 * A clock that answers `first` once, then `clock`'s time: a caller that must know the sweep's
 * start (and so its `now`) before `runSweep` takes it, e.g. to print it or to build the next
 * snapshot as pods are judged, hands it over this way.
 */
export function clockStartingAt(first: Date, clock: () => Date = () => new Date()): () => Date {
  let used = false;
  return () => {
    if (used) return clock();
    used = true;
    return first;
  };
}

export interface SweepHistory {
  /** Previous observations by pod uid (`indexSnapshot` of the last snapshot; empty on the first sweep). */
  readonly previous: ReadonlyMap<string, PodObservation>;
  readonly renewal: RenewalPolicy;
  /**
   * Due-based sampling (due.ts, docs/contract.md §8.1): sample only the pods that are due and
   * judge the others from their last observation (`sampled: false` in the report). Absent: every
   * pod is sampled.
   */
  readonly due?: DuePolicy;
}

export async function runSweep(source: SweepSource, options: SweepOptions): Promise<SweepReport> {
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const now = options.now ?? startedAt;
  const pods: PodReport[] = [];
  // Tallied as pods are judged: the summary covers every pod whatever `retainPod` keeps.
  const rotations = options.history ? new RotationTally() : null;
  const counts: Record<State, number> = { healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 0 };
  // Counted as pods are judged, like the summary: the agents section needs no retained pods.
  const servedByAgent: AgentServedCounts = new Map();
  let sampled = 0;
  let fromHistory = 0;
  let skipped = 0;
  let stoppedByDeadline = false;
  // Listed while the first pod page loads; every pod waits for it before it is judged.
  const agentsListing: Promise<{ agents: readonly AgentPod[]; error?: string }> | undefined = source.listAgents?.().then(
    (agents) => ({ agents }),
    (error: unknown) => {
      const text = describeError(error);
      options.onWarning?.(`tbot agents: ${text}`);
      return { agents: [], error: text };
    },
  );
  const nodeAgents = agentsListing?.then(({ agents }) => agentsByNode(agents));
  const pastDeadline = (): boolean => {
    if (options.deadline && clock().getTime() >= options.deadline.getTime()) stoppedByDeadline = true;
    return stoppedByDeadline;
  };

  const paceStart =
    options.maxStartsPerSecond !== undefined && options.maxStartsPerSecond > 0
      ? startPacer(options.maxStartsPerSecond, () => new Date(), options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))
      : undefined;
  // A list request that times out (the API server stopped answering) ends listing: the pods
  // listed so far are judged and the sweep is partial; any other list failure fails the sweep.
  let listError: string | undefined;
  async function* listed(): AsyncGenerator<PodListing> {
    try {
      yield* source.listPods();
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      listError = describeError(error);
      stoppedByDeadline = true;
    }
  }

  await forEachConcurrent(
    listed(),
    options.concurrency,
    async (listing) => {
      if (listing.kind === 'skipped') {
        skipped++;
        return;
      }
      const observation = notDue(listing.target.uid, options.history, now, options.thresholds);
      if (paceStart && !observation) {
        await paceStart();
        if (pastDeadline()) return;
      }
      const report = await judgePod(source, listing.target, options, now, nodeAgents ? await nodeAgents : undefined, observation);
      if (report === 'gone') {
        skipped++;
        return;
      }
      sampled++;
      if (observation) fromHistory++;
      counts[report.state]++;
      countServedPod(servedByAgent, report);
      if (!options.retainPod || options.retainPod(report)) pods.push(report);
      rotations?.add(report);
      options.onPod?.(report);
    },
    pastDeadline,
  );

  pods.sort(compareByWorst);
  const agents = agentsListing ? await agentsListing : undefined;
  return {
    cluster: options.cluster,
    sweepId: options.sweepId,
    startedAt: startedAt.toISOString(),
    finishedAt: clock().toISOString(),
    now: now.toISOString(),
    thresholds: formatThresholds(options.thresholds),
    summary: { sampled, skipped, ...(options.history?.due ? { fromHistory } : {}), ...counts },
    partial: stoppedByDeadline,
    ...(listError !== undefined ? { listError } : {}),
    ...(rotations ? { rotations: rotations.summary() } : {}),
    pods,
    ...(agents ? { agents: agentsSection(agents.agents, servedByAgent) } : {}),
    ...(agents?.error !== undefined ? { agentsError: agents.error } : {}),
  };
}

async function judgePod(
  source: SweepSource,
  target: PodTarget,
  options: SweepOptions,
  now: Date,
  nodeAgents: ReadonlyMap<string, AgentPod> | undefined,
  observation: PodObservation | undefined,
): Promise<PodReport | 'gone'> {
  const [sampled, workload] = await Promise.all([
    observation
      ? { observation }
      : source.sample(target).then(
          (secrets) => ({ secrets }),
          (error: unknown) => ({ error }),
        ),
    source.resolveWorkload(target).catch((error: unknown) => {
      // The direct controller is still a true owner; the remediator re-reads the chain anyway.
      options.onWarning?.(`owner of ${target.namespace}/${target.name}: ${describeError(error)}`);
      const direct = target.ownerReferences.find((o) => o.controller);
      return direct ? { kind: direct.kind, name: direct.name } : null;
    }),
  ]);
  if ('error' in sampled && sampled.error instanceof PodGoneError) return 'gone';
  const verdict =
    'observation' in sampled
      ? judgeFromObservation(sampled.observation, {
          nowMs: now.getTime(),
          thresholds: options.thresholds,
          renewal: options.history!.renewal,
          workloadCertsBesideSocket: target.workloadCertsBesideSocket,
        })
      : 'secrets' in sampled
      ? classifySecrets(sampled.secrets, {
          now,
          thresholds: options.thresholds,
          pod: { namespace: target.namespace, serviceAccount: target.serviceAccount, workloadCertsBesideSocket: target.workloadCertsBesideSocket },
          ...(options.history ? { history: historyFor(target.uid, options.history) } : {}),
        })
      : unreachableVerdict(describeError(sampled.error));
  // tbot serves the pod when the dump says so, or (dump unreadable) when it mounts the CSI socket.
  const servedByTbot = verdict.source === 'tbot' || (verdict.source === 'unknown' && target.spiffeSocket === true);
  const agent = servedByTbot ? nodeAgents?.get(target.node) : undefined;
  let findings = verdict.findings;
  if (agent && verdict.state !== 'unreachable' && judgeTbotVersion(agent.version).bugs.length > 0) {
    const withOutdated = new Set([...findings, 'tbot-outdated' as const]);
    findings = FINDINGS.filter((finding) => withOutdated.has(finding));
  }
  return {
    namespace: target.namespace,
    name: target.name,
    uid: target.uid,
    serviceAccount: target.serviceAccount,
    node: target.node,
    workload,
    ...verdict,
    findings,
    ...(agent ? { agent: podAgentRef(agent) } : {}),
    ...(observation ? { sampled: false as const, sampledAt: observation.observedAt } : {}),
  };
}

/** The pod's last observation when due-based sampling lets it stand for this sweep, else undefined (sample it). */
function notDue(uid: string, history: SweepHistory | undefined, now: Date, thresholds: Thresholds): PodObservation | undefined {
  if (!history?.due) return undefined;
  const observation = history.previous.get(uid);
  const reason = dueReason(observation, { nowMs: now.getTime(), thresholds, renewal: history.renewal, policy: history.due });
  return reason === null ? observation : undefined;
}

function historyFor(uid: string, history: SweepHistory) {
  const observation = history.previous.get(uid);
  return { previous: observation ? previousOf(observation) : null, renewal: history.renewal };
}
