/**
 * Due-based sampling in the sampler engine (sweepCluster, as the Lambda runs it) over the
 * Kubernetes API emulator with a fake clock (no sleeping): the same 95 minutes of a mesh, swept
 * every 5 minutes, once with the deployment's default (due-based, max observation age 20 min) and
 * once sampling every pod. Healthy tbot pods renew every 20 min (tbot's timer, a few seconds of
 * issuance latency), Istio-agent pods at about half their 1 h life, and one tbot pod has the
 * "renewed SVID not pushed" failure (it re-sends its cached leaf every renewal interval), one
 * tbot pod stopped being pushed at all.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClientFactory } from '../../src/ports/clusters.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';
import { parseDeploymentConfig } from '../../src/config/deployment.js';
import { samplerRuntimeInput } from '../../src/config/runtime-configs.js';
import { parseRuntimeConfig, samplerRuntimeConfig } from '../../src/config/runtime.js';
import type { HistorySnapshot } from '../../src/core/judgement/history.js';
import { spreadSlotMs, uidPhase } from '../../src/core/judgement/due.js';
import type { PodReport } from '../../src/core/model/types.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { MemoryHistoryStore } from '../../src/sandbox/emulator/memory-history.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { createMeshPki, sidecarSecrets, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { rotationMetrics, sweepMetrics } from '../../src/sampler/metrics.js';
import { needsAttention } from '../../src/core/events/changes.js';
import { sweepCluster, type SweepOutcome } from '../../src/sampler/sweep-cluster.js';
import { recordingEventBridge, schemaErrors } from './kit.js';
import { MemoryLedger } from '../../src/sandbox/emulator/memory-ledger.js';

const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const MINUTE = 60_000;
const SWEEPS = 20;

interface SimulatedPod {
  readonly name: string;
  readonly pod: KubeObject;
  readonly servedBy: 'tbot' | 'istio-agent';
  /** Minutes from a leaf's issue to the next one; null: never rotates. */
  readonly renewAfterMinutes: number | null;
  /** Minutes between pushes (tbot re-sends every renewal interval); null: no pushes. */
  readonly pushEveryMinutes: number | null;
  readonly firstIssuedAt: number;
}

interface PodState {
  issuedAt: number;
  pushedAt: number;
  leaf: IssuedLeaf | null;
}

let emulator: KubeApiEmulator;
let pki: MeshPki;
let pods: SimulatedPod[];

beforeAll(async () => {
  emulator = await startKubeApiEmulator({ recordRequests: false });
  pki = await createMeshPki('example.org');
  const mesh = new Mesh(emulator, { startTime: new Date(T0 - 600 * MINUTE) });
  mesh.addNamespace('shop');
  // Leaves issued at spread phases; tbot's next leaf comes 20 min after the previous one plus a few seconds.
  const tbot = mesh.addDeployment('shop', 'carts', { replicas: 8 }).pods.map((pod, i) => ({
    name: pod.metadata.name,
    pod,
    servedBy: 'tbot' as const,
    renewAfterMinutes: 20 + (i % 3) * 0.1,
    pushEveryMinutes: 20 + (i % 3) * 0.1,
    firstIssuedAt: T0 - (i * 2.5 + 0.5) * MINUTE,
  }));
  const agent = mesh.addDeployment('shop', 'payment', { replicas: 4 }).pods.map((pod, i) => ({
    name: pod.metadata.name,
    pod,
    servedBy: 'istio-agent' as const,
    renewAfterMinutes: 60 * (0.49 + (i % 2) * 0.02),
    pushEveryMinutes: null,
    firstIssuedAt: T0 - (i * 7 + 3) * MINUTE,
  }));
  const resent = mesh.addDeployment('shop', 'orders').pods[0]!;
  const stopped = mesh.addDeployment('shop', 'ledger').pods[0]!;
  pods = [
    ...tbot,
    ...agent,
    // Broken from the start of the window: its leaf of 12:03 is re-sent at 12:23, 12:43, ...
    { name: resent.metadata.name, pod: resent, servedBy: 'tbot', renewAfterMinutes: null, pushEveryMinutes: 20, firstIssuedAt: T0 + 3 * MINUTE },
    // Its leaf of 12:11 is never replaced nor re-sent.
    { name: stopped.metadata.name, pod: stopped, servedBy: 'tbot', renewAfterMinutes: null, pushEveryMinutes: null, firstIssuedAt: T0 + 11 * MINUTE },
  ];
});

afterAll(async () => {
  await emulator.close();
});

/** Scripts each pod's sidecar for `now` (a fresh leaf after each renewal, a re-push keeps the leaf). */
async function advance(states: Map<string, PodState>, now: number): Promise<void> {
  for (const pod of pods) {
    let state = states.get(pod.name);
    let fresh = false;
    if (!state) {
      if (pod.firstIssuedAt > now) {
        // Before its (broken) leaf: a healthy leaf issued just before the window.
        state = { issuedAt: T0 - MINUTE, pushedAt: T0 - MINUTE, leaf: null };
      } else state = { issuedAt: pod.firstIssuedAt, pushedAt: pod.firstIssuedAt, leaf: null };
      states.set(pod.name, state);
      fresh = true;
    }
    if (state.issuedAt < pod.firstIssuedAt && pod.firstIssuedAt <= now) {
      state.issuedAt = pod.firstIssuedAt;
      state.pushedAt = pod.firstIssuedAt;
      fresh = true;
    }
    for (;;) {
      const broken = state.issuedAt >= pod.firstIssuedAt;
      const renewAt = pod.renewAfterMinutes === null || !broken ? null : state.issuedAt + pod.renewAfterMinutes * MINUTE;
      const pushAt = pod.pushEveryMinutes === null || !broken ? null : state.pushedAt + pod.pushEveryMinutes * MINUTE;
      if (renewAt !== null && renewAt <= now && (pushAt === null || renewAt <= pushAt)) {
        state.issuedAt = renewAt;
        state.pushedAt = renewAt;
        fresh = true;
      } else if (pushAt !== null && pushAt <= now) {
        state.pushedAt = pushAt;
      } else break;
    }
    const secrets = await sidecarSecrets(pki, {
      servedBy: pod.servedBy,
      namespace: 'shop',
      serviceAccount: (pod.pod.spec as { serviceAccountName: string }).serviceAccountName,
      issuedAt: new Date(state.issuedAt),
      pushedAt: new Date(state.pushedAt),
      lifetimeSeconds: 3600,
      ...(fresh || !state.leaf ? {} : { leaf: state.leaf }),
    });
    state.leaf = secrets.leaf;
    emulator.setProxyResponses('shop', pod.pod.metadata.name, secrets.responses);
  }
}

interface Timeline {
  readonly outcomes: SweepOutcome[];
  /** Pod names exec'ed into, per sweep. */
  readonly execs: string[][];
  readonly history: MemoryHistoryStore;
  readonly bus: ReturnType<typeof recordingEventBridge>;
}

async function runTimeline(sampling: { dueBased: boolean }, options: { keepEveryPod?: boolean } = {}): Promise<Timeline> {
  const deployment = parseDeploymentConfig({ region: 'eu-west-1', clusters: [{ name: 'prod-mesh', sampling }], notifications: { slackWebhookSecret: 'unused' } });
  const runtime = parseRuntimeConfig(samplerRuntimeConfig, {
    MESH_CERT_WATCH_CONFIG: JSON.stringify(samplerRuntimeInput(deployment, { ledgerTableName: 'ledger', historyBucketName: 'history' })),
  });
  const cluster = runtime.clusters[0]!;
  const clock = new FakeClock(T0);
  const history = new MemoryHistoryStore();
  const ledger = new MemoryLedger();
  const bus = recordingEventBridge();
  const kubeClientFor: KubeClientFactory = async () => new KubeClient(emulator.kubeConfig(), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const states = new Map<string, PodState>();
  const timeline: Timeline = { outcomes: [], execs: [], history, bus };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    if (sweep > 0) await clock.sleep(5 * MINUTE);
    await advance(states, clock.now());
    const before = emulator.execs.length;
    timeline.outcomes.push(
      await sweepCluster(
        { cluster, sweepId: `sweep-${sweep}` },
        {
          kubeClientFor,
          ledger,
          history,
          events: new EventBridgeSink(bus.sender, 'mesh-cert-watch', { maxAttempts: 1, sleep: async () => undefined }),
          clock: clock.date,
          maxExecStartsPerSecond: 0,
          ...options,
        },
      ),
    );
    timeline.execs.push([...new Set(emulator.execs.slice(before).map((exec) => exec.pod))]);
  }
  return timeline;
}

describe('due-based sampling over 95 minutes of sweeps every 5 minutes', () => {
  let due: Timeline;
  let every: Timeline;
  const brokenNames = () => pods.slice(-2).map((p) => p.name);
  const podIn = (outcome: SweepOutcome, name: string): PodReport => outcome.report!.pods.find((p) => p.name === name)!;

  beforeAll(async () => {
    due = await runTimeline({ dueBased: true });
    every = await runTimeline({ dueBased: false });
    // 40 sweeps with a certificate per renewal: about 25 s on an idle machine, much more under load.
  }, 240_000);

  it('execs into healthy pods at least 3 times less often (every pod once in the first sweep, then only when due)', () => {
    const healthyNames = new Set(pods.slice(0, -2).map((p) => p.name));
    const healthyExecs = (t: Timeline) => t.execs.slice(1).reduce((n, names) => n + names.filter((name) => healthyNames.has(name)).length, 0);
    expect(every.execs.every((names) => names.length === pods.length)).toBe(true);
    expect(due.execs[0]).toHaveLength(pods.length);
    const ratio = healthyExecs(every) / healthyExecs(due);
    expect(ratio).toBeGreaterThanOrEqual(3);
    // Whole cluster, broken pods included (they are sampled every sweep once due).
    const total = (t: Timeline) => t.execs.reduce((n, names) => n + names.length, 0);
    expect(total(every) / total(due)).toBeGreaterThan(2.5);
  });

  it('detects both tbot failures at the same sweep, with the same finding and the same events, as sampling every pod', () => {
    for (const name of brokenNames()) {
      const firstFlag = (t: Timeline) => t.outcomes.findIndex((o) => podIn(o, name).state !== 'healthy');
      expect(firstFlag(due)).toBeGreaterThan(0);
      expect(firstFlag(due)).toBe(firstFlag(every));
      const at = firstFlag(due);
      expect(podIn(due.outcomes[at]!, name).findings).toEqual(podIn(every.outcomes[at]!, name).findings);
      expect(podIn(due.outcomes[at]!, name).sampled).toBeUndefined();
    }
    // Re-sent leaf of 12:03: renewal point 12:23, the 12:25 sweep proves it; stopped leaf of 12:11: 12:31 + 3 min slack -> 12:35.
    expect(due.outcomes.findIndex((o) => podIn(o, brokenNames()[0]!).state !== 'healthy')).toBe(5);
    expect(podIn(due.outcomes[5]!, brokenNames()[0]!).rotation?.provenAcrossSweeps).toBe(true);
    expect(due.outcomes.findIndex((o) => podIn(o, brokenNames()[1]!).state !== 'healthy')).toBe(7);
    const changes = (t: Timeline) =>
      t.bus
        .accepted()
        .filter((e) => e.detailType === 'Pod Certificate State Changed')
        .map((e) => `${String(e.detail.name)} ${String(e.detail.change)} ${String(e.detail.state)}`);
    expect(changes(due)).toEqual(changes(every));
    expect(changes(due).length).toBeGreaterThan(0);
  });

  it('samples a pod once it becomes due: at the first sweep past its renewal point, or at the maximum age', () => {
    for (const [index, outcome] of due.outcomes.entries()) {
      if (index === 0) continue;
      const now = Date.parse(outcome.report!.now);
      for (const pod of outcome.report!.pods) {
        const sampledNow = due.execs[index]!.includes(pod.name);
        expect(sampledNow).toBe(pod.sampled === undefined);
        if (pod.sampled === false) {
          // Not due: healthy, before its renewal point, observed less than 20 minutes ago.
          expect(pod.state).toBe('healthy');
          expect(now).toBeLessThan(Date.parse(pod.rotation!.expectedRenewalAt!));
          expect(now - Date.parse(pod.sampledAt!)).toBeLessThan(20 * MINUTE);
        } else {
          const previous = due.outcomes[index - 1]!.report!.pods.find((p) => p.uid === pod.uid)!;
          const lastObserved = Date.parse(previous.sampled === false ? previous.sampledAt! : due.outcomes[index - 1]!.report!.now);
          const renewal = previous.rotation?.expectedRenewalAt ? Date.parse(previous.rotation.expectedRenewalAt) : Infinity;
          // The max age, or (a leaf whose renewal point is beyond it) the pod's own slot within it.
          const slot = renewal > lastObserved + 20 * MINUTE ? spreadSlotMs(lastObserved, 20 * MINUTE, uidPhase(pod.uid)) : Infinity;
          const reason = previous.state !== 'healthy' || now >= renewal || now - lastObserved >= 20 * MINUTE || now >= slot;
          expect({ name: pod.name, sweep: index, dueForAReason: reason }).toEqual({ name: pod.name, sweep: index, dueForAReason: true });
        }
      }
    }
  });

  it('judges a pod not sampled from its last observation against now, and keeps it in the summary, metrics and snapshot', () => {
    const outcome = due.outcomes[2]!;
    const notSampled = outcome.report!.pods.filter((p) => p.sampled === false);
    expect(notSampled.length).toBeGreaterThan(0);
    const pod = notSampled[0]!;
    const now = Date.parse(outcome.report!.now);
    expect(pod.certificate!.remainingSeconds).toBe(Math.floor((Date.parse(pod.certificate!.notAfter) - now) / 1000));
    expect(pod.certificate!.ageSeconds).toBe(Math.floor((now - Date.parse(pod.certificate!.notBefore)) / 1000));
    // The same leaf as when it was sampled, judged now.
    const observed = due.outcomes.find((o) => o.report!.now === pod.sampledAt)!;
    expect(podIn(observed, pod.name).certificate!.serialNumber).toBe(pod.certificate!.serialNumber);
    const summary = outcome.report!.summary;
    expect(summary.sampled).toBe(pods.length);
    expect(summary.fromHistory).toBe(notSampled.length);
    expect(summary.healthy + summary.stale + summary.expiring + summary.expired).toBe(pods.length);
    expect(sweepMetrics(outcome).find((m) => m.name === 'PodsSampled')?.value).toBe(pods.length);
    expect(outcome.completed.summary.fromHistory).toBe(notSampled.length);
    const snapshot = JSON.parse(due.history.saved[2]!.text) as HistorySnapshot;
    expect(snapshot.pods).toHaveLength(pods.length);
    expect(snapshot.pods.find((p) => p.uid === pod.uid)!.observedAt).toBe(pod.sampledAt);
    for (const event of due.bus.accepted()) expect(schemaErrors(event.detailType, event.detail)).toEqual([]);
    // Sampling every pod: no field of due-based sampling.
    expect(every.outcomes[2]!.report!.summary.fromHistory).toBeUndefined();
    expect(every.outcomes[2]!.report!.pods.every((p) => p.sampled === undefined)).toBe(true);
  });
});

describe('the sampler keeping only the pods it has events for (keepEveryPod false, as the Lambda runs)', () => {
  let kept: Timeline;
  let lean: Timeline;
  // The snapshot entries that do not depend on the leaves' random serials.
  const snapshotShape = (t: Timeline) =>
    t.history.saved.map(({ text }) => (JSON.parse(text) as HistorySnapshot).pods.map((p) => `${p.name} ${p.notBefore} ${p.observedAt} ${p.state}`));
  const events = (t: Timeline, detailType: string) =>
    t.bus
      .accepted()
      .filter((e) => e.detailType === detailType)
      .map((e) => `${String(e.detail.sweepId)} ${String(e.detail.name)} ${String(e.detail.state)} ${String(e.detail.change ?? '')}`);

  beforeAll(async () => {
    kept = await runTimeline({ dueBased: true });
    lean = await runTimeline({ dueBased: true }, { keepEveryPod: false });
  }, 240_000);

  it('keeps the reports of the pods that need attention or had a ledger item, not the healthy rest', () => {
    let ledger = new Set<string>();
    for (const [index, outcome] of lean.outcomes.entries()) {
      const pods = outcome.report!.pods;
      expect(pods.length).toBeLessThan(kept.outcomes[index]!.report!.pods.length);
      for (const pod of pods) expect(needsAttention(pod) || ledger.has(pod.uid)).toBe(true);
      const attention = kept.outcomes[index]!.report!.pods.filter((pod) => needsAttention(pod)).map((pod) => pod.name);
      expect(pods.filter((pod) => needsAttention(pod)).map((pod) => pod.name).sort()).toEqual(attention.sort());
      ledger = new Set(pods.filter((pod) => needsAttention(pod)).map((pod) => pod.uid));
    }
    expect(lean.outcomes.some((o) => o.report!.pods.length > 0)).toBe(true);
  });

  it('changes nothing else: the same execs, summaries, rotations, events, metrics and snapshots as keeping every pod', () => {
    expect(lean.execs).toEqual(kept.execs);
    expect(lean.outcomes.map((o) => o.completed.summary)).toEqual(kept.outcomes.map((o) => o.completed.summary));
    expect(lean.outcomes.map((o) => o.completed.rotations)).toEqual(kept.outcomes.map((o) => o.completed.rotations));
    for (const detailType of ['Pod Certificate State Changed', 'Pod Certificate Unhealthy']) {
      expect(events(lean, detailType)).toEqual(events(kept, detailType));
      expect(events(kept, detailType).length).toBeGreaterThan(0);
    }
    expect(lean.outcomes.map((o) => sweepMetrics(o))).toEqual(kept.outcomes.map((o) => sweepMetrics(o)));
    expect(lean.outcomes.map((o) => rotationMetrics(o))).toEqual(kept.outcomes.map((o) => rotationMetrics(o)));
    expect(lean.outcomes.some((o) => rotationMetrics(o).some((m) => m.intervalsMinutes.length > 0))).toBe(true);
    expect(snapshotShape(lean)).toEqual(snapshotShape(kept));
    expect(snapshotShape(lean).at(-1)).toHaveLength(pods.length);
  });
});

