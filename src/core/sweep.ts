/**
 * The sweep: list injected pods, sample each one's Envoy secrets with bounded concurrency,
 * classify, and assemble the report. Pure orchestration over a `SweepSource` port, so the CLI,
 * the sampler Lambda, the demo and the tests all run the same code.
 */
import { agentsByNode, agentsSection, judgeTbotVersion, podAgentRef, type AgentPod } from './agents.js';
import { classifySecrets, unreachableVerdict } from './classify.js';
import type { ParsedSecrets } from './envoy-secrets.js';
import { PodGoneError, TimeoutError, describeError } from './errors.js';
import { previousOf, summarizeRotations, type PodObservation, type RenewalPolicy } from './history.js';
import type { PodListing, PodTarget } from './pods.js';
import { forEachConcurrent } from './retry.js';
import { compareByWorst, summarize } from './summary.js';
import { formatThresholds } from './threshold.js';
import { FINDINGS, type PodReport, type SweepReport, type Thresholds, type WorkloadRef } from './types.js';

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
}

export interface SweepHistory {
  /** Previous observations by pod uid (`indexSnapshot` of the last snapshot; empty on the first sweep). */
  readonly previous: ReadonlyMap<string, PodObservation>;
  readonly renewal: RenewalPolicy;
}

export async function runSweep(source: SweepSource, options: SweepOptions): Promise<SweepReport> {
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const now = options.now ?? startedAt;
  const pods: PodReport[] = [];
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
      const report = await judgePod(source, listing.target, options, now, nodeAgents ? await nodeAgents : undefined);
      if (report === 'gone') {
        skipped++;
        return;
      }
      pods.push(report);
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
    summary: summarize(pods, skipped),
    partial: stoppedByDeadline,
    ...(listError !== undefined ? { listError } : {}),
    ...(options.history ? { rotations: summarizeRotations(pods) } : {}),
    pods,
    ...(agents ? { agents: agentsSection(agents.agents, pods) } : {}),
    ...(agents?.error !== undefined ? { agentsError: agents.error } : {}),
  };
}

async function judgePod(
  source: SweepSource,
  target: PodTarget,
  options: SweepOptions,
  now: Date,
  nodeAgents: ReadonlyMap<string, AgentPod> | undefined,
): Promise<PodReport | 'gone'> {
  const [sampled, workload] = await Promise.all([
    source.sample(target).then(
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
    'secrets' in sampled
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
  };
}

function historyFor(uid: string, history: SweepHistory) {
  const observation = history.previous.get(uid);
  return { previous: observation ? previousOf(observation) : null, renewal: history.renewal };
}
