/**
 * Rotation history in the sampler engine (sweepCluster), over the Kubernetes API emulator, a
 * local DynamoDB ledger and a fake clock (no sleeping): a sweep every 5 minutes for 70 minutes of
 * a mesh with healthy tbot and Istio-agent pods rotating with jitter, and one tbot pod with the
 * "renewed SVIDs not pushed" failure (it re-sends its cached leaf every renewal interval).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClientFactory } from '../../src/ports/clusters.js';
import type { HistorySnapshot } from '../../src/core/judgement/history.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { MemoryHistoryStore } from '../../src/sandbox/emulator/memory-history.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import type { IssuedLeaf } from '../../src/sandbox/emulator/pki.js';
import { createMeshPki, sidecarSecrets, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { DynamoLedger } from '../../src/aws/ledger.js';
import { rotationLogFields, rotationMetrics, sweepMetrics } from '../../src/sampler/metrics.js';
import { sweepCluster, type SweepOutcome } from '../../src/sampler/sweep-cluster.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { clusterInput, minutesBefore, recordingEventBridge, samplerConfig, schemaErrors } from './kit.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const T0 = new Date('2026-11-27T12:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 3600;

interface SimulatedPod {
  readonly pod: KubeObject;
  readonly servedBy: 'tbot' | 'istio-agent';
  /** Minutes after a leaf's issue at which the next one comes (healthy), or null: re-send the same leaf. */
  readonly renewAfterMinutes: number | null;
  /** How often the server pushes (tbot: every renewal interval). */
  readonly pushEveryMinutes: number;
  issuedAt: Date;
  pushedAt: Date;
  leaf: IssuedLeaf | null;
}

let dynamo: LocalDynamo;
let pki: MeshPki;
let emulator: KubeApiEmulator;

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createTable('ledger');
  pki = await createMeshPki('example.org');
  emulator = await startKubeApiEmulator();
});

afterAll(async () => {
  await emulator.close();
  await dynamo.close();
});

/** Moves each pod's sidecar to what it holds at `now`, and scripts the emulator's answers. */
async function advancePods(pods: readonly SimulatedPod[], now: Date): Promise<void> {
  for (const pod of pods) {
    let fresh = pod.leaf === null;
    for (;;) {
      const renewAt = pod.renewAfterMinutes === null ? null : pod.issuedAt.getTime() + pod.renewAfterMinutes * MINUTE;
      const pushAt = pod.pushedAt.getTime() + pod.pushEveryMinutes * MINUTE;
      if (renewAt !== null && renewAt <= now.getTime() && renewAt <= pushAt) {
        pod.issuedAt = new Date(renewAt);
        pod.pushedAt = pod.issuedAt;
        fresh = true;
      } else if (pushAt <= now.getTime()) {
        pod.pushedAt = new Date(pushAt);
      } else break;
    }
    const secrets = await sidecarSecrets(pki, {
      servedBy: pod.servedBy,
      namespace: pod.pod.metadata.namespace!,
      serviceAccount: (pod.pod.spec as { serviceAccountName: string }).serviceAccountName,
      issuedAt: pod.issuedAt,
      pushedAt: pod.pushedAt,
      lifetimeSeconds: HOUR,
      ...(fresh || !pod.leaf ? {} : { leaf: pod.leaf }),
    });
    pod.leaf = secrets.leaf;
    emulator.setProxyResponses(pod.pod.metadata.namespace!, pod.pod.metadata.name, secrets.responses);
  }
}

describe('sweeps every 5 minutes with rotation history', () => {
  const config = samplerConfig({ historyBucketName: 'unused-here', clusters: [clusterInput('prod-mesh')] });
  const clock = new FakeClock(T0.getTime());
  const history = new MemoryHistoryStore();
  const bus = recordingEventBridge();
  const outcomes: SweepOutcome[] = [];
  let pods: SimulatedPod[];
  let broken: SimulatedPod;

  beforeAll(async () => {
    const mesh = new Mesh(emulator, { startTime: minutesBefore(T0, 600) });
    mesh.addNamespace('shop');
    const jitters = [0, 0.4, 1.1, 1.5];
    pods = [
      ...mesh.addDeployment('shop', 'carts', { replicas: 4 }).pods.map((pod, i) => ({
        pod,
        servedBy: 'tbot' as const,
        renewAfterMinutes: 20 + jitters[i]!,
        pushEveryMinutes: 20 + jitters[i]!,
        issuedAt: new Date(T0.getTime() - (i * 4 + 1) * MINUTE),
        pushedAt: new Date(T0.getTime() - (i * 4 + 1) * MINUTE),
        leaf: null,
      })),
      ...mesh.addDeployment('shop', 'payment', { replicas: 2 }).pods.map((pod, i) => ({
        pod,
        servedBy: 'istio-agent' as const,
        renewAfterMinutes: 60 * (0.49 + i * 0.02),
        pushEveryMinutes: 24 * 60,
        issuedAt: new Date(T0.getTime() - (10 + i * 7) * MINUTE),
        pushedAt: new Date(T0.getTime() - (10 + i * 7) * MINUTE),
        leaf: null,
      })),
    ];
    broken = {
      pod: mesh.addDeployment('shop', 'orders').pods[0]!,
      servedBy: 'tbot',
      renewAfterMinutes: null,
      pushEveryMinutes: 20,
      issuedAt: new Date(T0.getTime() - 3 * MINUTE),
      pushedAt: new Date(T0.getTime() - 3 * MINUTE),
      leaf: null,
    };
    pods.push(broken);

    const kubeClientFor: KubeClientFactory = async () => new KubeClient(emulator.kubeConfig(), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const ledger = new DynamoLedger({ client: dynamo.client(), tableName: 'ledger', maxAttempts: 1 });
    for (let sweep = 0; sweep <= 14; sweep++) {
      if (sweep > 0) await clock.sleep(5 * MINUTE);
      await advancePods(pods, clock.date());
      const outcome = await sweepCluster(
        { cluster: config.clusters[0]!, sweepId: `sweep-${sweep}` },
        {
          kubeClientFor,
          ledger,
          history,
          events: new EventBridgeSink(bus.sender, 'mesh-cert-watch', { maxAttempts: 1, sleep: async () => undefined }),
          clock: clock.date,
        },
      );
      outcomes.push(outcome);
    }
  });

  const podIn = (outcome: SweepOutcome, name: string) => outcome.report!.pods.find((p) => p.name === name)!;

  it('flags the broken tbot pod at the first sweep after its missed renewal, proven across sweeps', () => {
    const name = broken.pod.metadata.name;
    const states = outcomes.map((o) => `${o.report!.now.slice(11, 16)} ${podIn(o, name).state}`);
    // Leaf of 11:57, renewal point 12:17: tbot's timer pushes the cached leaf then; the 12:20 sweep sees it.
    expect(states.slice(2, 6)).toEqual(['12:10 healthy', '12:15 healthy', '12:20 stale', '12:25 stale']);
    const first = podIn(outcomes[4]!, name);
    expect(first.findings).toEqual(['sds-push-without-rotation']);
    expect(first.rotation).toEqual({ expectedRenewalAt: '2026-11-27T12:17:00.000Z', overdueSeconds: 180, provenAcrossSweeps: true });
    expect(first.rotatedSinceLastSweep).toBe(false);
    expect(outcomes[4]!.completed.rotations?.provenAcrossSweeps).toBe(1);
    // Without history the same pod would wait for 60 % of its life: 12:33, seen at 12:35.
  });

  it('never flags a healthy pod rotating on time with jitter (zero false positives over 15 sweeps)', () => {
    const flagged = outcomes.flatMap((o) =>
      o.report!.pods.filter((p) => p.name !== broken.pod.metadata.name && (p.state !== 'healthy' || p.findings.length > 0)).map((p) => `${o.report!.now} ${p.name} ${p.state}`),
    );
    expect(flagged).toEqual([]);
  });

  it('counts the rotations observed and their interval per source, in the report, Sweep Completed and the sweep log line', () => {
    const total = (source: 'tbot' | 'istio-agent') => outcomes.reduce((n, o) => n + (o.completed.rotations?.bySource[source]?.observed ?? 0), 0);
    // 4 healthy tbot pods × 3 renewals in 70 min; 2 agent pods renewing every ~30 min × 2.
    expect([total('tbot'), total('istio-agent')]).toEqual([12, 4]);
    const maxInterval = Math.max(...outcomes.map((o) => o.completed.rotations?.bySource.tbot?.intervalSecondsMax ?? 0));
    expect(maxInterval).toBe(Math.round(21.5 * 60));
    const withRotation = outcomes.find((o) => (o.completed.rotations?.observed ?? 0) > 0)!;
    // Not in the [Cluster] metrics: the rotation metrics are per deployment ([Source] only).
    expect(sweepMetrics(withRotation).map((m) => m.name)).not.toContain('RotationsObserved');
    const emitted = rotationMetrics(withRotation);
    const tbot = withRotation.completed.rotations!.bySource.tbot!;
    expect(emitted.find((m) => m.source === 'tbot')).toEqual({
      source: 'tbot',
      observed: tbot.observed,
      intervalsMinutes: expect.arrayContaining([expect.any(Number)]),
    });
    expect(emitted.find((m) => m.source === 'tbot')!.intervalsMinutes).toHaveLength(tbot.observed);
    // Every observed tbot interval over the run, in minutes: 20-21.5 (jitter), none from the broken pod.
    const intervals = outcomes.flatMap((o) => rotationMetrics(o).flatMap((m) => (m.source === 'tbot' ? m.intervalsMinutes : [])));
    expect(intervals).toHaveLength(12);
    expect(Math.min(...intervals)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...intervals)).toBe(21.5);
    // Sources compared but none rotated still report 0; the first sweep (nothing to compare) reports nothing.
    expect(rotationMetrics(outcomes[0]!)).toEqual([]);
    expect(outcomes.flatMap((o) => rotationMetrics(o)).some((m) => m.source === 'istio-agent' && m.observed === 0 && m.intervalsMinutes.length === 0)).toBe(true);
    const fields = rotationLogFields(withRotation.completed.rotations!);
    expect(fields).toMatchObject({ observed: withRotation.completed.rotations!.observed, overdue: expect.any(Number), proven: expect.any(Number) });
    expect(fields.tbot_interval_p50_s).toBe(withRotation.completed.rotations!.bySource.tbot?.intervalSecondsP50 ?? undefined);
    for (const event of bus.accepted()) expect(schemaErrors(event.detailType, event.detail)).toEqual([]);
  });

  it('keeps one snapshot per sweep, one entry per pod', () => {
    expect(history.saved).toHaveLength(15);
    const last = JSON.parse(history.saved.at(-1)!.text) as HistorySnapshot;
    expect(last.pods).toHaveLength(pods.length);
    expect(last.sweepId).toBe('sweep-14');
    expect(outcomes.every((o) => o.history?.loaded && o.history.saved)).toBe(true);
  });

  it('sends the rotation fields in Pod Certificate Unhealthy, for the remediator', () => {
    const unhealthy = bus.accepted().filter((e) => e.detailType === 'Pod Certificate Unhealthy' && e.detail.name === broken.pod.metadata.name);
    expect(unhealthy[0]!.detail).toMatchObject({ state: 'stale', rotation: { provenAcrossSweeps: true }, rotatedSinceLastSweep: false });
  });

  it('judges without history when it cannot be read, says so, and still writes its own snapshot', async () => {
    history.failNext = { operation: 'load', error: new Error('AccessDenied') };
    const kubeClientFor: KubeClientFactory = async () => new KubeClient(emulator.kubeConfig());
    const outcome = await sweepCluster(
      { cluster: config.clusters[0]!, sweepId: 'sweep-no-history' },
      {
        kubeClientFor,
        ledger: new DynamoLedger({ client: dynamo.client(), tableName: 'ledger', maxAttempts: 1 }),
        history,
        events: new EventBridgeSink(bus.sender, 'mesh-cert-watch'),
        clock: clock.date,
      },
    );
    expect(outcome.history).toEqual({ loaded: false, saved: true });
    expect(outcome.completed.errors[0]).toEqual({ namespace: null, name: null, error: 'rotation history: AccessDenied' });
    expect(outcome.completed.failed).toBe(false);
    expect(outcome.report!.pods.every((p) => p.previous === undefined)).toBe(true);
    history.failNext = { operation: 'save', error: new Error('SlowDown') };
    const unsaved = await sweepCluster(
      { cluster: config.clusters[0]!, sweepId: 'sweep-unsaved' },
      {
        kubeClientFor,
        ledger: new DynamoLedger({ client: dynamo.client(), tableName: 'ledger', maxAttempts: 1 }),
        history,
        events: new EventBridgeSink(bus.sender, 'mesh-cert-watch'),
        clock: clock.date,
      },
    );
    expect(unsaved.history).toEqual({ loaded: true, saved: false });
    expect(unsaved.completed.errors[0]?.error).toBe('rotation history: SlowDown');
  });
});
