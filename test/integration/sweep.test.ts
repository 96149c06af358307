/**
 * The sweep end to end: the real CLI and the real @kubernetes/client-node against the
 * Kubernetes API emulator over HTTPS + WebSocket exec, on a scripted mesh.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { PodReport, SweepReport } from '../../src/core/model/types.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { ACTIVE_SECRETS_PATH, createMeshPki, sidecarSecrets, warmingOnlySecrets, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';
import { runCli, type CliRun } from '../support/cli.js';
import { reportSchemaProblems } from '../support/report-schema.js';

const NOW = new Date('2026-11-27T12:00:00.000Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);
const HOUR = 3600;


const cli = runCli;

function kubeconfigFile(emulator: KubeApiEmulator): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcw-kubeconfig-'));
  const file = join(dir, 'config');
  writeFileSync(file, emulator.kubeconfigYaml('emulated-eks'));
  return file;
}

/** Scripts the pods' Envoy answers; returns the leaf serial per pod. */
async function script(emulator: KubeApiEmulator, pki: MeshPki, namespace: string, pods: readonly { metadata?: { name?: string } }[], cert: Omit<Parameters<typeof sidecarSecrets>[1], 'namespace'>) {
  for (const pod of pods) {
    const secrets = await sidecarSecrets(pki, { namespace, ...cert });
    emulator.setProxyResponses(namespace, pod.metadata!.name!, secrets.responses);
  }
}

describe('sweep against the Kubernetes API emulator', () => {
  let emulator: KubeApiEmulator;
  let kubeconfig: string;
  let report: SweepReport;
  let run: CliRun;
  const byName = (prefix: string): PodReport => {
    const pod = report.pods.find((p) => p.name.startsWith(prefix));
    if (!pod) throw new Error(`no pod ${prefix} in report`);
    return pod;
  };

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    kubeconfig = kubeconfigFile(emulator);
    const pki = await createMeshPki('example.org');
    const otherPki = await createMeshPki('other.org');
    const mesh = new Mesh(emulator, { startTime: minutesAgo(600) });
    mesh.addNamespace('shop');
    mesh.addNamespace('data');

    const carts = mesh.addDeployment('shop', 'carts', { replicas: 2 });
    await script(emulator, pki, 'shop', carts.pods, { servedBy: 'tbot', serviceAccount: 'carts', issuedAt: minutesAgo(10), lifetimeSeconds: HOUR });
    const orders = mesh.addDeployment('shop', 'orders');
    await script(emulator, pki, 'shop', orders.pods, { servedBy: 'tbot', serviceAccount: 'orders', issuedAt: minutesAgo(40), pushedAt: minutesAgo(2), lifetimeSeconds: HOUR });
    const payment = mesh.addDeployment('shop', 'payment', { workloadCertsVolume: true });
    await script(emulator, pki, 'shop', payment.pods, { servedBy: 'istio-agent', serviceAccount: 'payment', issuedAt: minutesAgo(50), lifetimeSeconds: HOUR });
    const db = mesh.addStatefulSet('data', 'db');
    await script(emulator, pki, 'data', db.pods, { servedBy: 'tbot', serviceAccount: 'db', issuedAt: minutesAgo(70), lifetimeSeconds: HOUR });
    const catalogue = mesh.addDeployment('shop', 'catalogue', { nativeSidecar: true });
    await script(emulator, pki, 'shop', catalogue.pods, { servedBy: 'tbot', serviceAccount: 'catalogue', issuedAt: minutesAgo(5), lifetimeSeconds: HOUR });
    const user = mesh.addDeployment('shop', 'user');
    emulator.setProxyResponses('shop', user.pods[0]!.metadata!.name!, warmingOnlySecrets(pki).responses);
    const shipping = mesh.addDeployment('shop', 'shipping');
    const shippingPod = shipping.pods[0]!.metadata!.name!;
    emulator.setExecHandler((request) => (request.pod === shippingPod ? 'hang' : emulator.defaultExecHandler(request)));
    const queue = mesh.addDeployment('shop', 'queue');
    emulator.setProxyResponses('shop', queue.pods[0]!.metadata!.name!, { [ACTIVE_SECRETS_PATH]: { stderr: 'Error: dial tcp 127.0.0.1:15000: connect: connection refused\n', exitCode: 1 } });
    const frontEnd = mesh.addDeployment('shop', 'front-end');
    emulator.setProxyResponses('shop', frontEnd.pods[0]!.metadata!.name!, { [ACTIVE_SECRETS_PATH]: 'failed to get config_dump: 503 Service Unavailable\n' });
    const reports = mesh.addCronJob('data', 'reports', { serviceAccount: 'reports' });
    await script(emulator, pki, 'data', reports.pods, { servedBy: 'tbot', serviceAccount: 'reports', issuedAt: minutesAgo(1), lifetimeSeconds: HOUR });
    const canary = mesh.addRollout('shop', 'recommend');
    await script(emulator, pki, 'shop', canary.pods, { servedBy: 'tbot', serviceAccount: 'recommend', issuedAt: minutesAgo(3), lifetimeSeconds: HOUR, spiffeId: 'spiffe://example.org/ns/shop/sa/default' });
    const legacy = mesh.addDaemonSet('data', 'log-shipper');
    await script(emulator, pki, 'data', legacy.pods, { servedBy: 'tbot', serviceAccount: 'log-shipper', issuedAt: minutesAgo(3), lifetimeSeconds: HOUR, bundleFrom: otherPki });
    mesh.addDeployment('shop', 'no-mesh', { injected: false });
    mesh.addDeployment('shop', 'starting', { podPhase: 'Pending' });

    emulator.requests.clear();
    run = await cli(['sweep', '--kubeconfig', kubeconfig, '--output', 'json', '--now', NOW.toISOString(), '--timeout', '2s', '--fail-on', 'expired']);
    report = JSON.parse(run.stdout) as SweepReport;
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('exits 1 because --fail-on expired is met, and prints a JSON report of every Running injected pod', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(report.cluster).toBe('emulated-eks');
    expect(report.now).toBe(NOW.toISOString());
    expect(report.thresholds).toEqual({ staleAfter: '60%', expiringWithin: '20%', clockSkewAllowance: '60s' });
    const names = report.pods.map((p) => p.name.replace(/-[a-z0-9]+(-[a-z0-9]+)?$/, ''));
    expect(names).not.toContain('no-mesh');
    expect(names).not.toContain('starting');
    expect(report.summary).toEqual({ sampled: 15, skipped: 1, healthy: 8, stale: 1, expiring: 1, expired: 1, missing: 1, unreachable: 3 });
    expect(report.partial).toBe(false);
  });

  it('prints a report that is valid against the contract (the zod schema and the JSON Schema generated from it)', () => {
    expect(reportSchemaProblems(JSON.parse(run.stdout))).toEqual([]);
  });

  it('classifies healthy tbot pods with the certificate facts and the source', () => {
    const pod = byName('carts-');
    expect(pod.state).toBe('healthy');
    expect(pod.findings).toEqual([]);
    expect(pod.source).toBe('tbot');
    expect(pod.workload).toEqual({ kind: 'Deployment', name: 'carts' });
    expect(pod.serviceAccount).toBe('carts');
    expect(pod.node).toMatch(/ec2\.internal$/);
    expect(pod.certificate).toMatchObject({ spiffeId: 'spiffe://example.org/ns/shop/sa/carts', ageSeconds: 600, remainingSeconds: 3000, lifetimeSeconds: HOUR });
    expect(pod.secrets.map((s) => s.name)).toEqual(['default', 'ROOTCA']);
  });

  it('finds tbot re-sending an old certificate (stale, recent push)', () => {
    const pod = byName('orders-');
    expect(pod.state).toBe('stale');
    expect(pod.findings).toEqual(['sds-push-without-rotation']);
    expect(pod.secrets[0]).toMatchObject({ name: 'default', pushAgeSeconds: 120 });
  });

  it('finds the agent serving files beside the SPIFFE socket, with pushes stopped, as expiring', () => {
    const pod = byName('payment-');
    expect(pod.state).toBe('expiring');
    expect(pod.source).toBe('istio-agent');
    expect(pod.findings).toEqual(['sds-pushes-stopped', 'workload-certs-volume']);
  });

  it('reports an expired StatefulSet pod with its StatefulSet as workload', () => {
    const pod = byName('db-');
    expect(pod.state).toBe('expired');
    expect(pod.workload).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(pod.certificate?.remainingSeconds).toBe(-600);
  });

  it('samples a native sidecar (istio-proxy in initContainers)', () => {
    expect(byName('catalogue-').state).toBe('healthy');
  });

  it('reports missing when default is only warming', () => {
    const pod = byName('user-');
    expect(pod.state).toBe('missing');
    expect(pod.certificate).toBeNull();
    expect(pod.secrets.some((s) => s.name === 'default' && s.versionInfo === 'uninitialized')).toBe(true);
  });

  it('makes a hanging exec, a non-zero exit and non-JSON output unreachable with a clear error', async () => {
    expect(byName('shipping-')).toMatchObject({ state: 'unreachable', certificate: null });
    expect(byName('shipping-').error).toMatch(/timed out after 2000 ms/);
    expect(byName('queue-').error).toMatch(/exit code 1.*connection refused/);
    expect(byName('front-end-').error).toMatch(/not JSON|not valid JSON|JSON/i);
    // The timed-out exec socket is closed by the client, not left hanging on the server.
    const hung = emulator.execs.find((e) => e.pod.startsWith('shipping-'))!;
    await expect(hung.done).resolves.toBe('client-closed');
    expect(emulator.activeExecs()).toBe(0);
  });

  it('resolves CronJob, Rollout and DaemonSet owners', () => {
    expect(byName('reports-').workload).toEqual({ kind: 'CronJob', name: 'reports' });
    expect(byName('recommend-').workload).toEqual({ kind: 'Rollout', name: 'recommend' });
    expect(byName('log-shipper-').workload).toEqual({ kind: 'DaemonSet', name: 'log-shipper' });
  });

  it('flags an identity mismatch and a bundle mismatch', () => {
    expect(byName('recommend-').findings).toEqual(['identity-mismatch']);
    expect(byName('log-shipper-').findings).toEqual(['bundle-mismatch']);
  });

  it('fetches each owner object at most once per sweep', () => {
    const ownerGets = emulator.requests.filter((r) => r.method === 'GET' && /\/(replicasets|jobs)\//.test(r.path)).map((r) => r.path);
    expect(ownerGets.length).toBeGreaterThan(0);
    expect(new Set(ownerGets).size).toBe(ownerGets.length);
    // carts has two pods but one ReplicaSet lookup.
    expect(ownerGets.filter((p) => p.includes('/replicasets/carts-'))).toHaveLength(1);
  });

  it('prints a kubectl-like table by default, worst first', async () => {
    const table = await cli(['sweep', '--kubeconfig', kubeconfig, '--now', NOW.toISOString(), '--timeout', '1s', '-n', 'data']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+WORKLOAD\s+STATE/);
    expect(lines[1]).toMatch(/^data\s+db-0\s+StatefulSet\/db\s+expired/);
    expect(table.stdout).toMatch(/sampled 5, skipped 0: healthy 4, .*expired 1/);
  });
});

describe('sweep resilience against API faults', () => {
  let emulator: KubeApiEmulator;
  let pki: MeshPki;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator({ execProtocols: ['v4.channel.k8s.io'] });
    pki = await createMeshPki();
    const mesh = new Mesh(emulator, { startTime: minutesAgo(60) });
    mesh.addNamespace('shop');
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) {
      const w = mesh.addDeployment('shop', name);
      await script(emulator, pki, 'shop', w.pods, { servedBy: 'tbot', serviceAccount: name, issuedAt: minutesAgo(5), lifetimeSeconds: HOUR });
    }
  });

  afterAll(async () => {
    await emulator.close();
  });

  const sweep = (client: KubeClient, pageSize = 2, concurrency = 3) =>
    runSweep(kubeSweepSource(client, { pageSize, sampler: { timeoutMs: 2_000, maxOutputBytes: 64 * 1024 } }), {
      cluster: 'c',
      sweepId: 's',
      thresholds: DEFAULT_THRESHOLDS,
      concurrency,
      now: NOW,
    });
  const fastClient = () => new KubeClient(emulator.kubeConfig(), { retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 20 } });

  it('pages through the list with limit and continue over exec v4', async () => {
    emulator.requests.clear();
    const report = await sweep(fastClient());
    expect(report.summary.healthy).toBe(7);
    const lists = emulator.requests.filter((r) => r.path === '/api/v1/pods');
    expect(lists).toHaveLength(4);
    expect(lists.every((r) => r.query.limit === '2')).toBe(true);
    expect(lists.filter((r) => typeof r.query.continue === 'string')).toHaveLength(3);
    expect(emulator.execs.every((e) => e.protocol === 'v4.channel.k8s.io')).toBe(true);
  });

  it('retries 429 (Retry-After) and 5xx answers and still sees every pod', async () => {
    const throttled = emulator.injectFault({ path: '/api/v1/pods', status: 429, retryAfterSeconds: 0, times: 1 });
    const broken = emulator.injectFault({ path: /\/replicasets\//, status: 503, times: 2 });
    const report = await sweep(fastClient());
    expect(throttled.hits).toBe(1);
    expect(broken.hits).toBe(2);
    expect(report.summary).toMatchObject({ sampled: 7, healthy: 7, unreachable: 0 });
    expect(report.pods.every((p) => p.workload?.kind === 'Deployment')).toBe(true);
  });

  it('restarts the list when the continue token expired (410) without repeating pods', async () => {
    let pages = 0;
    const source = kubeSweepSource(fastClient(), { pageSize: 2 });
    const listed: string[] = [];
    for await (const listing of source.listPods()) {
      if (listing.kind === 'target') listed.push(listing.target.name);
      if (++pages === 3) emulator.expireContinueTokens();
    }
    expect(listed).toHaveLength(7);
    expect(new Set(listed).size).toBe(7);
    const expired = emulator.requests.filter((r) => r.path === '/api/v1/pods' && r.status === 410);
    expect(expired.length).toBeGreaterThanOrEqual(1);
  });

  it('counts a pod deleted mid-sweep as skipped, not unreachable', async () => {
    const victim = emulator.list('Pod', 'shop').at(-1)!;
    const victimName = victim.metadata!.name!;
    emulator.setExecHandler(async (request) => {
      if (request.pod !== victimName) emulator.remove('Pod', 'shop', victimName);
      return emulator.defaultExecHandler(request);
    });
    try {
      const report = await sweep(fastClient(), 500, 1);
      expect(report.pods.map((p) => p.name)).not.toContain(victimName);
      expect(report.summary).toMatchObject({ sampled: 6, skipped: 1, unreachable: 0 });
    } finally {
      emulator.setExecHandler(undefined);
      emulator.apply(victim);
    }
  });

  it('caps the output size and makes the oversized pod unreachable while the sweep goes on', async () => {
    const big = emulator.list('Pod', 'shop')[0]!.metadata!.name!;
    emulator.setProxyResponses('shop', big, { [ACTIVE_SECRETS_PATH]: `{"configs":[${'{"x":1},'.repeat(20_000)}{}]}` });
    const report = await sweep(fastClient());
    const pod = report.pods.find((p) => p.name === big)!;
    expect(pod.state).toBe('unreachable');
    expect(pod.error).toMatch(/exceeds 65536 bytes/);
    expect(report.summary.healthy).toBe(6);
  });

  it('exits 3 when the API refuses the list, and 2 on bad usage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcw-kc-'));
    const file = join(dir, 'config');
    writeFileSync(file, emulator.kubeconfigYaml('emu'));
    emulator.injectFault({ path: '/api/v1/pods', status: 403, message: 'pods is forbidden: User "x" cannot list resource "pods"', times: 1 });
    const forbidden = await cli(['sweep', '--kubeconfig', file]);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(/pods is forbidden/);
    expect((await cli(['sweep', '--kubeconfig', file, '--context', 'nope'])).code).toBe(2);
    expect((await cli(['sweep', '--kubeconfig', file, '--stale-after', '61 minutes'])).stderr).toMatch(/--stale-after/);
    expect((await cli(['sweep', '--kubeconfig', file, '--fail-on', 'broken'])).code).toBe(2);
  });

  it('exits 3 when nothing answers at the server address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcw-kc-'));
    const file = join(dir, 'config');
    const closed = await startKubeApiEmulator();
    writeFileSync(file, closed.kubeconfigYaml('gone'));
    await closed.close();
    const result = await cli(['sweep', '--kubeconfig', file]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot reach the Kubernetes API/);
  });
});
