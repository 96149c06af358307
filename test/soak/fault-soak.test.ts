/**
 * Randomized fault soak (issue 12): seeded schedules of faults over the Kubernetes API emulator
 * and the real engine (sweepCluster as the sampler Lambda runs it, remediate with the DynamoDB
 * guard on dynalite), on a fake clock that moves 5-25 minutes per schedule. Retry waits go
 * through a fake sleep; the only real waits are the 600 ms request timeouts of hung requests.
 *
 * Faults: hung list/get/patch, exec sockets dropped mid-output, 429/5xx with Retry-After (list,
 * get, patch, exec upgrade), 410 on a continue token, pods deleted mid-sweep, lost PATCH
 * responses, duplicated and reordered events, 10 concurrent remediators, DynamoDB conditional
 * write conflicts (a shared budget, pre-taken slots), key material on stderr and in annotations.
 *
 * Invariants after every schedule:
 *  1. every sweep publishes exactly one Sweep Completed (also when it fails);
 *  2. no restart on uncertain data: only workloads whose pod was judged expiring/expired are patched;
 *  3. never more restarts than the budget in any 60-minute window (checked over the whole run);
 *  4. every restart is accounted for exactly once: one `restarted` outcome with its record saved,
 *     or one `failed` "outcome unknown" (lost answer and failed read-back), never two;
 *  5. no key material and no webhook URL in any output (events, outcomes, warnings, Slack text).
 *
 * MCW_SOAK_SEED=<n> replays one schedule; MCW_SOAK_SCHEDULES=<n> changes how many run (default 200).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { DynamoRestartGuard } from '../../src/aws/restart-guard.js';
import type { SamplerRuntimeConfig } from '../../src/config/runtime.js';
import { POD_CERTIFICATE_STATE_CHANGED, POD_CERTIFICATE_UNHEALTHY, SWEEP_COMPLETED } from '../../src/core/events/events.js';
import { parseNotificationEvent } from '../../src/core/notification/notifications.js';
import { DEFAULT_REMEDIATION_POLICY, parseTrigger, workloadKey, type RemediationDetail, type RemediationPolicy } from '../../src/core/remediation/remediation.js';
import { renderSlackMessage } from '../../src/slack/slack-message.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, sidecarSecrets, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { remediate } from '../../src/remediator/remediate.js';
import type { FindingsLedger } from '../../src/ports/findings-ledger.js';
import { sweepCluster } from '../../src/sampler/sweep-cluster.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { clusterInput, recordingEventBridge, samplerConfig } from '../sampler/kit.js';
import { seededRandom } from '../../src/sandbox/simulation/random.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const SCHEDULES = Number(process.env.MCW_SOAK_SCHEDULES ?? 200);
const REPLAY = process.env.MCW_SOAK_SEED === undefined ? undefined : Number(process.env.MCW_SOAK_SEED);
const BUDGET = 3;
const T0 = Date.parse('2030-06-01T00:00:00Z');
const WEBHOOK_URL = 'https://hooks.slack.com/services/T0SOAK/B0SOAK/not-a-real-secret';
const KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY_LINE = KEY_PEM.split('\n')[1]!;
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const REQUEST_TIMEOUT_MS = 600;

type PodPlan = 'healthy' | 'expiring' | 'expired' | 'stderr-key' | 'drop' | 'deleted';
type Fault =
  | 'hung-list'
  | 'hung-get'
  | 'hung-patch'
  | 'list-429'
  | 'get-503'
  | 'patch-503'
  | 'exec-429'
  | 'continue-410'
  | 'lost-patch'
  | 'duplicate-events'
  | 'reordered-events'
  | 'slot-conflicts'
  | 'annotation-key';

interface Schedule {
  readonly seed: number;
  readonly advanceMinutes: number;
  readonly pods: readonly PodPlan[];
  readonly faults: readonly Fault[];
  readonly concurrency: number;
}

const ALL_FAULTS: readonly Fault[] = [
  'hung-list',
  'hung-get',
  'hung-patch',
  'list-429',
  'get-503',
  'patch-503',
  'exec-429',
  'continue-410',
  'lost-patch',
  'duplicate-events',
  'reordered-events',
  'slot-conflicts',
  'annotation-key',
];
const PLANS: readonly PodPlan[] = ['healthy', 'expiring', 'expiring', 'expired', 'stderr-key', 'drop', 'deleted'];

function drawSchedule(seed: number): Schedule {
  const random = seededRandom(seed);
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const pods = Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(PLANS));
  // Hung requests cost a real request timeout each: rarer than the others.
  const faults = ALL_FAULTS.filter((f) => random() < (f.startsWith('hung-') ? 0.03 : 0.22));
  return { seed, advanceMinutes: 5 + Math.floor(random() * 21), pods, faults, concurrency: 1 + Math.floor(random() * 10) };
}

/** A ledger in memory: the soak is about the Kubernetes side and the guard. */
function memoryLedger(): FindingsLedger {
  return { load: async () => [], apply: async () => undefined };
}

describe('randomized fault soak', () => {
  let emulator: KubeApiEmulator;
  let dynamo: LocalDynamo;
  let pki: MeshPki;
  let guards: DynamoRestartGuard[];
  let kube: KubeClient;
  const answers = new Map<string, Record<string, string>>();
  const restarts: { key: string; at: number }[] = [];
  const tried = new Map<string, number>();
  let schedulesRun = 0;
  let failure: string | undefined;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator({ recordRequests: true });
    dynamo = await startDynalite();
    await dynamo.createTable('soak-guard');
    pki = await createMeshPki('example.org');
    // Ten remediators, each with its own DynamoDB client: ten Lambda sandboxes.
    guards = Array.from({ length: 10 }, () => new DynamoRestartGuard({ client: dynamo.client(), tableName: 'soak-guard' }));
    // One client (one connection) for the run; retry waits are fake, request timeouts real but short.
    kube = new KubeClient(emulator.kubeConfig(), { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 50 }, sleep: async () => undefined, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  });

  afterAll(async () => {
    await emulator?.close();
    await dynamo?.close();
    const faults = [...tried.entries()].sort().map(([name, n]) => `${name} ${n}`).join(', ');
    process.stdout.write(`fault soak: ${schedulesRun} schedules, faults tried: ${faults}${failure ? `; FAILED ${failure}` : ''}\n`);
  });

  /** Envoy's answer for a pod in `state` at fake time `now` (cached per hour). */
  async function responses(state: 'healthy' | 'expiring' | 'expired', now: number, namespace: string): Promise<Record<string, string>> {
    const hour = Math.floor((now - T0) / 3600_000);
    const key = `${state}/${hour}`;
    let cached = answers.get(key);
    if (!cached) {
      const base = T0 + hour * 3600_000;
      const issuedAgoMinutes = state === 'healthy' ? 5 : state === 'expiring' ? 52 : 70;
      const secrets = await sidecarSecrets(pki, { namespace, serviceAccount: 'app', servedBy: 'tbot', issuedAt: new Date(base - issuedAgoMinutes * 60_000), lifetimeSeconds: 3600 });
      cached = secrets.responses as Record<string, string>;
      answers.set(key, cached);
    }
    return cached;
  }

  async function runSchedule(schedule: Schedule, now: number): Promise<void> {
    const ns = `soak-${schedule.seed}`;
    const clock = () => new Date(now);
    const mesh = new Mesh(emulator, { startTime: new Date(now - 3600_000) });
    const fault = new Set(schedule.faults);
    for (const f of schedule.faults) tried.set(f, (tried.get(f) ?? 0) + 1);
    const names = schedule.pods.map((_, i) => `svc-${i}`);
    const plans = new Map<string, PodPlan>();
    const podOf = new Map<string, string>();
    for (const [i, plan] of schedule.pods.entries()) {
      tried.set(`pod:${plan}`, (tried.get(`pod:${plan}`) ?? 0) + 1);
      const built = mesh.addDeployment(ns, names[i]!, {
        serviceAccount: 'app',
        ...(fault.has('annotation-key') && i === 0 ? { annotations: { 'mesh-cert-watch.io/policy': `restart ${KEY_PEM}` } } : {}),
      });
      const pod = built.pods[0]!.metadata.name;
      plans.set(pod, plan);
      podOf.set(names[i]!, pod);
      const state = plan === 'expired' ? 'expired' : plan === 'expiring' ? 'expiring' : 'healthy';
      emulator.setProxyResponses(ns, pod, await responses(state, now, ns));
    }
    emulator.setExecHandler((request) => {
      const plan = request.namespace === ns ? plans.get(request.pod) : undefined;
      if (plan === 'stderr-key') return { stderr: `${KEY_PEM}\n${WEBHOOK_URL}\n`, exitCode: 1 };
      if (plan === 'drop') return 'drop';
      return emulator.defaultExecHandler(request);
    });
    for (const [pod, plan] of plans) {
      // Deleted after it was listed: the exec upgrade answers 404 (the pod is gone).
      if (plan === 'deleted') emulator.injectFault({ path: new RegExp(`/namespaces/${ns}/pods/${pod}/exec`), status: 404 });
    }
    const nsPath = `/namespaces/${ns}/`;
    const inNs = (tail: string) => new RegExp(`${nsPath}${tail}`);
    if (fault.has('hung-list')) emulator.injectFault({ method: 'GET', path: inNs('pods(\\?|$)'), effect: 'hang', times: 1 });
    if (fault.has('list-429')) emulator.injectFault({ method: 'GET', path: inNs('pods(\\?|$)'), status: 429, retryAfterSeconds: 7, times: 1 });
    if (fault.has('continue-410')) emulator.injectFault({ method: 'GET', path: inNs('pods\\?.*continue='), status: 410, times: 1, message: 'The provided continue parameter is too old' });
    if (fault.has('hung-get')) emulator.injectFault({ method: 'GET', path: inNs('(replicasets|deployments)/'), effect: 'hang', times: 2 });
    if (fault.has('get-503')) emulator.injectFault({ method: 'GET', path: inNs('(replicasets|deployments|pods)/[^/]+$'), status: 503, retryAfterSeconds: 2, times: 3 });
    if (fault.has('exec-429')) emulator.injectFault({ path: inNs('pods/[^/]+/exec'), status: 429, retryAfterSeconds: 3, times: 2 });
    if (fault.has('hung-patch')) emulator.injectFault({ method: 'PATCH', path: inNs('deployments/'), effect: 'hang', times: 1 });
    if (fault.has('patch-503')) emulator.injectFault({ method: 'PATCH', path: inNs('deployments/'), status: 503, retryAfterSeconds: 1, times: 1 });
    if (fault.has('lost-patch')) emulator.injectFault({ method: 'PATCH', path: inNs('deployments/'), effect: 'lose-response', times: 2 });
    if (fault.has('slot-conflicts')) {
      // Another invocation took a unit a moment ago: real conditional-write conflicts.
      const other = await guards[0]!.consumeBudget({ key: 'budget#soak', limit: BUDGET, now: new Date(now - 60_000), windowSeconds: 3600, holder: `other-${schedule.seed}` });
      if (other.granted) restarts.push({ key: `other-${schedule.seed}`, at: now - 60_000 });
    }

    const bus = recordingEventBridge();
    const warnings: string[] = [];
    const config: SamplerRuntimeConfig = samplerConfig({ clusters: [clusterInput('soak', { namespaces: { include: [ns], exclude: [] }, sampleTimeoutSeconds: 2, concurrency: 3 })] });
    const outcome = await sweepCluster(
      { cluster: config.clusters[0]!, sweepId: `sweep-${schedule.seed}`, deadline: new Date(now + 60_000) },
      { kubeClientFor: async () => kube, ledger: memoryLedger(), events: new EventBridgeSink(bus.sender, 'soak', { maxAttempts: 1 }), clock, onWarning: (m) => warnings.push(m) },
    ).catch((error: unknown) => ({ error }));

    // 1. Sweep Completed, exactly once.
    const entries = bus.accepted();
    expect(entries.filter((e) => e.detailType === SWEEP_COMPLETED)).toHaveLength(1);

    // The remediator gets the Unhealthy events, duplicated and reordered, 1-10 at a time.
    let triggers = entries.filter((e) => e.detailType === POD_CERTIFICATE_UNHEALTHY).map((e) => parseTrigger(e.detail));
    if (fault.has('duplicate-events')) triggers = [...triggers, ...triggers, ...triggers.slice(0, 1)];
    if (fault.has('reordered-events')) triggers = [...triggers].reverse();
    const policy: RemediationPolicy = { ...DEFAULT_REMEDIATION_POLICY, dryRun: false, budgetPerHour: BUDGET, breakerUnhealthyShare: 1 };
    const details: RemediationDetail[] = [];
    for (let i = 0; i < triggers.length; i += schedule.concurrency) {
      const batch = triggers.slice(i, i + schedule.concurrency);
      details.push(
        ...(await Promise.all(
          batch.map((trigger, j) =>
            remediate(trigger, { kube, guard: guards[j % guards.length]!, policy, clock, onWarning: (m, e) => warnings.push(`${m}: ${String(e)}`) }),
          ),
        )),
      );
    }
    emulator.clearFaults();
    emulator.setExecHandler(undefined);
    for (const d of details) tried.set(`outcome:${d.outcome}:${d.reason}`, (tried.get(`outcome:${d.outcome}:${d.reason}`) ?? 0) + 1);

    // 2. Only workloads judged expiring/expired were patched (restartedAt written).
    const report = 'report' in outcome ? outcome.report : null;
    const judged = new Map((report?.pods ?? []).map((p) => [p.name, p.state]));
    for (const name of names) {
      const deployment = emulator.get('Deployment', ns, name)!;
      const written = (deployment.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations?.[RESTARTED_AT];
      if (written === undefined) continue;
      const state = judged.get(podOf.get(name)!);
      expect([name, state === 'expiring' || state === 'expired']).toEqual([name, true]);
      // 4. Accounted for exactly once.
      const mine = details.filter((d) => d.namespace === ns && d.workload.kind === 'Deployment' && d.workload.name === name);
      const restarted = mine.filter((d) => d.outcome === 'restarted');
      const unknown = mine.filter((d) => d.outcome === 'failed' && d.message.includes('outcome unknown'));
      expect([name, restarted.length + unknown.length]).toEqual([name, 1]);
      if (restarted.length === 1) {
        const record = await guards[0]!.lastRestart(workloadKey('soak', ns, { kind: 'Deployment', name }, false), new Date(now));
        expect([name, record?.restartedAt]).toEqual([name, written]);
      }
      restarts.push({ key: `${ns}/${name}`, at: Date.parse(written) });
    }

    // 5. No key material, no webhook URL, anywhere.
    const items = entries
      .filter((e) => e.detailType === POD_CERTIFICATE_STATE_CHANGED || e.detailType === SWEEP_COMPLETED)
      .map((e) => parseNotificationEvent({ 'detail-type': e.detailType, ...e.detail }));
    const slack = renderSlackMessage(items);
    const outputs = JSON.stringify({ entries, details, warnings, slack, report, error: 'error' in outcome ? String(outcome.error) : null });
    expect(outputs).not.toContain('PRIVATE KEY');
    expect(outputs).not.toContain(KEY_LINE.slice(0, 24));
    expect(outputs).not.toContain(WEBHOOK_URL);
  }

  it(`keeps every invariant over ${REPLAY === undefined ? SCHEDULES : 1} seeded fault schedule(s)`, async () => {
    const seeds = REPLAY === undefined ? Array.from({ length: SCHEDULES }, (_, i) => 1000 + i) : [REPLAY];
    let now = T0;
    for (const seed of seeds) {
      const schedule = drawSchedule(seed);
      now += schedule.advanceMinutes * 60_000;
      try {
        await runSchedule(schedule, now);
      } catch (error) {
        failure = `seed ${seed} (replay: MCW_SOAK_SEED=${seed} npm run jest -- test/soak): ${JSON.stringify(schedule)}`;
        throw error;
      }
      schedulesRun++;
    }
    // 3. The budget over the whole run, as a sliding window.
    const times = restarts.map((r) => r.at).sort((a, b) => a - b);
    for (const start of times) expect(times.filter((t) => t >= start && t < start + 3600_000).length).toBeLessThanOrEqual(BUDGET);
    if (REPLAY === undefined) {
      expect(schedulesRun).toBe(SCHEDULES);
      expect(restarts.length).toBeGreaterThan(10);
      for (const f of ALL_FAULTS) expect([f, (tried.get(f) ?? 0) > 0]).toEqual([f, true]);
    }
  }, 240_000);
});
