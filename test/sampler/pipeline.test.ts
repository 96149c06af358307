/**
 * The sampler engine (sweepCluster) end to end without AWS: the Kubernetes API emulator as the
 * cluster (real client-node over HTTPS + WebSocket exec), dynalite as the findings ledger (real
 * SDK, real wire protocol) and a recording implementation of our EventBridgeSender port. Every
 * emitted detail is checked against its published JSON schema.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeClientFactory } from '../../src/ports/clusters.js';
import { EksClusterError } from '../../src/aws/eks-cluster.js';
import { DynamoLedger } from '../../src/aws/ledger.js';
import { ClusterUnreachableError, MeshCertWatchError } from '../../src/core/model/errors.js';
import { parseTrigger } from '../../src/core/remediation/remediation.js';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { sweepCluster, type SweepClusterDependencies, type SweepOutcome } from '../../src/sampler/sweep-cluster.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { closedPort, clusterInput, minutesBefore, recordingEventBridge, samplerConfig, schemaErrors, scriptPod, type RecordedEvent } from './kit.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const T1 = new Date('2026-11-27T12:00:00.000Z');
const T2 = new Date('2026-11-27T12:05:00.000Z');
const HOUR = 3600;
const ZERO = { sampled: 0, skipped: 0, healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 0 };
const FAST_RETRY = { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };

let dynamo: LocalDynamo;
let pki: MeshPki;
const emulators: KubeApiEmulator[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createTable('ledger');
  pki = await createMeshPki('example.org');
});

afterAll(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  await dynamo.close();
});

async function cluster(): Promise<{ emulator: KubeApiEmulator; mesh: Mesh; kubeClientFor: KubeClientFactory }> {
  const emulator = await startKubeApiEmulator();
  emulators.push(emulator);
  const mesh = new Mesh(emulator, { startTime: minutesBefore(T1, 600) });
  return { emulator, mesh, kubeClientFor: async () => new KubeClient(emulator.kubeConfig(), FAST_RETRY) };
}

/** One engine setup: a clock we move, the recording bus, the dynalite ledger. */
function harness(kubeClientFor: KubeClientFactory, tableName = 'ledger') {
  const bus = recordingEventBridge();
  const ledger = new DynamoLedger({ client: dynamo.client(), tableName, maxAttempts: 1 });
  const state = { now: T1 };
  const completed: SweepOutcome[] = [];
  const deps: SweepClusterDependencies = {
    kubeClientFor,
    ledger,
    events: new EventBridgeSink(bus.sender, 'mesh-cert-watch', { maxAttempts: 2, sleep: async () => undefined }),
    clock: () => state.now,
    onSweepCompleted: (outcome) => completed.push(outcome),
  };
  return { bus, ledger, state, completed, deps };
}

const types = (events: readonly RecordedEvent[]) => events.map((e) => [e.detailType, e.detail.change ?? e.detail.state ?? null]);

function expectSchemaValid(events: readonly RecordedEvent[]): void {
  for (const event of events) expect([event.detailType, schemaErrors(event.detailType, event.detail)]).toEqual([event.detailType, []]);
}

describe('two sweeps: a pod turns stale, then recovers', () => {
  const config = samplerConfig({ clusters: [clusterInput('prod-mesh', { namespaces: { include: [], exclude: ['kube-system'] } })] });
  const settings = config.clusters[0]!;
  let emulator: KubeApiEmulator;
  let setup: ReturnType<typeof harness>;
  let orders: KubeObject;
  let carts: KubeObject;
  let staleSerial: string;
  const sweeps: { outcome: SweepOutcome; events: RecordedEvent[] }[] = [];

  beforeAll(async () => {
    const c = await cluster();
    emulator = c.emulator;
    c.mesh.addNamespace('shop');
    c.mesh.addNamespace('kube-system');
    carts = c.mesh.addDeployment('shop', 'carts').pods[0]!;
    orders = c.mesh.addDeployment('shop', 'orders').pods[0]!;
    const dns = c.mesh.addDeployment('kube-system', 'coredns').pods[0]!;
    await scriptPod(emulator, pki, carts, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 10), lifetimeSeconds: HOUR });
    staleSerial = await scriptPod(emulator, pki, orders, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 45), lifetimeSeconds: HOUR });
    // Excluded: expired, and it must not even be exec'd.
    await scriptPod(emulator, pki, dns, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 120), lifetimeSeconds: HOUR });
    setup = harness(c.kubeClientFor);

    const outcome1 = await sweepCluster({ cluster: settings, sweepId: 'sweep-1' }, setup.deps);
    sweeps.push({ outcome: outcome1, events: setup.bus.accepted() });

    setup.bus.clear();
    setup.state.now = T2;
    await scriptPod(emulator, pki, orders, { servedBy: 'tbot', issuedAt: minutesBefore(T2, 2), lifetimeSeconds: HOUR });
    const outcome2 = await sweepCluster({ cluster: settings, sweepId: 'sweep-2' }, setup.deps);
    sweeps.push({ outcome: outcome2, events: setup.bus.accepted() });
  });

  it('sweep 1 publishes State Changed (opened, stale), then Unhealthy, then Sweep Completed, in three calls', () => {
    const { events } = sweeps[0]!;
    expect(types(events)).toEqual([
      ['Pod Certificate State Changed', 'opened'],
      ['Pod Certificate Unhealthy', 'stale'],
      ['Sweep Completed', null],
    ]);
    expectSchemaValid(events);
    const summary = { ...ZERO, sampled: 2, healthy: 1, stale: 1 };
    expect(events[0]!.detail).toMatchObject({
      cluster: 'prod-mesh',
      sweepId: 'sweep-1',
      observedAt: T1.toISOString(),
      namespace: 'shop',
      name: orders.metadata.name,
      uid: orders.metadata.uid,
      workload: { kind: 'Deployment', name: 'orders' },
      state: 'stale',
      findings: ['sds-pushes-stopped'],
      source: 'tbot',
      certificate: { serialNumber: staleSerial.toUpperCase(), ageSeconds: 45 * 60, remainingSeconds: 15 * 60, lifetimeSeconds: HOUR },
      change: 'opened',
      previousState: null,
      previousFindings: [],
      previousObservedAt: null,
    });
    const { change: _c, previousState: _p, previousFindings: _f, previousObservedAt: _o, ...pod } = events[0]!.detail;
    expect(events[1]!.detail).toEqual({ ...pod, sweepSummary: summary });
    expect(events[2]!.detail).toEqual({
      cluster: 'prod-mesh',
      sweepId: 'sweep-1',
      startedAt: T1.toISOString(),
      finishedAt: T1.toISOString(),
      durationMs: 0,
      partial: false,
      failed: false,
      summary,
      thresholds: { staleAfter: '60%', expiringWithin: '20%', clockSkewAllowance: '60s' },
      errors: [],
      errorsTotal: 0,
      eventsPublished: 2,
      eventsFailed: 0,
    });
  });

  it("emits Unhealthy details the remediator reads, with the sweep's summary for its breaker", () => {
    const unhealthy = sweeps[0]!.events[1]!.detail;
    const trigger = parseTrigger(unhealthy);
    expect(trigger.sweepSummary).toEqual(sweeps[0]!.events[2]!.detail.summary);
    expect(trigger).toMatchObject({ cluster: 'prod-mesh', uid: orders.metadata.uid, state: 'stale' });
  });

  it('never lists or samples the excluded namespace', () => {
    expect(emulator.execs.map((e) => e.namespace)).not.toContain('kube-system');
    expect(emulator.execs.filter((e) => e.namespace === 'shop').length).toBeGreaterThanOrEqual(4);
    expect(sweeps[0]!.outcome.report!.pods.map((p) => p.name).sort()).toEqual([carts.metadata.name, orders.metadata.name].sort());
  });

  it('sweep 2 publishes State Changed (resolved) and Sweep Completed only, and the ledger forgets the pod', async () => {
    const { events } = sweeps[1]!;
    expect(types(events)).toEqual([
      ['Pod Certificate State Changed', 'resolved'],
      ['Sweep Completed', null],
    ]);
    expectSchemaValid(events);
    expect(events[0]!.detail).toMatchObject({
      sweepId: 'sweep-2',
      observedAt: T2.toISOString(),
      uid: orders.metadata.uid,
      state: 'healthy',
      findings: [],
      change: 'resolved',
      previousState: 'stale',
      previousFindings: ['sds-pushes-stopped'],
      previousObservedAt: T1.toISOString(),
    });
    expect(events[1]!.detail).toMatchObject({ sweepId: 'sweep-2', summary: { ...ZERO, sampled: 2, healthy: 2 }, eventsPublished: 1, eventsFailed: 0, failed: false });
    expect(await setup.ledger.load('prod-mesh')).toEqual([]);
  });

  it('recorded the stale pod in the ledger between the sweeps (one put, then one delete)', () => {
    expect(sweeps.map((s) => s.outcome.ledgerWrites)).toEqual([1, 1]);
    expect(sweeps.map((s) => [s.outcome.changes.published, s.outcome.unhealthy.published, s.outcome.events.published])).toEqual([
      [1, 1, 3],
      [1, 0, 2],
    ]);
  });

  it('reports each outcome once, after Sweep Completed', () => {
    expect(setup.completed.map((o) => [o.sweepId, o.completedPublished, 'error' in o])).toEqual([
      ['sweep-1', true, false],
      ['sweep-2', true, false],
    ]);
  });
});

describe('failed publishes, gone pods and partial sweeps', () => {
  const settings = samplerConfig({ clusters: [clusterInput('pay-cluster', { namespaces: { include: ['pay'], exclude: [] } })] }).clusters[0]!;
  let emulator: KubeApiEmulator;
  let billing: KubeObject;
  let setup: ReturnType<typeof harness>;

  beforeAll(async () => {
    const c = await cluster();
    emulator = c.emulator;
    c.mesh.addNamespace('pay');
    billing = c.mesh.addDeployment('pay', 'billing').pods[0]!;
    await scriptPod(emulator, pki, billing, { servedBy: 'istio-agent', issuedAt: minutesBefore(T1, 70), lifetimeSeconds: HOUR });
    setup = harness(c.kubeClientFor);
  });

  it('does not write the ledger for a change whose event was refused, and the next sweep sends it again', async () => {
    setup.bus.refuse(['Pod Certificate State Changed']);
    const first = await sweepCluster({ cluster: settings, sweepId: 'pay-1' }, setup.deps);
    expect(types(setup.bus.accepted())).toEqual([
      ['Pod Certificate Unhealthy', 'expired'],
      ['Sweep Completed', null],
    ]);
    expect(setup.bus.accepted()[1]!.detail).toMatchObject({ eventsPublished: 1, eventsFailed: 1, failed: false });
    expect(first.changes.failed).toEqual([{ index: 0, detailType: 'Pod Certificate State Changed', errorCode: 'InternalFailure', errorMessage: 'refused by the test' }]);
    expect(first.events).toEqual({ published: 2, failed: 1 });
    expect(await setup.ledger.load('pay-cluster')).toEqual([]);

    setup.bus.refuse([]);
    setup.bus.clear();
    await sweepCluster({ cluster: settings, sweepId: 'pay-2' }, setup.deps);
    expect(types(setup.bus.accepted())).toEqual([
      ['Pod Certificate State Changed', 'opened'],
      ['Pod Certificate Unhealthy', 'expired'],
      ['Sweep Completed', null],
    ]);
    expect((await setup.ledger.load('pay-cluster')).map((e) => [e.uid, e.state, e.sweepId])).toEqual([[billing.metadata.uid, 'expired', 'pay-2']]);
  });

  it('writes the ledger when only Unhealthy events are refused (they are re-sent every sweep anyway)', async () => {
    setup.bus.refuse(['Pod Certificate Unhealthy']);
    setup.bus.clear();
    await scriptPod(emulator, pki, billing, { servedBy: 'istio-agent', issuedAt: minutesBefore(T1, 55), lifetimeSeconds: HOUR });
    const outcome = await sweepCluster({ cluster: settings, sweepId: 'pay-3' }, setup.deps);
    expect(types(setup.bus.accepted())).toEqual([
      ['Pod Certificate State Changed', 'improved'],
      ['Sweep Completed', null],
    ]);
    expect(setup.bus.accepted()[1]!.detail).toMatchObject({ eventsPublished: 1, eventsFailed: 1 });
    expect(outcome.unhealthy.failed.map((f) => f.detailType)).toEqual(['Pod Certificate Unhealthy']);
    expect((await setup.ledger.load('pay-cluster')).map((e) => e.state)).toEqual(['expiring']);
    setup.bus.refuse([]);
  });

  it('does not declare a pod gone from a partial sweep (deadline reached), and says partial', async () => {
    emulator.remove('Pod', 'pay', billing.metadata.name);
    setup.bus.clear();
    const outcome = await sweepCluster({ cluster: settings, sweepId: 'pay-4', deadline: new Date(T1.getTime() - 1) }, setup.deps);
    expect(types(setup.bus.accepted())).toEqual([['Sweep Completed', null]]);
    expect(setup.bus.accepted()[0]!.detail).toMatchObject({ partial: true, failed: false, summary: ZERO });
    expect(outcome.completed.partial).toBe(true);
    expect(await setup.ledger.load('pay-cluster')).toHaveLength(1);
  });

  it('declares it gone on the next complete sweep and deletes its ledger item', async () => {
    setup.bus.clear();
    await sweepCluster({ cluster: settings, sweepId: 'pay-5' }, setup.deps);
    const events = setup.bus.accepted();
    expect(types(events)).toEqual([
      ['Pod Certificate State Changed', 'gone'],
      ['Sweep Completed', null],
    ]);
    expectSchemaValid(events);
    expect(events[0]!.detail).toMatchObject({ uid: billing.metadata.uid, state: null, previousState: 'expiring', change: 'gone' });
    expect(await setup.ledger.load('pay-cluster')).toEqual([]);
  });
});

describe('batching', () => {
  it('publishes at most 10 entries per PutEvents call, in order: changes, then Unhealthy, then Sweep Completed', async () => {
    const c = await cluster();
    c.mesh.addNamespace('big');
    const pods = c.mesh.addDeployment('big', 'fleet', { replicas: 12 }).pods;
    for (const pod of pods) await scriptPod(c.emulator, pki, pod, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 58), lifetimeSeconds: HOUR });
    const setup = harness(c.kubeClientFor);
    const settings = samplerConfig({ clusters: [clusterInput('big-cluster', { concurrency: 6 })] }).clusters[0]!;
    await sweepCluster({ cluster: settings, sweepId: 'big-1' }, setup.deps);
    const calls = setup.bus.calls();
    expect(calls.map((entries) => [entries.length, [...new Set(entries.map((e) => e.DetailType))]])).toEqual([
      [10, ['Pod Certificate State Changed']],
      [2, ['Pod Certificate State Changed']],
      [10, ['Pod Certificate Unhealthy']],
      [2, ['Pod Certificate Unhealthy']],
      [1, ['Sweep Completed']],
    ]);
    expect(setup.bus.accepted()[24]!.detail).toMatchObject({ eventsPublished: 24, eventsFailed: 0, summary: { sampled: 12, expiring: 12 } });
  });
});

describe('a sweep that cannot run', () => {
  it('publishes Sweep Completed with failed: true and the error, then rejects with ClusterUnreachableError', async () => {
    const port = await closedPort();
    const unreachable = new KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, skipTLSVerify: false }],
      users: [{ name: 'u', token: 'not-used' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const setup = harness(async () => new KubeClient(unreachable, FAST_RETRY));
    const settings = samplerConfig({ clusters: [clusterInput('lost-cluster')] }).clusters[0]!;

    const error = await sweepCluster({ cluster: settings, sweepId: 'lost-1' }, setup.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterUnreachableError);
    const events = setup.bus.accepted();
    expect(events.map((e) => e.detailType)).toEqual(['Sweep Completed']);
    expectSchemaValid(events);
    expect(events[0]!.detail).toEqual({
      cluster: 'lost-cluster',
      sweepId: 'lost-1',
      startedAt: T1.toISOString(),
      finishedAt: T1.toISOString(),
      durationMs: 0,
      partial: false,
      failed: true,
      summary: ZERO,
      thresholds: null,
      errors: [{ namespace: null, name: null, error: (error as Error).message }],
      errorsTotal: 1,
    });
    expect((error as Error).message).toMatch(/cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+/);
    expect(setup.completed).toHaveLength(1);
    expect(setup.completed[0]!.error).toBe(error);
  });

  it('treats an EKS cluster that cannot be described the same way (typed EksClusterError)', async () => {
    const setup = harness(async () => {
      throw new EksClusterError('gone-cluster', 'not-found', undefined, 'EKS cluster gone-cluster not found');
    });
    const settings = samplerConfig({ clusters: [clusterInput('gone-cluster')] }).clusters[0]!;
    await expect(sweepCluster({ cluster: settings, sweepId: 'gone-1' }, setup.deps)).rejects.toBeInstanceOf(EksClusterError);
    expect(setup.bus.accepted().map((e) => [e.detailType, e.detail.failed, e.detail.errors])).toEqual([
      ['Sweep Completed', true, [{ namespace: null, name: null, error: 'EKS cluster gone-cluster not found' }]],
    ]);
  });

  it('with an unusable ledger: still publishes Unhealthy, no change events, Sweep Completed failed, then rejects', async () => {
    const c = await cluster();
    c.mesh.addNamespace('ops');
    const pod = c.mesh.addDeployment('ops', 'api').pods[0]!;
    await scriptPod(c.emulator, pki, pod, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 70), lifetimeSeconds: HOUR });
    const setup = harness(c.kubeClientFor, 'no-such-table');
    const settings = samplerConfig({ clusters: [clusterInput('ops-cluster')] }).clusters[0]!;

    const error = await sweepCluster({ cluster: settings, sweepId: 'ops-1' }, setup.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect(error).toMatchObject({ code: 'AWS', message: expect.stringMatching(/could not read the ledger of ops-cluster/) });
    const events = setup.bus.accepted();
    expect(types(events)).toEqual([
      ['Pod Certificate Unhealthy', 'expired'],
      ['Sweep Completed', null],
    ]);
    expectSchemaValid(events);
    expect(events[1]!.detail).toMatchObject({
      failed: true,
      partial: false,
      summary: { ...ZERO, sampled: 1, expired: 1 },
      errors: [{ namespace: null, name: null, error: expect.stringMatching(/^findings ledger: could not read the ledger of ops-cluster/) }],
      eventsPublished: 1,
      eventsFailed: 0,
    });
  });
});
