/**
 * The sweep: list injected pods, sample each one's Envoy secrets with bounded concurrency,
 * classify, and assemble the report. Pure orchestration over a `SweepSource` port, so the CLI,
 * the sampler Lambda, the demo and the tests all run the same code.
 */
import { classifySecrets, unreachableVerdict } from './classify.js';
import type { ParsedSecrets } from './envoy-secrets.js';
import { PodGoneError, TimeoutError, describeError } from './errors.js';
import { previousOf, summarizeRotations, type PodObservation, type RenewalPolicy } from './history.js';
import type { PodListing, PodTarget } from './pods.js';
import { forEachConcurrent } from './retry.js';
import { compareByWorst, summarize } from './summary.js';
import { formatThresholds } from './threshold.js';
import type { PodReport, SweepReport, Thresholds, WorkloadRef } from './types.js';

export interface SweepSource {
  /** Pods in the sweep's scope, page by page. May throw: then the whole sweep fails. */
  listPods(): AsyncIterable<PodListing>;
  /** Reads one pod's secrets; throws on any sampling failure (`PodGoneError` if it vanished). */
  sample(target: PodTarget): Promise<ParsedSecrets>;
  /** Top controller of the pod, or null for a bare pod. */
  resolveWorkload(target: PodTarget): Promise<WorkloadRef | null>;
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
      const report = await judgePod(source, listing.target, options, now);
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
  };
}

async function judgePod(source: SweepSource, target: PodTarget, options: SweepOptions, now: Date): Promise<PodReport | 'gone'> {
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
  return {
    namespace: target.namespace,
    name: target.name,
    uid: target.uid,
    serviceAccount: target.serviceAccount,
    node: target.node,
    workload,
    ...verdict,
  };
}

function historyFor(uid: string, history: SweepHistory) {
  const observation = history.previous.get(uid);
  return { previous: observation ? previousOf(observation) : null, renewal: history.renewal };
}
