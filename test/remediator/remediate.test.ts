/**
 * The remediation engine against the Kubernetes API emulator through the real client-node, and
 * (for the concurrency cases) the DynamoDB guard against dynalite: what goes over the wire per
 * controller kind, and every safety rule of issue 8.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRestartGuard } from '../../src/aws/restart-guard.js';
import type { RemediationDetail, RemediationPolicy, RemediationTrigger } from '../../src/core/remediation/remediation.js';
import { InMemoryRestartGuard } from '../../src/cli/memory-restart-guard.js';
import type { RestartGuard } from '../../src/ports/restart-guard.js';
import { startKubeApiEmulator, type AuthorizationRequest, type KubeApiEmulator, type KubeObject, type RecordedRequest } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { remediate } from '../../src/remediator/remediate.js';
import { iso, minutes, NOW, POLICY, startDynalite, triggerFor, type LocalDynamo } from './kit.js';

const RESTARTED_AT = '2030-03-01T12:00:00Z'; // NOW as kubectl writes it
const NO_RETRY = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

let emulator: KubeApiEmulator;
let mesh: Mesh;
let kube: KubeClient;
let dynamo: LocalDynamo;
let apiNow = minutes(-120);
let authorize: (request: AuthorizationRequest) => boolean | Promise<boolean> = () => true;
let tableCounter = 0;

beforeAll(async () => {
  emulator = await startKubeApiEmulator({ clock: () => apiNow, authorize: (request) => authorize(request) });
  mesh = new Mesh(emulator, { startTime: minutes(-120) });
  kube = new KubeClient(emulator.kubeConfig(), { retry: NO_RETRY });
  dynamo = await startDynalite();
});

afterAll(async () => {
  await emulator.close();
  await dynamo.close();
});

beforeEach(() => {
  authorize = () => true;
  apiNow = minutes(-120);
  emulator.clearFaults();
  emulator.requests.clear();
});

function run(trigger: RemediationTrigger, options: { policy?: Partial<RemediationPolicy>; guard?: RestartGuard; now?: Date } = {}): Promise<RemediationDetail> {
  return remediate(trigger, {
    kube,
    guard: options.guard ?? new InMemoryRestartGuard(),
    policy: { ...POLICY, ...options.policy },
    clock: () => options.now ?? NOW,
  });
}

/** Requests that change something (the emulator serves no POST/PUT the engine could use). */
const mutations = (namespace: string): RecordedRequest[] =>
  emulator.requests.filter((r) => r.method !== 'GET' && r.path.includes(`/namespaces/${namespace}/`));

async function freshTable(): Promise<string> {
  const name = `guard-${++tableCounter}`;
  await dynamo.createTable(name);
  return name;
}

describe('rollout restart on the wire, per controller kind', () => {
  const template = { podAnnotations: { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts":true}' } };
  const cases: [string, (ns: string) => KubeObject, string, string][] = [
    ['Deployment', (ns) => mesh.addDeployment(ns, 'carts', { ...template, replicas: 2 }).pods[0]!, 'apis/apps/v1/namespaces/wire-deployment/deployments/carts', 'application/strategic-merge-patch+json'],
    ['StatefulSet', (ns) => mesh.addStatefulSet(ns, 'ledger', template).pods[0]!, 'apis/apps/v1/namespaces/wire-statefulset/statefulsets/ledger', 'application/strategic-merge-patch+json'],
    ['DaemonSet', (ns) => mesh.addDaemonSet(ns, 'node-agent', template).pods[0]!, 'apis/apps/v1/namespaces/wire-daemonset/daemonsets/node-agent', 'application/strategic-merge-patch+json'],
    ['Rollout', (ns) => mesh.addRollout(ns, 'checkout', template).pods[0]!, 'apis/argoproj.io/v1alpha1/namespaces/wire-rollout/rollouts/checkout', 'application/merge-patch+json'],
  ];

  it.each(cases)('%s: one PATCH with the exact path, content type and body, then the object carries the restart', async (kind, add, path, contentType) => {
    const namespace = `wire-${kind.toLowerCase()}`;
    const pod = add(namespace);
    const name = path.split('/').pop()!;
    const before = emulator.get(kind as 'Deployment', namespace, name)!;
    emulator.requests.clear();

    const detail = await run(triggerFor(pod));

    expect(detail).toMatchObject({ outcome: 'restarted', reason: 'expiring', action: 'rollout-restart', workload: { kind, name }, restartedAt: RESTARTED_AT, dryRun: false });
    const writes = mutations(namespace);
    expect(writes.map((r) => [r.method, r.path, r.contentType, r.status])).toEqual([['PATCH', `/${path}`, contentType, 200]]);
    const precondition = { metadata: { resourceVersion: before.metadata.resourceVersion } };
    const expectedBody =
      kind === 'Rollout'
        ? { ...precondition, spec: { restartAt: RESTARTED_AT } }
        : { ...precondition, spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } } } } };
    expect(JSON.parse(writes[0]!.body!)).toEqual(expectedBody);

    const after = emulator.get(kind as 'Deployment', namespace, name)!;
    const spec = after.spec as { restartAt?: string; template: { metadata: { annotations: Record<string, string> } } };
    if (kind === 'Rollout') expect(spec.restartAt).toBe(RESTARTED_AT);
    else expect(spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(RESTARTED_AT);
    // Strategic/merge patch: the rest of the template is untouched.
    expect(spec.template.metadata.annotations['proxy.istio.io/config']).toBe('{"holdApplicationUntilProxyStarts":true}');
  });

  it('reads only what it needs: pod, ReplicaSet, Deployment and namespace, all GETs', async () => {
    const pod = mesh.addDeployment('reads', 'carts').pods[0]!;
    emulator.requests.clear();
    await run(triggerFor(pod), { policy: { dryRun: true } });
    const gets = emulator.requests.map((r) => `${r.method} ${r.path}`).sort();
    expect(gets).toEqual([
      'GET /api/v1/namespaces/reads',
      `GET /api/v1/namespaces/reads/pods/${pod.metadata.name}`,
      `GET /apis/apps/v1/namespaces/reads/deployments/carts`,
      `GET /apis/apps/v1/namespaces/reads/replicasets/${pod.metadata.ownerReferences![0]!.name}`,
    ]);
  });
});

describe('bare pods', () => {
  it('are alerted, not deleted, by default', async () => {
    const pod = mesh.addBarePod('bare-default', 'debug-shell').pods[0]!;
    const detail = await run(triggerFor(pod), { policy: { deleteBarePods: true } });
    expect(detail).toMatchObject({ outcome: 'skipped', reason: 'bare-pod', workload: { kind: 'Pod', name: 'debug-shell' } });
    expect(mutations('bare-default')).toEqual([]);
  });

  it('are deleted with a uid precondition when deletion is enabled and the pod opted in', async () => {
    const pod = mesh.addBarePod('bare-optin', 'batch-runner', { podAnnotations: { 'mesh-cert-watch.io/policy': 'restart' } }).pods[0]!;
    const detail = await run(triggerFor(pod), { policy: { deleteBarePods: true } });
    expect(detail).toMatchObject({ outcome: 'restarted', action: 'delete-pod', policySource: 'pod' });
    const writes = mutations('bare-optin');
    expect(writes.map((r) => [r.method, r.path, r.status])).toEqual([['DELETE', '/api/v1/namespaces/bare-optin/pods/batch-runner', 200]]);
    expect(JSON.parse(writes[0]!.body!)).toEqual({ preconditions: { uid: pod.metadata.uid } });
    expect(emulator.get('Pod', 'bare-optin', 'batch-runner')).toBeUndefined();
  });
});

describe('safety rules, read back from the cluster', () => {
  it('keeps the cooldown read from the restartedAt annotation (survives watcher restarts)', async () => {
    const recent = mesh.addDeployment('cooldown', 'recent', { restartedAt: iso(minutes(-5)) }).pods[0]!;
    const old = mesh.addDeployment('cooldown', 'old', { restartedAt: iso(minutes(-20)) }).pods[0]!;
    expect(await run(triggerFor(recent))).toMatchObject({ outcome: 'skipped', reason: 'cooldown', lastRestartAt: iso(minutes(-5)), cooldownUntil: iso(minutes(10)) });
    expect(await run(triggerFor(old))).toMatchObject({ outcome: 'restarted', lastRestartAt: iso(minutes(-20)) });
    expect(mutations('cooldown').map((r) => r.path)).toEqual(['/apis/apps/v1/namespaces/cooldown/deployments/old']);
  });

  it('skips paused Deployments and Rollouts', async () => {
    const deployment = mesh.addDeployment('paused', 'carts', { paused: true }).pods[0]!;
    const rollout = mesh.addRollout('paused', 'checkout', { paused: true }).pods[0]!;
    expect(await run(triggerFor(deployment))).toMatchObject({ outcome: 'skipped', reason: 'paused', message: 'Deployment paused/carts is paused' });
    expect(await run(triggerFor(rollout))).toMatchObject({ outcome: 'skipped', reason: 'paused', workload: { kind: 'Rollout', name: 'checkout' } });
    expect(mutations('paused')).toEqual([]);
  });

  it('skips a workload that is mid-rollout', async () => {
    const { workload, pods } = mesh.addDeployment('rolling', 'carts', { replicas: 2 });
    emulator.apply({ ...workload, status: { ...workload.status, updatedReplicas: 1 } });
    const detail = await run(triggerFor(pods[0]!));
    expect(detail).toMatchObject({ outcome: 'skipped', reason: 'rolling', message: 'Deployment rolling/carts is mid-rollout: 1 of 2 replicas updated' });
    expect(mutations('rolling')).toEqual([]);
  });

  it('alerts instead of restarting an OnDelete StatefulSet', async () => {
    const { workload, pods } = mesh.addStatefulSet('ondelete', 'ledger');
    const spec = workload.spec as Record<string, unknown>;
    emulator.apply({ ...workload, spec: { ...spec, updateStrategy: { type: 'OnDelete' } }, status: { ...workload.status, observedGeneration: 2 } });
    expect(await run(triggerFor(pods[0]!))).toMatchObject({ outcome: 'skipped', reason: 'on-delete' });
    expect(mutations('ondelete')).toEqual([]);
  });

  it('honours opt-out on the namespace and on the workload, and a workload opt-in inside an opted-out namespace', async () => {
    mesh.addNamespace('optout', { annotations: { 'mesh-cert-watch.io/policy': 'ignore' } });
    const quiet = mesh.addDeployment('optout', 'quiet').pods[0]!;
    const keen = mesh.addDeployment('optout', 'keen', { annotations: { 'mesh-cert-watch.io/policy': 'restart' } }).pods[0]!;
    const alertOnly = mesh.addDeployment('optout-workload', 'carts', { annotations: { 'mesh-cert-watch.io/policy': 'alert' } }).pods[0]!;
    expect(await run(triggerFor(quiet))).toMatchObject({ outcome: 'skipped', reason: 'opted-out', policy: 'ignore', policySource: 'namespace' });
    expect(await run(triggerFor(alertOnly))).toMatchObject({ outcome: 'skipped', reason: 'opted-out', policy: 'alert', policySource: 'workload' });
    expect(await run(triggerFor(keen))).toMatchObject({ outcome: 'restarted', policy: 'restart', policySource: 'workload' });
    expect(mutations('optout').map((r) => r.path)).toEqual(['/apis/apps/v1/namespaces/optout/deployments/keen']);
    expect(mutations('optout-workload')).toEqual([]);
  });

  it('does nothing for a pod that is gone, replaced, or whose ReplicaSet is gone', async () => {
    const [gone, replaced, orphan] = ['gone-a', 'gone-b', 'gone-c'].map((name) => mesh.addDeployment('gone', name).pods[0]!);
    emulator.remove('Pod', 'gone', gone!.metadata.name);
    emulator.apply({ ...replaced!, metadata: { ...replaced!.metadata, uid: 'a-new-pod-of-the-same-name', resourceVersion: undefined } });
    emulator.remove('ReplicaSet', 'gone', orphan!.metadata.ownerReferences![0]!.name);
    expect(await run(triggerFor(gone!))).toMatchObject({ outcome: 'skipped', reason: 'gone', workload: { kind: 'ReplicaSet' } });
    expect(await run(triggerFor(replaced!))).toMatchObject({ outcome: 'skipped', reason: 'gone', message: expect.stringContaining('was replaced') });
    expect(await run(triggerFor(orphan!))).toMatchObject({ outcome: 'skipped', reason: 'gone', message: expect.stringContaining('no longer exists') });
    expect(mutations('gone')).toEqual([]);
  });

  it('does nothing for an event observed before the workload was last restarted', async () => {
    const pod = mesh.addDeployment('stale', 'carts', { restartedAt: iso(minutes(-2)) }).pods[0]!;
    const detail = await run(triggerFor(pod, { observedAt: minutes(-3) }));
    expect(detail).toMatchObject({ outcome: 'skipped', reason: 'stale-event', lastRestartAt: iso(minutes(-2)) });
    expect(mutations('stale')).toEqual([]);
  });

  it('never restarts for missing or unreachable pods, and does not even read the cluster for them', async () => {
    const pod = mesh.addDeployment('nodata', 'carts').pods[0]!;
    emulator.requests.clear();
    for (const state of ['missing', 'unreachable'] as const) {
      expect(await run(triggerFor(pod, { state }), { policy: { restartStates: ['missing', 'unreachable', 'expiring'] } })).toMatchObject({ outcome: 'skipped', reason: 'not-restartable' });
    }
    expect(emulator.requests.length).toBe(0);
  });

  it('opens the breaker when most of the mesh is unhealthy, without touching the workload', async () => {
    const pod = mesh.addDeployment('breaker', 'carts').pods[0]!;
    const outage = { sampled: 40, skipped: 0, healthy: 4, stale: 10, expiring: 20, expired: 6, missing: 0, unreachable: 0 };
    expect(await run(triggerFor(pod, { sweepSummary: outage }))).toMatchObject({ outcome: 'skipped', reason: 'breaker', breaker: { unhealthy: 36, sampled: 40, share: 0.9, threshold: 0.5 } });
    expect(await run(triggerFor(pod, { sweepSummary: null }))).toMatchObject({ outcome: 'skipped', reason: 'breaker' });
    expect(mutations('breaker')).toEqual([]);
  });
});

describe('dry-run', () => {
  it('performs no mutation, reports what it would write, and simulates the cooldown apart from real restarts', async () => {
    const pod = mesh.addDeployment('dry', 'carts').pods[0]!;
    const before = emulator.get('Deployment', 'dry', 'carts')!;
    const guard = new InMemoryRestartGuard();
    emulator.requests.clear();

    const first = await run(triggerFor(pod), { policy: { dryRun: true }, guard });
    const second = await run(triggerFor(pod), { policy: { dryRun: true }, guard });

    expect(first).toMatchObject({ outcome: 'dry-run', reason: 'expiring', dryRun: true, action: 'rollout-restart', restartedAt: RESTARTED_AT });
    expect(first.message).toMatch(/^dry-run, nothing changed: rollout restart of Deployment dry\/carts/);
    expect(second).toMatchObject({ outcome: 'skipped', reason: 'cooldown', dryRun: true });
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(emulator.get('Deployment', 'dry', 'carts')!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    // The dry-run lease and budget are kept apart: a real run afterwards still restarts.
    expect(await run(triggerFor(pod), { guard })).toMatchObject({ outcome: 'restarted' });
  });
});

describe('API errors give a failed outcome with the message', () => {
  it('409: the Deployment changed between the read and the patch (resourceVersion precondition)', async () => {
    const { workload, pods } = mesh.addDeployment('conflict', 'carts');
    authorize = (request) => {
      // Someone else touches the object just before our PATCH is served.
      if (request.verb === 'patch') emulator.apply({ ...emulator.get('Deployment', 'conflict', 'carts')!, metadata: { ...workload.metadata, labels: { app: 'carts', touched: 'yes' } } });
      return true;
    };
    const detail = await run(triggerFor(pods[0]!));
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error', statusCode: 409, action: 'rollout-restart' });
    expect(detail.message).toContain('Operation cannot be fulfilled on deployments.apps "carts": the object has been modified');
    const template = emulator.get('Deployment', 'conflict', 'carts')!.spec as { template: { metadata: { annotations?: Record<string, string> } } };
    expect(template.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
  });

  it('422: the API server rejects the patch as invalid', async () => {
    const pod = mesh.addStatefulSet('invalid', 'ledger').pods[0]!;
    emulator.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/invalid/statefulsets/ledger', status: 422, message: 'StatefulSet.apps "ledger" is invalid: spec: Forbidden: updates to statefulset spec for fields other than ... are forbidden' });
    const detail = await run(triggerFor(pod));
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error', statusCode: 422 });
    expect(detail.message).toContain('StatefulSet.apps "ledger" is invalid');
  });

  it('403: RBAC forbids the patch; the budget unit is given back', async () => {
    const denied = mesh.addDeployment('forbidden', 'carts').pods[0]!;
    const allowed = mesh.addDeployment('forbidden', 'orders').pods[0]!;
    authorize = (request) => !(request.verb === 'patch' && request.name === 'carts');
    const guard = new InMemoryRestartGuard();
    const detail = await run(triggerFor(denied), { policy: { budgetPerHour: 1 }, guard });
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error', statusCode: 403 });
    expect(detail.message).toContain('deployments.apps "carts" is forbidden: User "kubernetes-admin" cannot patch resource "deployments" in API group "apps" in the namespace "forbidden"');
    expect(await run(triggerFor(allowed), { policy: { budgetPerHour: 1 }, guard })).toMatchObject({ outcome: 'restarted', budget: { used: 1, limit: 1 } });
  });

  it('403 on reading the pod: failed, nothing patched', async () => {
    const pod = mesh.addDeployment('cannot-read', 'carts').pods[0]!;
    authorize = (request) => request.resource !== 'pods';
    const detail = await run(triggerFor(pod));
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error', statusCode: 403, action: null, workload: { kind: 'ReplicaSet' } });
    expect(detail.message).toMatch(/^reading the pod, its owner and namespace: get pod cannot-read\/carts-[\w-]+: pods "carts-[\w-]+" is forbidden: User "kubernetes-admin" cannot get resource "pods"/);
    expect(mutations('cannot-read')).toEqual([]);
  });
});

describe('ambiguous PATCH outcomes never bypass the budget', () => {
  const retrying = (): KubeClient => new KubeClient(emulator.kubeConfig(), { retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => undefined });

  it('a lost response to an applied PATCH: the retry meets 409, the read-back finds our restartedAt: restarted, budget spent, record saved', async () => {
    const pods = Array.from({ length: 4 }, (_, i) => mesh.addDeployment('lost-answer', `svc-${i}`).pods[0]!);
    // Every first PATCH is applied and its answer lost (the client then retries it).
    emulator.injectFault({ method: 'PATCH', path: /\/namespaces\/lost-answer\/deployments\//, effect: 'lose-response' });
    const guard = new InMemoryRestartGuard();
    const client = retrying();
    const details: RemediationDetail[] = [];
    for (const pod of pods) {
      details.push(await remediate(triggerFor(pod), { kube: client, guard, policy: { ...POLICY, budgetPerHour: 1 }, clock: () => NOW }));
    }
    expect(details.map((d) => `${d.outcome}:${d.reason}`)).toEqual(['restarted:expiring', 'skipped:budget', 'skipped:budget', 'skipped:budget']);
    expect(details[0]!.message).toContain("the API server's answer was lost");
    expect(details[0]!.budget).toMatchObject({ limit: 1, used: 1 });
    // Exactly one workload really restarted: the budget of 1 is honoured.
    const restarted = pods.map((_, i) => (emulator.get('Deployment', 'lost-answer', `svc-${i}`)!.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']);
    expect(restarted).toEqual([RESTARTED_AT, undefined, undefined, undefined]);
    expect(await guard.lastRestart('workload#prod-mesh#lost-answer#Deployment#svc-0', NOW)).toMatchObject({ restartedAt: RESTARTED_AT, triggeredBy: 'sweep-1' });
  });

  it('a lost response without a retry (the client gives up): read back, restarted', async () => {
    const pod = mesh.addStatefulSet('lost-once', 'ledger').pods[0]!;
    emulator.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/lost-once/statefulsets/ledger', effect: 'lose-response', times: 1 });
    const guard = new InMemoryRestartGuard();
    const detail = await remediate(triggerFor(pod), { kube, guard, policy: { ...POLICY, budgetPerHour: 1 }, clock: () => NOW });
    expect(detail).toMatchObject({ outcome: 'restarted', restartedAt: RESTARTED_AT, budget: { used: 1 } });
    expect(await guard.lastRestart('workload#prod-mesh#lost-once#StatefulSet#ledger', NOW)).toBeDefined();
  });

  it('503 with nothing applied: failed, outcome unknown, the unit stays spent (never refunded on an ambiguous error)', async () => {
    const first = mesh.addDeployment('unknown', 'carts').pods[0]!;
    const second = mesh.addDeployment('unknown', 'orders').pods[0]!;
    emulator.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/unknown/deployments/carts', status: 503, times: 1 });
    const guard = new InMemoryRestartGuard();
    const detail = await remediate(triggerFor(first), { kube, guard, policy: { ...POLICY, budgetPerHour: 1 }, clock: () => NOW });
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error', statusCode: 503 });
    expect(detail.message).toContain('outcome unknown (our restartedAt is not in place yet); the budget unit stays spent');
    expect(await remediate(triggerFor(second), { kube, guard, policy: { ...POLICY, budgetPerHour: 1 }, clock: () => NOW })).toMatchObject({ outcome: 'skipped', reason: 'budget' });
  });

  it('a lost response and a failing read-back: failed, outcome unknown, the unit stays spent', async () => {
    const first = mesh.addDeployment('blind', 'carts').pods[0]!;
    const second = mesh.addDeployment('blind', 'orders').pods[0]!;
    emulator.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/blind/deployments/carts', effect: 'lose-response', times: 1 });
    authorize = (request) => {
      // After the observe step has read the Deployment, every further GET of it fails.
      if (request.verb === 'get' && request.resource === 'deployments' && request.name === 'carts') {
        emulator.injectFault({ method: 'GET', path: '/apis/apps/v1/namespaces/blind/deployments/carts', status: 503 });
      }
      return true;
    };
    const guard = new InMemoryRestartGuard();
    const detail = await remediate(triggerFor(first), { kube, guard, policy: { ...POLICY, budgetPerHour: 1 }, clock: () => NOW });
    emulator.clearFaults();
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error' });
    expect(detail.message).toMatch(/outcome unknown \(the read-back failed: get deployment blind\/carts: .*HTTP 503.*\); the budget unit stays spent/);
    expect(await remediate(triggerFor(second), { kube, guard, policy: { ...POLICY, budgetPerHour: 1 }, clock: () => NOW })).toMatchObject({ outcome: 'skipped', reason: 'budget' });
  });
});

describe('concurrent and duplicate deliveries (DynamoDB guard on dynalite)', () => {
  it('never exceeds the budget under 10 concurrent invocations: exactly 3 of 10 restart', async () => {
    const tableName = await freshTable();
    const pods = Array.from({ length: 10 }, (_, i) => mesh.addDeployment('budget', `svc-${i}`).pods[0]!);
    emulator.requests.clear();
    // One guard (and DynamoDB client) per invocation, as in separate Lambda sandboxes.
    const details = await Promise.all(pods.map((pod) => run(triggerFor(pod), { policy: { budgetPerHour: 3 }, guard: new DynamoRestartGuard({ client: dynamo.client(), tableName }) })));

    const outcomes = details.map((d) => `${d.outcome}:${d.reason}`).sort();
    expect(outcomes).toEqual([...Array(3).fill('restarted:expiring'), ...Array(7).fill('skipped:budget')]);
    expect(mutations('budget').length).toBe(3);
    const doc = DynamoDBDocumentClient.from(dynamo.client());
    const slots = await Promise.all([0, 1, 2, 3].map((i) => doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'budget#prod-mesh', sk: `slot#${i}` } }))));
    expect(slots.map((slot) => slot.Item?.takenAt)).toEqual([NOW.getTime(), NOW.getTime(), NOW.getTime(), undefined]);
  });

  it('restarts once when the same event is delivered three times at once, and not again on a later redelivery', async () => {
    const tableName = await freshTable();
    const pod = mesh.addDeployment('dupes', 'carts').pods[0]!;
    const trigger = triggerFor(pod);
    emulator.requests.clear();
    const guard = () => new DynamoRestartGuard({ client: dynamo.client(), tableName });
    const details = await Promise.all([run(trigger, { guard: guard() }), run(trigger, { guard: guard() }), run(trigger, { guard: guard() })]);
    const late = await run(trigger, { guard: guard(), now: minutes(2) });

    expect(details.filter((d) => d.outcome === 'restarted').length).toBe(1);
    expect(details.filter((d) => d.outcome === 'skipped').length).toBe(2);
    expect(late).toMatchObject({ outcome: 'skipped', reason: 'stale-event' });
    expect(mutations('dupes').map((r) => r.method)).toEqual(['PATCH']);
  });
});

describe('verification of a restart by later sweeps', () => {
  it('reports restart-did-not-fix when a pod made by the restart serves the old serial; a fresh leaf is only in cooldown', async () => {
    const { workload, intermediate, pods } = mesh.addDeployment('verify', 'carts');
    const guard = new InMemoryRestartGuard();
    expect(await run(triggerFor(pods[0]!, { serial: 'AA01' }), { guard })).toMatchObject({ outcome: 'restarted' });

    // The controller replaces the pod after the restart and settles.
    apiNow = minutes(1);
    emulator.remove('Pod', 'verify', pods[0]!.metadata.name);
    const fresh = emulator.apply({
      ...pods[0]!,
      metadata: { name: 'carts-new-pod', namespace: 'verify', labels: pods[0]!.metadata.labels, ownerReferences: pods[0]!.metadata.ownerReferences },
    });
    const current = emulator.get('Deployment', 'verify', 'carts')!;
    emulator.apply({ ...current, status: { ...workload.status, observedGeneration: current.metadata.generation } });
    expect(intermediate).toBeDefined();

    const later = { observedAt: minutes(6), sweepId: 'sweep-7' };
    const notFixed = await run(triggerFor(fresh, { ...later, serial: 'AA01', notBefore: minutes(1) }), { guard, now: minutes(7) });
    expect(notFixed).toMatchObject({ outcome: 'skipped', reason: 'restart-did-not-fix', verification: 'not-fixed', lastRestartAt: RESTARTED_AT, triggeredBy: 'sweep-7' });
    const rotated = await run(triggerFor(fresh, { ...later, serial: 'BB02', notBefore: minutes(1) }), { guard, now: minutes(7) });
    expect(rotated).toMatchObject({ outcome: 'skipped', reason: 'cooldown' });
    expect(rotated.verification).toBeUndefined();
  });
});
