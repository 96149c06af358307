/**
 * Node-aware remediation over the Kubernetes API emulator with a fake clock (no sleeping): the
 * sweep, the remediator's engine and the stand-in DaemonSet controller, sweep after sweep.
 * - an affected tbot agent is restarted (its pod deleted, recreated) instead of the workloads,
 *   and the next sweep sees every pod on the node with a new serial;
 * - a pod the agent restart did not fix gets its workload restarted (the fallback);
 * - duplicates, one agent at a time, the budget, and never while a replacement is not Ready.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { remediatorEventPattern } from '../../src/config/event-patterns.js';
import { computeChanges } from '../../src/core/events/changes.js';
import { EVENT_SOURCE, POD_CERTIFICATE_UNHEALTHY } from '../../src/core/events/events.js';
import { matchesEventPattern } from '../../src/sandbox/emulator/event-pattern-matcher.js';
import { DEFAULT_REMEDIATION_POLICY, type RemediationPolicy } from '../../src/core/remediation/remediation.js';
import { InMemoryRestartGuard } from '../../src/cli/memory-restart-guard.js';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { SweepReport } from '../../src/core/model/types.js';
import { RESTARTED_AT_ANNOTATION } from '../../src/core/remediation/workload-facts.js';
import { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { TbotFleet, TBOT_NAMESPACE } from '../../src/sandbox/emulator/tbot-fleet.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';
import { remediateEvent, type RemediationOutcome } from '../../src/remediator/remediate-event.js';
import type { AgentRestartDetail } from '../../src/core/remediation/agent-remediation.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const MINUTE = 60_000;
const RULE = remediatorEventPattern(['expiring', 'expired']);
const SELECTOR = { namespace: TBOT_NAMESPACE, labelSelector: 'app=tbot' };

interface World {
  readonly emulator: KubeApiEmulator;
  readonly clock: FakeClock;
  readonly fleet: TbotFleet;
  readonly nodes: readonly string[];
  readonly pods: Map<string, KubeObject>;
  readonly guard: InMemoryRestartGuard;
  policy: RemediationPolicy;
}

let world: World | undefined;

afterEach(async () => {
  await world?.emulator.close();
  world = undefined;
});

/** Three nodes; `versions` per node index; two Deployments of 3 (one pod per node), started 45 min ago. */
async function setUp(versions: Record<number, string>, options: { stuck?: (pod: KubeObject) => boolean; policy?: Partial<RemediationPolicy> } = {}): Promise<World> {
  const clock = new FakeClock(T0);
  const emulator = await startKubeApiEmulator({ clock: clock.date });
  const mesh = new Mesh(emulator, { nodeCount: 3, startTime: new Date(T0 - 45 * MINUTE) });
  const nodes = mesh.nodeNames;
  const fleet = new TbotFleet({
    emulator,
    mesh,
    pki: await createMeshPki('example.org'),
    clock: clock.date,
    versions: Object.fromEntries(Object.entries(versions).map(([i, v]) => [nodes[Number(i)]!, v])),
    agentsSince: new Date(T0 - 600 * MINUTE),
  });
  mesh.addNamespace('shop');
  const pods = new Map<string, KubeObject>();
  for (const name of ['orders', 'carts']) {
    for (const pod of mesh.addDeployment('shop', name, { replicas: 3 }).pods) {
      fleet.serve(pod, { startedAt: new Date(T0 - 45 * MINUTE), stuck: options.stuck?.(pod) ?? false });
      pods.set(`${name}@${pod.spec?.nodeName}`, pod);
    }
  }
  emulator.setExecHandler((request) => fleet.exec(request));
  world = {
    emulator,
    clock,
    fleet,
    nodes,
    pods,
    guard: new InMemoryRestartGuard(),
    policy: { ...DEFAULT_REMEDIATION_POLICY, budgetPerHour: 10, ...options.policy },
  };
  return world;
}

/** One scheduled sweep: sample, remediate every Unhealthy event in order, then the controllers act. */
async function sweep(w: World, sweepId: string): Promise<{ report: SweepReport; outcomes: RemediationOutcome[] }> {
  const client = new KubeClient(w.emulator.kubeConfig(), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const report = await runSweep(kubeSweepSource(client, { tbotAgents: SELECTOR }), {
    cluster: 'prod',
    sweepId,
    thresholds: DEFAULT_THRESHOLDS,
    concurrency: 4,
    clock: w.clock.date,
  });
  w.clock.advance(2_000);
  const outcomes: RemediationOutcome[] = [];
  // What the remediator rule routes (the stack's own pattern).
  const routed = computeChanges({ previous: [], report, scope: 'all' }).unhealthy.filter((detail) =>
    matchesEventPattern(RULE, { source: EVENT_SOURCE, 'detail-type': POD_CERTIFICATE_UNHEALTHY, detail }),
  );
  for (const detail of routed) {
    outcomes.push(await remediateEvent(detail, { kube: client, guard: w.guard, policy: w.policy, clock: w.clock.date, tbotAgents: SELECTOR }));
  }
  w.fleet.reconcile();
  return { report, outcomes };
}

/** `node:outcome:reason` of the Agent Restart outcomes, sorted (events of one sweep come in any order). */
const agentOutcomes = (outcomes: readonly RemediationOutcome[]) =>
  outcomes.flatMap((o) => (o.detailType === 'Agent Restart' ? [`${o.detail.node}:${o.detail.outcome}:${o.detail.reason}`] : [])).sort();
const workloadOutcomes = (outcomes: readonly RemediationOutcome[]) =>
  outcomes.flatMap((o) => (o.detailType === 'Workload Restart' ? [`${o.detail.workload.name}:${o.detail.outcome}:${o.detail.reason}`] : []));
const restartedDeployments = (w: World) =>
  w.emulator.list('Deployment', 'shop').filter((d) => (d.spec?.template as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.[RESTARTED_AT_ANNOTATION]);
const advance = (w: World, minutes: number) => w.clock.advance(minutes * MINUTE - 2_000);

describe('node-aware remediation', () => {
  it('restarts the affected node agent instead of the workloads, then the next sweep sees new serials', async () => {
    const w = await setUp({ 0: '18.5.0' });
    const node = w.nodes[0]!;
    const oldAgent = w.fleet.agentOn(node)!.name;

    // Leaves 45 min old: stale, not yet expiring. Nothing restarts (not definite without history).
    const first = await sweep(w, 's1');
    const stuck = first.report.pods.filter((p) => p.node === node);
    expect(stuck.map((p) => [p.state, p.findings])).toEqual([
      ['stale', ['sds-push-without-rotation', 'tbot-outdated']],
      ['stale', ['sds-push-without-rotation', 'tbot-outdated']],
    ]);
    expect(first.report.pods.filter((p) => p.node !== node).every((p) => p.state === 'healthy' && p.findings.length === 0)).toBe(true);
    expect(agentOutcomes(first.outcomes)).toEqual([]);
    const serialsBefore = new Map(stuck.map((p) => [p.name, p.certificate!.serialNumber]));

    // 50 min: expiring. One agent restart for both pods (the second event was observed before it), no workload touched.
    advance(w, 5);
    const second = await sweep(w, 's2');
    expect(agentOutcomes(second.outcomes)).toEqual([`${node}:restarted:expiring`, `${node}:skipped:stale-event`]);
    expect(workloadOutcomes(second.outcomes)).toEqual([]);
    const restarted = second.outcomes.find((o) => o.detailType === 'Agent Restart' && o.detail.outcome === 'restarted')!;
    expect(restarted.detail).toMatchObject({ agentPod: oldAgent, namespace: TBOT_NAMESPACE, version: '18.5.0', upgradeAdvice: `upgrade tbot on node ${node} (18.5.0 → 18.6.4)`, upgradeTo: '18.6.4' });
    // Every pod the restart fixes, not only the one whose event triggered it: both pods of the node.
    const onNode = second.report.pods.filter((p) => p.node === node);
    const agentDetail = restarted.detail as AgentRestartDetail;
    expect(agentDetail.pods.map((p) => `${p.namespace}/${p.name}:${p.state}`).sort()).toEqual(onNode.map((p) => `shop/${p.name}:expiring`).sort());
    expect(agentDetail).not.toHaveProperty('podsTotal');
    for (const outcome of second.outcomes) expect(outcome.detail.pods).toHaveLength(2);
    expect(w.emulator.requests.some((r) => r.method === 'DELETE' && r.path === `/api/v1/namespaces/${TBOT_NAMESPACE}/pods/${oldAgent}`)).toBe(true);
    expect(w.emulator.get('Pod', TBOT_NAMESPACE, oldAgent)).toBeUndefined();
    expect(w.fleet.agentOn(node)!.name).not.toBe(oldAgent);

    // Next sweep: every pod on the node rotated (fresh SVID on the new stream); zero application restarts.
    advance(w, 5);
    const third = await sweep(w, 's3');
    const after = third.report.pods.filter((p) => p.node === node);
    expect(after.map((p) => p.state)).toEqual(['healthy', 'healthy']);
    for (const pod of after) expect(pod.certificate!.serialNumber).not.toBe(serialsBefore.get(pod.name));
    expect(after.every((p) => p.findings.join() === 'tbot-outdated')).toBe(true);
    expect(third.outcomes.filter((o) => o.detail.outcome === 'restarted')).toEqual([]);
    expect(restartedDeployments(w)).toEqual([]);
  });

  it('falls back to a workload restart when the agent restart did not fix a pod', async () => {
    const w = await setUp({ 0: '18.5.0' }, { stuck: (pod) => pod.metadata.name.startsWith('orders') });
    const node = w.nodes[0]!;
    await sweep(w, 's1');
    advance(w, 5);
    const second = await sweep(w, 's2');
    expect(agentOutcomes(second.outcomes)).toEqual([`${node}:restarted:expiring`, `${node}:skipped:stale-event`]);

    advance(w, 5);
    const third = await sweep(w, 's3');
    // carts reconnected and rotated; orders' Envoy did not: its workload is restarted now.
    expect(third.report.pods.find((p) => p.node === node && p.name.startsWith('carts'))!.state).toBe('healthy');
    expect(agentOutcomes(third.outcomes)).toEqual([]);
    expect(workloadOutcomes(third.outcomes)).toEqual(['orders:restarted:expiring']);
    const fallback = third.outcomes.find((o) => o.detailType === 'Workload Restart')!;
    expect(fallback.detail.message).toMatch(new RegExp(`the tbot agent restart on node ${node.replace(/\./g, '\\.')} at .* did not fix pod orders-`));
    expect(fallback.detailType === 'Workload Restart' && fallback.detail.agentRestartAt).toBeTruthy();
    expect(restartedDeployments(w).map((d) => d.metadata.name)).toEqual(['orders']);
  });

  it('restarts one agent at a time, never while a replacement is not Ready', async () => {
    const w = await setUp({ 0: '18.5.0', 1: '17.6.0' }, { policy: { breakerUnhealthyShare: 1 } });
    const affected = [w.nodes[0]!, w.nodes[1]!];
    for (const node of affected) w.fleet.holdNotReady(node);
    await sweep(w, 's1');
    advance(w, 5);
    // Both nodes' pods are expiring: one agent goes first, the other node waits (the cluster lease).
    const second = await sweep(w, 's2');
    const first = second.outcomes.find((o) => o.detailType === 'Agent Restart' && o.detail.outcome === 'restarted')!.detail as { node: string };
    const other = affected.find((n) => n !== first.node)!;
    expect(agentOutcomes(second.outcomes)).toEqual(
      [`${first.node}:restarted:expiring`, `${first.node}:skipped:stale-event`, `${other}:skipped:agent-busy`, `${other}:skipped:agent-busy`].sort(),
    );
    const busy = second.outcomes.find((o) => o.detailType === 'Agent Restart' && o.detail.reason === 'agent-busy')!;
    expect(busy.detail).toMatchObject({ node: other, upgradeAdvice: other === w.nodes[1] ? `upgrade tbot on node ${other} (17.6.0 → 17.7.14)` : `upgrade tbot on node ${other} (18.5.0 → 18.6.4)` });
    expect(w.fleet.agentOn(first.node)!.ready).toBe(false);

    // Five minutes on, the replacement is still not Ready: the other agent is left alone, and the
    // not-Ready replacement itself is not deleted either.
    advance(w, 5);
    const third = await sweep(w, 's3');
    expect(agentOutcomes(third.outcomes)).toEqual(
      [`${first.node}:skipped:agent-not-ready`, `${first.node}:skipped:agent-not-ready`, `${other}:skipped:agent-not-ready`, `${other}:skipped:agent-not-ready`].sort(),
    );
    const waiting = third.outcomes.find((o) => o.detailType === 'Agent Restart' && o.detail.node === other)!;
    expect(waiting.detail.message).toContain('one agent at a time, never another while a replacement is not Ready');

    // Replacement Ready: now the other agent may go; its replacement is Ready at once.
    w.fleet.releaseReady(first.node);
    w.fleet.releaseReady(other);
    w.fleet.reconcile();
    advance(w, 5);
    const fourth = await sweep(w, 's4');
    expect(agentOutcomes(fourth.outcomes).filter((o) => o.startsWith(other))).toEqual([`${other}:restarted:expired`, `${other}:skipped:stale-event`]);
    expect(fourth.report.pods.filter((p) => p.node === first.node).map((p) => p.state)).toEqual(['healthy', 'healthy']);
    expect(workloadOutcomes(fourth.outcomes).filter((o) => o.includes(':restarted:'))).toEqual([]);
    expect(restartedDeployments(w)).toEqual([]);
  });

  it('spends the hourly budget like workload restarts do', async () => {
    const w = await setUp({ 0: '18.5.0', 1: '18.5.0' }, { policy: { breakerUnhealthyShare: 1, budgetPerHour: 1, agentSpacingSeconds: 0 } });
    await sweep(w, 's1');
    advance(w, 5);
    const second = await sweep(w, 's2');
    const outcomes = agentOutcomes(second.outcomes);
    expect(outcomes.filter((o) => o.includes(':restarted:'))).toHaveLength(1);
    expect(outcomes.filter((o) => o.endsWith(':skipped:budget'))).toHaveLength(2);
    const budget = second.outcomes.find((o) => o.detailType === 'Agent Restart' && o.detail.reason === 'budget')!;
    expect(budget.detail).toMatchObject({ budget: { limit: 1, used: 1 } });
  });

  it('reports dry-run and changes nothing in dry-run', async () => {
    const w = await setUp({ 0: '18.5.0' }, { policy: { dryRun: true } });
    const agent = w.fleet.agentOn(w.nodes[0]!)!.name;
    await sweep(w, 's1');
    advance(w, 5);
    const second = await sweep(w, 's2');
    expect(agentOutcomes(second.outcomes)).toEqual([`${w.nodes[0]}:dry-run:expiring`, `${w.nodes[0]}:skipped:cooldown`]);
    expect(w.emulator.get('Pod', TBOT_NAMESPACE, agent)).toBeDefined();
    expect(w.emulator.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });
});
