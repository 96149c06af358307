/** The pure parts of node-aware remediation: when the agent path applies, and decideAgent's rules. */
import { describe, expect, it } from '@jest/globals';
import { agentRestartDetail, decideAgent, provenStale, tbotSideDiagnosis, type AgentObservation } from '../../src/core/remediation/agent-remediation.js';
import { DEFAULT_REMEDIATION_POLICY, isActionable, parseTrigger, type RemediationTrigger } from '../../src/core/remediation/remediation.js';
import { agentPod } from './agent-kit.js';

const NOW = new Date('2026-11-30T10:00:00Z');
const NODE = 'ip-10-0-1-10.ec2.internal';

const trigger = (extra: Partial<RemediationTrigger> & { rotation?: unknown } = {}): RemediationTrigger => ({
  cluster: 'prod',
  sweepId: 's1',
  observedAt: '2026-11-30T09:59:00.000Z',
  namespace: 'shop',
  name: 'orders-1',
  uid: 'u1',
  serviceAccount: 'orders',
  node: NODE,
  workload: { kind: 'Deployment', name: 'orders' },
  state: 'expiring',
  findings: ['sds-push-without-rotation', 'tbot-outdated'],
  source: 'tbot',
  certificate: {
    serialNumber: 'AA',
    fingerprintSha256: 'AA:BB',
    spiffeId: 'spiffe://example.org/ns/shop/sa/orders',
    notBefore: '2026-11-30T09:10:00.000Z',
    notAfter: '2026-11-30T10:10:00.000Z',
    ageSeconds: 2940,
    remainingSeconds: 660,
    lifetimeSeconds: 3600,
  },
  secrets: [],
  agent: { pod: 'tbot-a', version: '18.5.0' },
  sweepSummary: { sampled: 20, skipped: 0, healthy: 18, stale: 0, expiring: 2, expired: 0, missing: 0, unreachable: 0 },
  ...extra,
});

const agent = agentPod;

const observation = (extra: Partial<AgentObservation> = {}): AgentObservation => ({
  agents: [agent('tbot-a', NODE), agent('tbot-b', 'other-node')],
  daemonSet: { name: 'tbot', rolling: null },
  ...extra,
});

const decide = (t: RemediationTrigger, o: AgentObservation = observation(), lastRestart?: Parameters<typeof decideAgent>[0]['lastRestart']) =>
  decideAgent({ trigger: t, observation: o, lastRestart, policy: DEFAULT_REMEDIATION_POLICY, now: NOW });

describe('when the agent path applies', () => {
  it('needs a tbot-side diagnosis', () => {
    expect(tbotSideDiagnosis(trigger())).toBe(true);
    expect(tbotSideDiagnosis(trigger({ findings: ['sds-pushes-stopped'], source: 'tbot' }))).toBe(true);
    expect(tbotSideDiagnosis(trigger({ findings: ['sds-pushes-stopped', 'workload-certs-volume'], source: 'istio-agent' }))).toBe(false);
    expect(tbotSideDiagnosis(trigger({ findings: ['identity-mismatch'] }))).toBe(false);
  });

  it('acts at stale only when the diagnosis is definite (and actOnProvenStale is on)', () => {
    const stale = trigger({ state: 'stale' });
    expect(isActionable(stale, DEFAULT_REMEDIATION_POLICY)).toBe(false);
    const proven = trigger({ state: 'stale', rotation: { expectedRenewalAt: '2026-11-30T09:30:00.000Z', overdueSeconds: 1740, provenAcrossSweeps: true } });
    expect(provenStale(proven)).toBe(true);
    expect(isActionable(proven, DEFAULT_REMEDIATION_POLICY)).toBe(true);
    expect(isActionable(proven, { ...DEFAULT_REMEDIATION_POLICY, actOnProvenStale: false })).toBe(false);
    const files = trigger({ state: 'stale', source: 'istio-agent', findings: ['sds-pushes-stopped', 'workload-certs-volume'] });
    expect(isActionable(files, DEFAULT_REMEDIATION_POLICY)).toBe(true);
    expect(isActionable(trigger({ state: 'missing' }), DEFAULT_REMEDIATION_POLICY)).toBe(false);
  });
});

describe('decideAgent', () => {
  it('restarts the Ready agent on the pod node, naming the upgrade', () => {
    expect(decide(trigger())).toMatchObject({
      path: 'agent',
      verdict: 'restart',
      agent: { name: 'tbot-a' },
      message: expect.stringContaining(`upgrade tbot on node ${NODE} (18.5.0 → 18.6.4)`),
    });
  });

  it('leaves the decision to the workload path when no agent runs on the node or the agent side opted out', () => {
    expect(decide(trigger(), observation({ agents: [agent('tbot-b', 'other-node')] }))).toMatchObject({ path: 'workload', note: `no tbot agent found on node ${NODE}` });
    expect(decide(trigger(), observation({ daemonSet: { name: 'tbot', rolling: null, policyAnnotation: 'alert' } }))).toMatchObject({ path: 'workload', note: expect.stringContaining('mesh-cert-watch.io/policy: alert') });
    expect(decide(trigger(), observation({ namespacePolicy: 'ignore' }))).toMatchObject({ path: 'workload' });
  });

  it('waits while the DaemonSet rolls out, and opens the breaker like workload restarts', () => {
    expect(decide(trigger(), observation({ daemonSet: { name: 'tbot', rolling: '1 of 3 nodes updated' } }))).toMatchObject({ verdict: 'skip', reason: 'rolling' });
    const outage = trigger({ sweepSummary: { sampled: 10, skipped: 0, healthy: 2, stale: 0, expiring: 8, expired: 0, missing: 0, unreachable: 0 } });
    expect(decide(outage)).toMatchObject({ verdict: 'skip', reason: 'breaker' });
    expect(decide(trigger({ sweepSummary: undefined }))).toMatchObject({ verdict: 'skip', reason: 'breaker' });
  });

  it('never while a replacement is not Ready; an agent broken for longer than the grace does not block others', () => {
    const young = agent('tbot-c', 'third-node', { ready: false, createdAt: '2026-11-30T09:57:00Z' });
    expect(decide(trigger(), observation({ agents: [agent('tbot-a', NODE), young] }))).toMatchObject({ verdict: 'skip', reason: 'agent-not-ready' });
    const old = agent('tbot-c', 'third-node', { ready: false, createdAt: '2026-11-30T08:00:00Z' });
    expect(decide(trigger(), observation({ agents: [agent('tbot-a', NODE), old] }))).toMatchObject({ verdict: 'restart' });
    expect(decide(trigger(), observation({ agents: [agent('tbot-a', NODE, { ready: false })] }))).toMatchObject({ verdict: 'skip', reason: 'agent-not-ready' });
  });

  it('verifies its last restart: wait for the next sweep, then fall back when the leaf predates it', () => {
    const record = { restartedAt: '2026-11-30T09:40:00Z', triggeredBy: 's0', serials: ['AA'] };
    const replacement = observation({ agents: [agent('tbot-a2', NODE, { createdAt: '2026-11-30T09:40:01Z' })] });
    expect(decide(trigger({ observedAt: '2026-11-30T09:39:00.000Z' }), replacement, record)).toMatchObject({ verdict: 'skip', reason: 'stale-event' });
    expect(decide(trigger(), replacement, record)).toMatchObject({ path: 'workload', agentRestartAt: '2026-11-30T09:40:00Z', note: expect.stringContaining('did not fix pod orders-1') });
    // A leaf issued after the restart: it worked; this is a new lifetime running out, restart again.
    const fresh = trigger({ certificate: { ...trigger().certificate!, notBefore: '2026-11-30T09:40:05.000Z' } });
    expect(decide(fresh, replacement, record)).toMatchObject({ verdict: 'restart', lastRestartAt: '2026-11-30T09:40:00Z' });
  });
});

describe('Agent Restart pods', () => {
  const parts = { namespace: 'teleport-system', agent: agent('tbot-a', NODE), outcome: 'restarted' as const, reason: 'expiring' as const, message: 'm', dryRun: false, at: NOW };
  const other = { namespace: 'shop', name: 'carts-1', state: 'stale' as const, findings: ['sds-push-without-rotation' as const] };
  const self = { namespace: 'shop', name: 'orders-1', state: 'expiring' as const, findings: ['sds-push-without-rotation' as const, 'tbot-outdated' as const] };

  it('lists every pod the agent serves that the sweep found not healthy, the triggering pod first', () => {
    const detail = agentRestartDetail(trigger({ agentPods: [other, self], agentPodsTotal: 2 }), parts);
    expect(detail.pods).toEqual([self, other]);
    expect(detail).not.toHaveProperty('podsTotal');
  });

  it('lists the triggering pod alone for an event without agentPods (an older sampler)', () => {
    expect(agentRestartDetail(trigger(), parts).pods).toEqual([self]);
  });

  it('says how many pods were affected when the event listed only the first ones', () => {
    // The trigger is beyond the event's limit: listed first, counted once.
    const detail = agentRestartDetail(trigger({ agentPods: [other], agentPodsTotal: 150 }), parts);
    expect(detail.pods.map((p) => p.name)).toEqual(['orders-1', 'carts-1']);
    expect(detail.podsTotal).toBe(150);
  });

  it('refuses a malformed agentPods list, naming the field', () => {
    const { agentPods: _unused, ...base } = trigger();
    expect(() => parseTrigger({ ...base, agentPods: [{ namespace: 'shop', name: 'x', state: 'broken', findings: [] }] })).toThrow(/detail\.agentPods\[0\]\.state/);
    expect(() => parseTrigger({ ...base, agentPods: 'all' })).toThrow(/detail\.agentPods/);
    expect(() => parseTrigger({ ...base, agentPodsTotal: -1 })).toThrow(/detail\.agentPodsTotal/);
    expect(parseTrigger({ ...base, agentPods: [self], agentPodsTotal: 1 }).agentPods).toEqual([self]);
  });
});
