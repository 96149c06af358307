/**
 * One scheduled sweep of one EKS cluster, end to end: connect, sample (runSweep), diff against
 * the findings ledger, publish the events, record the ledger changes, report `Sweep Completed`.
 * The sampler Lambda (lambda.ts) only wires AWS clients, logging and metrics around it; tests run
 * it against the Kubernetes API emulator, dynalite and a recording EventBridge sender.
 *
 * Order (each step's failure handling is the point of this module):
 * 1. the ledger is read once, while the cluster is being sampled;
 * 2. `Pod Certificate State Changed` events are published first; the ledger is then written only
 *    for pods whose change event was accepted (plus TTL refreshes and stray deletes, which have no
 *    event). A change whose event failed keeps its old ledger item, so the next sweep's diff
 *    emits it again instead of losing it;
 * 3. `Pod Certificate Unhealthy` events (level-triggered, each with the sweep's summary);
 * 4. `Sweep Completed` last, with the publish counts of 2-3 (`eventsPublished`/`eventsFailed`).
 *
 * A sweep that cannot run (cluster unreachable, API refused the list, ledger unusable) still
 * publishes `Sweep Completed` with `failed: true` and the error, then rethrows the typed error so
 * the invocation fails loudly. Pod events that fail after the publisher's retries are counted,
 * not thrown: the next sweep re-emits them. A `Sweep Completed` that cannot be published fails
 * the invocation.
 */
import { randomUUID } from 'node:crypto';
import type { SamplerRuntimeConfig } from '../config/runtime.js';
import { computeChanges, needsAttention, type LedgerEntry, type LedgerWrite, type SweepScope } from '../core/events/changes.js';
import { ConfigError, MeshCertWatchError, describeError } from '../core/model/errors.js';
import {
  buildSweepCompletedDetail,
  buildSweepFailedDetail,
  POD_CERTIFICATE_STATE_CHANGED,
  POD_CERTIFICATE_UNHEALTHY,
  SWEEP_COMPLETED,
  type EventDraft,
  type PodStateChangedDetail,
  type PodUnhealthyDetail,
  type SweepCompletedDetail,
  type SweepErrorItem,
} from '../core/events/events.js';
import { indexSnapshot, SnapshotCollector, type PodObservation } from '../core/judgement/history.js';
import { DEFAULT_MAX_EXEC_STARTS_PER_SECOND, clockStartingAt, runSweep } from '../core/judgement/sweep.js';
import type { SweepReport } from '../core/model/types.js';
import { DEFAULT_SAMPLER_OPTIONS } from '../kube/envoy-sampler.js';
import { kubeSweepSource } from '../kube/kube-sweep.js';
import type { ListOptions } from '../kube/pod-discovery.js';
import type { KubeClientFactory } from '../ports/clusters.js';
import type { EventSink, PublishFailure } from '../ports/events.js';
import type { FindingsLedger } from '../ports/findings-ledger.js';
import type { RotationHistoryStore } from '../ports/rotation-history.js';
import { PodFiguresTally, type PodFigures } from './metrics.js';

/** One entry of `samplerRuntimeConfig.clusters` (thresholds already parsed). */
export type SamplerClusterConfig = SamplerRuntimeConfig['clusters'][number];

export interface NamespaceSelection {
  /** What to list and drop before sampling. */
  readonly list: Pick<ListOptions, 'namespaces' | 'excludeNamespaces'>;
  /** What was swept, for the `gone` rule of computeChanges. */
  readonly scope: SweepScope;
}

/**
 * Turns `namespaces: {include, exclude}` into list options and the matching change scope.
 * Empty `include` = every namespace (listed cluster-wide, `exclude` dropped before sampling);
 * `exclude` wins over `include`. An `include` that `exclude` empties entirely is refused: an
 * empty namespace list would otherwise mean "all namespaces".
 */
export function namespaceSelection(namespaces: { readonly include: readonly string[]; readonly exclude: readonly string[] }, setting = 'namespaces'): NamespaceSelection {
  const exclude = [...new Set(namespaces.exclude)];
  if (namespaces.include.length === 0) {
    return exclude.length === 0
      ? { list: {}, scope: 'all' }
      : { list: { excludeNamespaces: exclude }, scope: { allExcept: exclude } };
  }
  const include = [...new Set(namespaces.include)].filter((ns) => !exclude.includes(ns));
  if (include.length === 0) throw new ConfigError(`${setting}.include`, 'every included namespace is also excluded: nothing would be swept');
  return { list: { namespaces: include }, scope: include };
}

export interface SweepClusterRequest {
  readonly cluster: SamplerClusterConfig;
  /** Default: a random UUID. The Lambda passes its own so every log line carries it. */
  readonly sweepId?: string;
  /** Stop starting new samples at this instant; the sweep is then `partial`. */
  readonly deadline?: Date;
  /**
   * No Kubernetes request (list, get, exec) runs past this wall-clock instant, so a hung API
   * server cannot hold the sweep past its publishing time. Default: `deadline` plus two sample
   * timeouts (an exec pair started just before `deadline`).
   */
  readonly requestDeadline?: Date;
}

export interface SweepClusterDependencies {
  readonly kubeClientFor: KubeClientFactory;
  readonly ledger: FindingsLedger;
  /**
   * Rotation history (docs/contract.md §8): the newest snapshot of the cluster is read before
   * sampling and this sweep's snapshot written after it. Absent: each sweep is judged alone.
   */
  readonly history?: RotationHistoryStore;
  /** Where the sweep's events go (EventBridge in AWS). */
  readonly events: EventSink;
  readonly clock?: () => Date;
  /** Ledger item lifetime without refresh (computeChanges' default: 7 days). */
  readonly ledgerTtlSeconds?: number;
  /** Problems worked around during sampling (e.g. an owner lookup failed). */
  readonly onWarning?: (message: string) => void;
  /**
   * Exec streams started per second at most (evenly spaced), so a large cluster is never flooded.
   * Overrides the cluster's `maxExecStartsPerSecond` (default DEFAULT_MAX_EXEC_STARTS_PER_SECOND,
   * 50, see there); 0 = unlimited.
   */
  readonly maxExecStartsPerSecond?: number;
  /**
   * Keep every judged pod's report in `outcome.report.pods` (the demo draws them all). Otherwise
   * only the pods that need attention or have a ledger item are kept, the only ones an event or a
   * ledger write can come from: the metrics, the rotation summary and the next snapshot are
   * tallied as pods are judged, so memory does not hold a report per pod of the cluster.
   * @default true (the sampler Lambda sets false)
   */
  readonly keepEveryPod?: boolean;
  /**
   * Called exactly once per sweep, after `Sweep Completed` was published (or refused), also for
   * failed sweeps and before their error is rethrown: metrics and the summary log line hang here.
   */
  readonly onSweepCompleted?: (outcome: SweepOutcome) => void;
}

export interface EventsOutcome {
  /** Entries accepted by EventBridge. */
  readonly published: number;
  /** Entries that still failed after the publisher's retries. */
  readonly failed: readonly PublishFailure[];
}

export interface SweepOutcome {
  readonly cluster: string;
  readonly sweepId: string;
  /**
   * The sampling result; null when the sweep failed before it had one. `pods` holds every judged
   * pod with `keepEveryPod`, else the ones that need attention or had a ledger item.
   */
  readonly report: SweepReport | null;
  /** What the metrics need from every judged pod; absent when there is no report. */
  readonly figures?: PodFigures;
  /** The `Sweep Completed` detail (before any trimming by the publisher). */
  readonly completed: SweepCompletedDetail;
  readonly completedPublished: boolean;
  /** Why EventBridge refused `Sweep Completed`, when it did. */
  readonly completedFailure?: PublishFailure;
  /** `Pod Certificate State Changed` events of this sweep. */
  readonly changes: EventsOutcome;
  /** `Pod Certificate Unhealthy` events of this sweep. */
  readonly unhealthy: EventsOutcome;
  /** The state changes this sweep found (published or not; empty without a usable ledger). */
  readonly stateChanges?: readonly PodStateChangedDetail[];
  /** Entries of this sweep published / still failed after retries, `Sweep Completed` included. */
  readonly events: { readonly published: number; readonly failed: number };
  /** Ledger writes applied (0 when the ledger was not usable). */
  readonly ledgerWrites: number;
  /** Rotation history: whether the previous snapshot was read and this sweep's written (absent without a store). */
  readonly history?: { readonly loaded: boolean; readonly saved: boolean };
  /** Why the sweep failed (then also thrown); absent for a sweep that ran to the end. */
  readonly error?: unknown;
}

const NO_EVENTS: EventsOutcome = { published: 0, failed: [] };

function writeUid(write: LedgerWrite): string {
  return write.kind === 'put' ? write.entry.uid : write.uid;
}

async function publish(deps: SweepClusterDependencies, drafts: readonly EventDraft[]): Promise<EventsOutcome> {
  if (drafts.length === 0) return NO_EVENTS;
  return deps.events.publish(drafts);
}

/**
 * Sweeps `request.cluster` and publishes its events. Resolves with the outcome of a sweep that ran
 * to the end (possibly `partial`); rejects with the typed error of one that could not, after its
 * `Sweep Completed` (`failed: true`) went out.
 */
export async function sweepCluster(request: SweepClusterRequest, deps: SweepClusterDependencies): Promise<SweepOutcome> {
  const clock = deps.clock ?? (() => new Date());
  const { cluster } = request;
  const sweepId = request.sweepId ?? randomUUID();
  const startedAt = clock();
  const selection = namespaceSelection(cluster.namespaces, `clusters[${cluster.name}].namespaces`);

  // Read once, while the cluster is sampled; a failure is handled after the sweep.
  const previousLoad = deps.ledger.load(cluster.name);
  previousLoad.catch(() => undefined);

  // The previous snapshot is needed to judge pods, so it is read before sampling (one LIST and
  // one GET). A history that cannot be read is not guessed at: the sweep judges without it
  // (every pod as first seen) and says so in its errors; its own snapshot still gets written.
  let historyError: unknown;
  let previousObservations: ReadonlyMap<string, PodObservation> = new Map();
  let historyLoaded = false;
  if (deps.history) {
    try {
      previousObservations = indexSnapshot(await deps.history.load(cluster.name));
      historyLoaded = true;
    } catch (error) {
      historyError = error;
      deps.onWarning?.(`rotation history not read, judging without it: ${describeError(error)}`);
    }
  }

  // Without `keepEveryPod` only the reports an event or a ledger write can come from are kept:
  // which pods have a ledger item must then be known before they are judged.
  const keepEveryPod = deps.keepEveryPod ?? true;
  const ledgerUids = keepEveryPod ? null : await previousLoad.then((entries) => new Set(entries.map((entry) => entry.uid)), () => new Set<string>());
  const judgedUids = new Set<string>();
  const figures = new PodFiguresTally();
  // The sweep's `now`, known before it starts: the next snapshot is built as pods are judged.
  const sweepStartedAt = clock();
  const snapshot = deps.history ? new SnapshotCollector(previousObservations, sweepStartedAt.toISOString()) : null;

  let report: SweepReport;
  try {
    // `deadline` is on the injected clock, request deadlines on the wall clock (timers run on it).
    const requestDeadline =
      request.requestDeadline ??
      (request.deadline ? new Date(Date.now() + request.deadline.getTime() - startedAt.getTime() + 2 * cluster.sampleTimeoutSeconds * 1000) : undefined);
    const client = (await deps.kubeClientFor(cluster)).withDeadline(requestDeadline);
    const source = kubeSweepSource(client, {
      ...selection.list,
      sampler: { ...DEFAULT_SAMPLER_OPTIONS, timeoutMs: cluster.sampleTimeoutSeconds * 1000 },
      tbotAgents: cluster.tbot,
    });
    report = await runSweep(source, {
      cluster: cluster.name,
      sweepId,
      thresholds: cluster.thresholds,
      concurrency: cluster.concurrency,
      clock: clockStartingAt(sweepStartedAt, clock),
      maxStartsPerSecond: deps.maxExecStartsPerSecond ?? cluster.maxExecStartsPerSecond ?? DEFAULT_MAX_EXEC_STARTS_PER_SECOND,
      ...(request.deadline ? { deadline: request.deadline } : {}),
      ...(deps.onWarning ? { onWarning: deps.onWarning } : {}),
      ...(ledgerUids ? { retainPod: (pod) => needsAttention(pod) || ledgerUids.has(pod.uid) } : {}),
      onPod: (pod) => {
        judgedUids.add(pod.uid);
        figures.add(pod);
        snapshot?.add(pod);
      },
      // Due-based sampling needs a history that was read: without one every pod is sampled.
      ...(deps.history
        ? {
            history: {
              previous: previousObservations,
              renewal: cluster.rotation,
              ...(historyLoaded && cluster.sampling.maxObservationAgeSeconds > 0 ? { due: { maxObservationAgeSeconds: cluster.sampling.maxObservationAgeSeconds } } : {}),
            },
          }
        : {}),
    });
  } catch (error) {
    const completed = buildSweepFailedDetail({
      cluster: cluster.name,
      sweepId,
      startedAt: startedAt.toISOString(),
      finishedAt: clock().toISOString(),
      error: describeError(error),
    });
    return finish(deps, { cluster: cluster.name, sweepId, report: null, completed, changes: NO_EVENTS, unhealthy: NO_EVENTS, ledgerWrites: 0, error });
  }

  let ledgerError: unknown;
  let previous: readonly LedgerEntry[] | undefined;
  try {
    previous = await previousLoad;
  } catch (error) {
    ledgerError = error;
  }
  const changeSet = computeChanges({
    previous: previous ?? [],
    report,
    scope: selection.scope,
    judgedUids,
    ...(deps.ledgerTtlSeconds !== undefined ? { ledgerTtlSeconds: deps.ledgerTtlSeconds } : {}),
  });
  let changes = NO_EVENTS;
  let ledgerWrites = 0;
  // Without the previous state there is no trustworthy change to announce; the level-triggered
  // Unhealthy events below do not depend on it, so the remediator still hears about every pod.
  if (previous !== undefined) {
    changes = await publish(deps, changeSet.changes.map((detail: PodStateChangedDetail) => ({ detailType: POD_CERTIFICATE_STATE_CHANGED, detail })));
    const unpublished = new Set(changes.failed.map((failure) => changeSet.changes[failure.index]!.uid));
    const writes = changeSet.writes.filter((write) => !unpublished.has(writeUid(write)));
    try {
      await deps.ledger.apply(cluster.name, writes);
      ledgerWrites = writes.length;
    } catch (error) {
      ledgerError = error;
    }
  }

  const unhealthy = await publish(deps, changeSet.unhealthy.map((detail: PodUnhealthyDetail) => ({ detailType: POD_CERTIFICATE_UNHEALTHY, detail })));

  let historySaved = false;
  if (deps.history && snapshot) {
    try {
      await deps.history.save(snapshot.snapshot({ cluster: cluster.name, sweepId, partial: report.partial }));
      historySaved = true;
    } catch (error) {
      // The next sweep then compares with the last snapshot that was written: detection is
      // delayed, never wrong. Reported in Sweep Completed and the log, not thrown.
      historyError ??= error;
      deps.onWarning?.(`rotation history not written: ${describeError(error)}`);
    }
  }

  const sweepErrors: SweepErrorItem[] = [
    ...(report.listError === undefined ? [] : [{ namespace: null, name: null, error: `pod list stopped early: ${report.listError}` }]),
    ...(ledgerError === undefined ? [] : [{ namespace: null, name: null, error: `findings ledger: ${describeError(ledgerError)}` }]),
    ...(historyError === undefined ? [] : [{ namespace: null, name: null, error: historyErrorText(historyError) }]),
  ];
  const completed = buildSweepCompletedDetail(
    // Duration up to this event: sampling, ledger and pod events included.
    { ...report, finishedAt: clock().toISOString() },
    {
      failed: ledgerError !== undefined,
      sweepErrors,
      events: {
        published: changes.published + unhealthy.published,
        failed: changes.failed.length + unhealthy.failed.length,
      },
    },
  );
  return finish(deps, {
    cluster: cluster.name,
    sweepId,
    report,
    figures: figures.figures(),
    completed,
    changes,
    unhealthy,
    stateChanges: previous !== undefined ? changeSet.changes : [],
    ledgerWrites,
    ...(deps.history ? { history: { loaded: historyLoaded, saved: historySaved } } : {}),
    ...(ledgerError !== undefined ? { error: ledgerError } : {}),
  });
}

type PartialOutcome = Omit<SweepOutcome, 'completedPublished' | 'completedFailure' | 'events'>;

/** Publishes `Sweep Completed`, reports the outcome, and throws what must fail the invocation. */
async function finish(deps: SweepClusterDependencies, partial: PartialOutcome): Promise<SweepOutcome> {
  const result = await publish(deps, [{ detailType: SWEEP_COMPLETED, detail: partial.completed }]);
  const refused = result.failed[0];
  const outcome: SweepOutcome = {
    ...partial,
    completedPublished: refused === undefined,
    ...(refused ? { completedFailure: refused } : {}),
    events: {
      published: partial.changes.published + partial.unhealthy.published + result.published,
      failed: partial.changes.failed.length + partial.unhealthy.failed.length + result.failed.length,
    },
  };
  deps.onSweepCompleted?.(outcome);
  if ('error' in partial) throw partial.error;
  if (refused) {
    throw new MeshCertWatchError(
      'AWS',
      `Sweep Completed of ${partial.cluster} (sweep ${partial.sweepId}) was not published: ${refused.errorCode}: ${refused.errorMessage}`,
    );
  }
  return outcome;
}

function historyErrorText(error: unknown): string {
  const text = describeError(error);
  return text.startsWith('rotation history') ? text : `rotation history: ${text}`;
}
