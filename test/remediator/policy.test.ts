/** The pure remediation policy: precedence, each rule's edges, workload facts per kind, event parsing, keys. */
import { describe, expect, it } from '@jest/globals';
import { ZodError } from 'zod';
import { InvalidEventError } from '../../src/core/model/errors.js';
import {
  budgetWindow,
  budgetKey,
  DECISION_ORDER,
  decide,
  effectivePolicy,
  parseTrigger,
  remediationPolicy,
  restartDetail,
  workloadKey,
  type Decision,
  type DecisionInput,
  type Observation,
  type RemediationTrigger,
} from '../../src/core/remediation/remediation.js';
import type { RestartRecord } from '../../src/core/remediation/restart-record.js';
import { workloadFacts, type WorkloadFacts } from '../../src/core/remediation/workload-facts.js';
import { CALM_SUMMARY, iso, minutes, NOW, POLICY } from './kit.js';

const TRIGGER: RemediationTrigger = {
  cluster: 'prod-mesh',
  sweepId: 'sweep-9',
  observedAt: iso(minutes(-1)),
  namespace: 'shop',
  name: 'carts-5d8f-abcde',
  uid: 'uid-carts-1',
  serviceAccount: 'carts',
  node: 'node-1',
  workload: { kind: 'Deployment', name: 'carts' },
  state: 'expiring',
  findings: ['sds-pushes-stopped'],
  source: 'tbot',
  certificate: {
    serialNumber: 'AA01',
    fingerprintSha256: 'AB:CD',
    spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
    notBefore: iso(minutes(-53)),
    notAfter: iso(minutes(7)),
    ageSeconds: 3180,
    remainingSeconds: 420,
    lifetimeSeconds: 3600,
  },
  secrets: [],
  sweepSummary: CALM_SUMMARY,
};

const SETTLED: WorkloadFacts = {
  kind: 'Deployment',
  name: 'carts',
  paused: false,
  rolling: null,
  updateStrategy: 'RollingUpdate',
  lastRestartedAt: null,
  policyAnnotation: undefined,
  resourceVersion: '7',
};

const HEALTHY_VIEW: Observation = {
  namespaceFound: true,
  pod: { uid: 'uid-carts-1', createdAt: iso(minutes(-120)), terminating: false },
  owner: { type: 'workload', facts: SETTLED },
};

function input(overrides: { trigger?: Partial<RemediationTrigger>; observation?: Partial<Observation>; lastRestart?: RestartRecord; policy?: Partial<typeof POLICY> } = {}): DecisionInput {
  return {
    trigger: { ...TRIGGER, ...overrides.trigger },
    observation: { ...HEALTHY_VIEW, ...overrides.observation },
    lastRestart: overrides.lastRestart,
    policy: { ...POLICY, ...overrides.policy },
    now: NOW,
  };
}

const reasonOf = (decision: Decision): string => (decision.verdict === 'skip' ? decision.reason : `restart:${decision.action}`);
const withFacts = (facts: Partial<WorkloadFacts>): Partial<Observation> => ({ owner: { type: 'workload', facts: { ...SETTLED, ...facts } } });

describe('decide: precedence', () => {
  it('applies the rules in DECISION_ORDER: fixing each failing condition in turn reveals the next rule', () => {
    // Every rule's condition holds at first; each step removes one and the next rule answers.
    const trigger: RemediationTrigger = { ...TRIGGER, state: 'stale', observedAt: iso(minutes(-30)) };
    delete (trigger as { sweepSummary?: unknown }).sweepSummary;
    let state: DecisionInput = {
      trigger,
      observation: { namespaceFound: true, namespacePolicy: 'alert', pod: { uid: 'someone-else', createdAt: iso(minutes(-8)), terminating: false }, owner: { type: 'bare' } },
      lastRestart: { restartedAt: iso(minutes(-10)), triggeredBy: 'sweep-1', serials: ['AA01'] },
      policy: POLICY,
      now: NOW,
    };
    const lateFacts: WorkloadFacts = { ...SETTLED, paused: true, rolling: '1 of 2 replicas updated', updateStrategy: 'OnDelete', lastRestartedAt: iso(minutes(-5)) };
    const fixes: [string, (s: DecisionInput) => DecisionInput][] = [
      ['not-restartable', (s) => ({ ...s, trigger: { ...s.trigger, state: 'expiring' } })],
      ['opted-out', (s) => ({ ...s, observation: { ...s.observation, namespacePolicy: undefined } })],
      ['gone', (s) => ({ ...s, observation: { ...s.observation, pod: { ...s.observation.pod!, uid: TRIGGER.uid } } })],
      ['stale-event', (s) => ({ ...s, trigger: { ...s.trigger, observedAt: iso(minutes(-1)) } })],
      ['breaker', (s) => ({ ...s, trigger: { ...s.trigger, sweepSummary: CALM_SUMMARY } })],
      ['bare-pod', (s) => ({ ...s, observation: { ...s.observation, owner: { type: 'unsupported', ref: { kind: 'Job', name: 'carts-once' } } } })],
      ['unsupported-workload', (s) => ({ ...s, observation: { ...s.observation, owner: { type: 'workload', facts: lateFacts } } })],
      ['restart-did-not-fix', (s) => ({ ...s, lastRestart: undefined })],
      ['paused', (s) => ({ ...s, observation: { ...s.observation, ...withFacts({ ...lateFacts, paused: false }) } })],
      ['rolling', (s) => ({ ...s, observation: { ...s.observation, ...withFacts({ ...lateFacts, paused: false, rolling: null }) } })],
      ['on-delete', (s) => ({ ...s, observation: { ...s.observation, ...withFacts({ ...lateFacts, paused: false, rolling: null, updateStrategy: 'RollingUpdate' }) } })],
      ['cooldown', (s) => ({ ...s, observation: { ...s.observation, ...withFacts({ ...SETTLED, lastRestartedAt: iso(minutes(-20)) }) } })],
    ];
    const seen: string[] = [];
    for (const [expected, fix] of fixes) {
      const decision = decide(state);
      seen.push(reasonOf(decision));
      expect(reasonOf(decision)).toBe(expected);
      state = fix(state);
    }
    expect(seen).toEqual([...DECISION_ORDER]);
    expect(reasonOf(decide(state))).toBe('restart:rollout-restart');
  });

  it('restarts a settled Deployment for an expiring pod and says why', () => {
    const decision = decide(input());
    expect(decision).toMatchObject({ verdict: 'restart', action: 'rollout-restart', workload: { kind: 'Deployment', name: 'carts' }, policy: 'restart', policySource: 'default' });
    expect(decision.message).toBe(`rollout restart of Deployment shop/carts: pod carts-5d8f-abcde certificate expiring (leaf AA01, notAfter ${iso(minutes(7))})`);
  });
});

describe('decide: states', () => {
  it.each(['missing', 'unreachable', 'healthy'] as const)('never restarts for %s, even when the settings list it', (state) => {
    const decision = decide(input({ trigger: { state, certificate: null }, policy: { restartStates: ['missing', 'unreachable', 'healthy', 'expiring'] } }));
    expect(reasonOf(decision)).toBe('not-restartable');
    expect(decision.message).toContain(state === 'healthy' ? 'findings alone never restart' : 'never restarted for: no certificate was read');
  });

  it('never restarts for a leaf that is not valid yet (expired by state, but a restart gets a certificate from the same clock)', () => {
    const future = { ...TRIGGER.certificate!, notBefore: iso(minutes(10)), notAfter: iso(minutes(70)), ageSeconds: 0, remainingSeconds: 4200 };
    const decision = decide(input({ trigger: { state: 'expired', findings: ['not-yet-valid'], certificate: future } }));
    expect(reasonOf(decision)).toBe('not-restartable');
    expect(decision.message).toBe(
      `pod carts-5d8f-abcde: the leaf is not valid yet (notBefore ${iso(minutes(10))}); a restart would fetch a certificate from the same clock: check time sync`,
    );
    // The same pod without the finding is restarted: the rule is the finding, not the state.
    expect(reasonOf(decide(input({ trigger: { state: 'expired' } })))).toBe('restart:rollout-restart');
  });

  it('restarts for stale only when the policy names it', () => {
    expect(reasonOf(decide(input({ trigger: { state: 'stale' } })))).toBe('not-restartable');
    expect(reasonOf(decide(input({ trigger: { state: 'stale' }, policy: { restartStates: ['stale', 'expiring', 'expired'] } })))).toBe('restart:rollout-restart');
  });
});

describe('decide: policy annotations', () => {
  it('takes the workload annotation over the pod and the namespace', () => {
    const observation: Observation = { ...HEALTHY_VIEW, namespacePolicy: 'ignore', pod: { ...HEALTHY_VIEW.pod!, policyAnnotation: 'alert' }, owner: { type: 'workload', facts: { ...SETTLED, policyAnnotation: 'restart' } } };
    expect(effectivePolicy(observation)).toEqual({ policy: 'restart', source: 'workload' });
    expect(reasonOf(decide(input({ observation })))).toBe('restart:rollout-restart');
  });

  it('takes the pod annotation (pod template) over the namespace, and the namespace over the default', () => {
    expect(effectivePolicy({ ...HEALTHY_VIEW, namespacePolicy: 'restart', pod: { ...HEALTHY_VIEW.pod!, policyAnnotation: 'ignore' } })).toEqual({ policy: 'ignore', source: 'pod' });
    expect(effectivePolicy({ ...HEALTHY_VIEW, namespacePolicy: 'alert' })).toEqual({ policy: 'alert', source: 'namespace' });
    expect(effectivePolicy(HEALTHY_VIEW)).toEqual({ policy: 'restart', source: 'default' });
  });

  it('treats an unrecognised value as alert-only and names it', () => {
    const decision = decide(input({ observation: withFacts({ policyAnnotation: 'yes please' }) }));
    expect(decision).toMatchObject({ verdict: 'skip', reason: 'opted-out', policy: 'alert', policySource: 'workload' });
    expect(decision.message).toContain('unrecognised mesh-cert-watch.io/policy: "yes please"');
  });

  it('accepts values case-insensitively with surrounding spaces', () => {
    expect(effectivePolicy({ ...HEALTHY_VIEW, namespacePolicy: ' Ignore ' })).toEqual({ policy: 'ignore', source: 'namespace' });
  });
});

describe('decide: gone and stale events', () => {
  it('skips a pod that no longer exists, was replaced, is terminating, or whose namespace or owner is gone', () => {
    expect(decide(input({ observation: { pod: null } })).message).toBe('pod shop/carts-5d8f-abcde no longer exists');
    expect(decide(input({ observation: { pod: { ...HEALTHY_VIEW.pod!, uid: 'new-uid' } } })).message).toContain('was replaced (uid new-uid');
    expect(decide(input({ observation: { pod: { ...HEALTHY_VIEW.pod!, terminating: true } } })).message).toContain('is terminating');
    expect(decide(input({ observation: { namespaceFound: false, pod: null } })).message).toBe('namespace shop no longer exists');
    const missing = decide(input({ observation: { owner: { type: 'missing', ref: { kind: 'ReplicaSet', name: 'carts-5d8f' } } } }));
    expect(missing).toMatchObject({ verdict: 'skip', reason: 'gone', workload: { kind: 'ReplicaSet', name: 'carts-5d8f' } });
  });

  it('skips an event older than maxEventAge, and one observed before the last restart', () => {
    expect(reasonOf(decide(input({ trigger: { observedAt: iso(minutes(-16)) } })))).toBe('stale-event');
    expect(reasonOf(decide(input({ trigger: { observedAt: iso(minutes(-14)) } })))).toBe('restart:rollout-restart');
    const restartedSince = decide(input({ trigger: { observedAt: iso(minutes(-3)) }, observation: withFacts({ lastRestartedAt: iso(minutes(-2)) }) }));
    expect(restartedSince).toMatchObject({ verdict: 'skip', reason: 'stale-event', lastRestartAt: iso(minutes(-2)) });
  });
});

describe('decide: breaker', () => {
  const summary = (sampled: number, healthy: number) => ({ ...CALM_SUMMARY, sampled, healthy, expiring: sampled - healthy });

  it('does not restart when the event carries no sweepSummary', () => {
    const trigger = { ...TRIGGER };
    delete (trigger as { sweepSummary?: unknown }).sweepSummary;
    const decision = decide({ ...input(), trigger });
    expect(reasonOf(decision)).toBe('breaker');
    expect(decision.message).toContain('no sweepSummary');
  });

  it('opens above the share (not at it) and reports the reading', () => {
    const open = decide(input({ trigger: { sweepSummary: summary(10, 4) } }));
    expect(open).toMatchObject({ verdict: 'skip', reason: 'breaker', breaker: { unhealthy: 6, sampled: 10, share: 0.6, threshold: 0.5 } });
    expect(reasonOf(decide(input({ trigger: { sweepSummary: summary(10, 5) } })))).toBe('restart:rollout-restart');
  });

  it('never opens for a single unhealthy pod, whatever share of a tiny mesh it is', () => {
    expect(reasonOf(decide(input({ trigger: { sweepSummary: summary(1, 0) } })))).toBe('restart:rollout-restart');
    expect(reasonOf(decide(input({ trigger: { sweepSummary: summary(2, 0) } })))).toBe('breaker');
  });
});

describe('decide: bare pods and other controllers', () => {
  it('alerts only for a bare pod unless deletion is enabled and the pod or namespace opted in', () => {
    const bare: Partial<Observation> = { owner: { type: 'bare' } };
    expect(decide(input({ observation: bare }))).toMatchObject({ reason: 'bare-pod', workload: { kind: 'Pod', name: TRIGGER.name } });
    expect(reasonOf(decide(input({ observation: bare, policy: { deleteBarePods: true } })))).toBe('bare-pod');
    expect(reasonOf(decide(input({ observation: { ...bare, namespacePolicy: 'restart' } })))).toBe('bare-pod');
    expect(reasonOf(decide(input({ observation: { ...bare, namespacePolicy: 'restart' }, policy: { deleteBarePods: true } })))).toBe('restart:delete-pod');
    const podOptIn = { ...bare, pod: { ...HEALTHY_VIEW.pod!, policyAnnotation: 'restart' } };
    expect(reasonOf(decide(input({ observation: podOptIn, policy: { deleteBarePods: true } })))).toBe('restart:delete-pod');
  });

  it('alerts only for controllers without a rollout restart', () => {
    const decision = decide(input({ observation: { owner: { type: 'unsupported', ref: { kind: 'CronJob', name: 'report' } } } }));
    expect(decision).toMatchObject({ verdict: 'skip', reason: 'unsupported-workload', workload: { kind: 'CronJob', name: 'report' } });
  });
});

describe('decide: verification of the last restart', () => {
  const record: RestartRecord = { restartedAt: iso(minutes(-10)), triggeredBy: 'sweep-1', serials: ['AA01'] };
  const newPod = { pod: { uid: TRIGGER.uid, createdAt: iso(minutes(-9)), terminating: false } };

  it('reports restart-did-not-fix when a pod made after the restart serves the old serial', () => {
    const decision = decide(input({ observation: newPod, lastRestart: record }));
    expect(decision).toMatchObject({ verdict: 'skip', reason: 'restart-did-not-fix', verification: 'not-fixed', lastRestartAt: record.restartedAt });
    expect(decision.message).toContain('still serves leaf serial AA01');
  });

  it('reports restart-did-not-fix when a new pod serves a leaf issued well before the pod existed', () => {
    const decision = decide(input({ observation: newPod, lastRestart: { ...record, serials: ['OTHER'] } }));
    expect(decision).toMatchObject({ reason: 'restart-did-not-fix', verification: 'not-fixed' });
    expect(decision.message).toContain('before the pod existed');
  });

  it('does not judge pods that predate the restart, nor a new pod with a fresh leaf (that is cooldown)', () => {
    expect(reasonOf(decide(input({ lastRestart: record })))).toBe('cooldown');
    const fresh = { ...TRIGGER.certificate!, serialNumber: 'BB02', notBefore: iso(minutes(-9)) };
    expect(reasonOf(decide(input({ observation: newPod, lastRestart: record, trigger: { certificate: fresh } })))).toBe('cooldown');
  });
});

describe('decide: controller state and cooldown', () => {
  it('skips paused, mid-rollout and OnDelete workloads with the reason in the message', () => {
    expect(decide(input({ observation: withFacts({ paused: true }) })).message).toBe('Deployment shop/carts is paused');
    expect(decide(input({ observation: withFacts({ rolling: '1 of 3 replicas updated' }) })).message).toBe('Deployment shop/carts is mid-rollout: 1 of 3 replicas updated');
    expect(reasonOf(decide(input({ observation: withFacts({ kind: 'StatefulSet', updateStrategy: 'OnDelete' }) })))).toBe('on-delete');
  });

  it('keeps the cooldown from the restartedAt annotation, up to but not at its end', () => {
    const at14 = decide(input({ observation: withFacts({ lastRestartedAt: iso(minutes(-14)) }) }));
    expect(at14).toMatchObject({ verdict: 'skip', reason: 'cooldown', cooldownUntil: iso(minutes(1)) });
    expect(reasonOf(decide(input({ observation: withFacts({ lastRestartedAt: iso(minutes(-15)) }) })))).toBe('restart:rollout-restart');
  });

  it('keeps the cooldown from our own restart record when the annotation is older', () => {
    const decision = decide(input({ lastRestart: { restartedAt: iso(minutes(-5)), triggeredBy: 's', serials: [] }, observation: withFacts({ lastRestartedAt: iso(minutes(-60)) }) }));
    expect(decision).toMatchObject({ reason: 'cooldown', lastRestartAt: iso(minutes(-5)) });
  });

  it('takes the cooldown from minutes in the runtime settings', () => {
    const policy = remediationPolicy({ restartStates: ['expired'], cooldownMinutes: 30, budgetPerHour: 2, breakerUnhealthyShare: 0.3, dryRun: true, deleteBarePods: false });
    expect(policy).toMatchObject({ restartStates: ['expired'], cooldownSeconds: 1800, budgetPerHour: 2, breakerUnhealthyShare: 0.3, dryRun: true });
    expect(reasonOf(decide({ ...input({ trigger: { state: 'expired' }, observation: withFacts({ lastRestartedAt: iso(minutes(-20)) }) }), policy }))).toBe('cooldown');
  });
});

describe('workloadFacts', () => {
  const deployment = (status: Record<string, unknown>, spec: Record<string, unknown> = {}, generation = 3) => ({
    metadata: { generation, resourceVersion: '42', annotations: { 'mesh-cert-watch.io/policy': 'alert' } },
    spec: { replicas: 3, template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2030-03-01T11:00:00Z' } } }, ...spec },
    status: { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3, ...status },
  });

  it('reads a settled Deployment: strategy, restartedAt, policy annotation, resourceVersion', () => {
    expect(workloadFacts('Deployment', 'carts', deployment({}))).toEqual({
      kind: 'Deployment',
      name: 'carts',
      paused: false,
      rolling: null,
      updateStrategy: 'RollingUpdate',
      lastRestartedAt: '2030-03-01T11:00:00Z',
      policyAnnotation: 'alert',
      resourceVersion: '42',
    });
  });

  it('tells why a Deployment is mid-rollout, like kubectl rollout status', () => {
    expect(workloadFacts('Deployment', 'd', deployment({ observedGeneration: 2 })).rolling).toBe('the controller has observed generation 2 of 3');
    expect(workloadFacts('Deployment', 'd', deployment({ updatedReplicas: 1 })).rolling).toBe('1 of 3 replicas updated');
    expect(workloadFacts('Deployment', 'd', deployment({ replicas: 4 })).rolling).toBe('1 old replicas pending termination');
    expect(workloadFacts('Deployment', 'd', deployment({ availableReplicas: 2 })).rolling).toBe('2 of 3 updated replicas available');
    expect(workloadFacts('Deployment', 'd', deployment({}, { paused: true })).paused).toBe(true);
  });

  it('reads StatefulSet and DaemonSet update strategies and rollouts in progress', () => {
    const sts = { metadata: { generation: 1 }, spec: { replicas: 2, updateStrategy: { type: 'OnDelete' } }, status: { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'b' } };
    expect(workloadFacts('StatefulSet', 's', sts)).toMatchObject({ updateStrategy: 'OnDelete', rolling: null, paused: false });
    const rolling = { ...sts, spec: { replicas: 2, updateStrategy: { type: 'RollingUpdate' } } };
    expect(workloadFacts('StatefulSet', 's', rolling).rolling).toBe('revision a is being replaced by b');
    const ds = { metadata: { generation: 1 }, spec: { updateStrategy: { type: 'RollingUpdate' } }, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3 } };
    expect(workloadFacts('DaemonSet', 'd', ds).rolling).toBe('2 of 3 nodes updated');
  });

  it('reads an Argo Rollout: string observedGeneration, pause conditions, canary in progress, restartAt', () => {
    const rollout = {
      metadata: { generation: 2 },
      spec: { replicas: 2, restartAt: '2030-03-01T10:00:00Z', strategy: { canary: {} } },
      status: { observedGeneration: '2', phase: 'Healthy', updatedReplicas: 2, currentPodHash: 'h1', stableRS: 'h1', restartedAt: '2030-03-01T10:00:05Z' },
    };
    expect(workloadFacts('Rollout', 'r', rollout)).toMatchObject({ paused: false, rolling: null, updateStrategy: 'Canary', lastRestartedAt: '2030-03-01T10:00:05Z' });
    expect(workloadFacts('Rollout', 'r', { ...rollout, status: { ...rollout.status, observedGeneration: '1' } }).rolling).toBe('the controller has observed generation 1 of 2');
    expect(workloadFacts('Rollout', 'r', { ...rollout, status: { ...rollout.status, pauseConditions: [{ reason: 'CanaryPauseStep' }] } }).paused).toBe(true);
    expect(workloadFacts('Rollout', 'r', { ...rollout, status: { ...rollout.status, currentPodHash: 'h2' } }).rolling).toBe('canary h2 is not yet stable (stable h1)');
  });
});

describe('events and keys', () => {
  it('parses a valid Unhealthy detail and names the first bad field of an invalid one', () => {
    expect(parseTrigger(JSON.parse(JSON.stringify(TRIGGER)))).toEqual(TRIGGER);
    // Without sweepSummary the event is still read (the breaker then skips it), and unknown fields are ignored.
    const { sweepSummary: _summary, ...withoutSummary } = TRIGGER;
    expect(parseTrigger({ ...withoutSummary, addedLater: 1 })).toEqual(withoutSummary);
    const bad = (detail: unknown, field: RegExp) => {
      let thrown: unknown;
      try {
        parseTrigger(detail);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidEventError);
      expect((thrown as InvalidEventError).message).toMatch(field);
      expect((thrown as InvalidEventError).cause).toBeInstanceOf(ZodError);
    };
    bad({ ...TRIGGER, uid: '' }, /^detail\.uid: /);
    bad({ ...TRIGGER, state: 'dying' }, /^detail\.state: /);
    bad({ ...TRIGGER, observedAt: 'yesterday' }, /^detail\.observedAt: not an RFC 3339 instant/);
    bad({ ...TRIGGER, sweepSummary: { ...CALM_SUMMARY, healthy: -1 } }, /^detail\.sweepSummary\.healthy: /);
    const { notBefore: _, ...withoutNotBefore } = TRIGGER.certificate!;
    bad({ ...TRIGGER, certificate: withoutNotBefore }, /^detail\.certificate\.notBefore: required$/);
    bad({ ...TRIGGER, findings: ['expired', 'cosmic-rays'] }, /^detail\.findings\[0\]: Invalid option/);
    bad({ ...TRIGGER, findings: ['tbot-outdated', 'tbot-outdated'] }, /^detail\.findings: findings must not repeat$/);
    bad({ ...TRIGGER, secrets: [{ name: 'default', versionInfo: null, lastUpdated: 'now', pushAgeSeconds: null }] }, /^detail\.secrets\[0\]\.lastUpdated: not an RFC 3339 instant$/);
  });

  it('keys leases per workload and budgets per cluster, apart for dry-run; the budget window is the 60 minutes up to now', () => {
    const at = new Date('2030-03-01T12:34:56Z');
    expect(workloadKey('prod-mesh', 'shop', { kind: 'Deployment', name: 'carts' }, false)).toBe('workload#prod-mesh#shop#Deployment#carts');
    expect(workloadKey('prod-mesh', 'shop', { kind: 'Deployment', name: 'carts' }, true)).toBe('dry-run#workload#prod-mesh#shop#Deployment#carts');
    expect(budgetKey('prod-mesh', false)).toBe('budget#prod-mesh');
    expect(budgetKey('prod-mesh', true)).toBe('dry-run#budget#prod-mesh');
    expect(budgetWindow(at)).toBe('2030-03-01T11:34:56Z/2030-03-01T12:34:56Z');
  });

  it('builds the Workload Restart detail with the contract fields and drops absent extras', () => {
    const detail = restartDetail(TRIGGER, {
      outcome: 'skipped',
      reason: 'cooldown',
      message: 'm',
      workload: { kind: 'Deployment', name: 'carts' },
      action: null,
      dryRun: false,
      at: NOW,
      extra: { cooldownUntil: iso(minutes(3)), statusCode: undefined },
    });
    expect(detail).toEqual({
      cluster: 'prod-mesh',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'carts' },
      outcome: 'skipped',
      reason: 'cooldown',
      pods: [{ name: 'carts-5d8f-abcde', state: 'expiring', findings: ['sds-pushes-stopped'] }],
      triggeredBy: 'sweep-9',
      at: iso(NOW),
      message: 'm',
      dryRun: false,
      action: null,
      podUid: 'uid-carts-1',
      policy: 'restart',
      policySource: 'default',
      cooldownUntil: iso(minutes(3)),
    });
  });
});
