/**
 * The sweep against a real kube-apiserver: the CLI, as the sampler identity (a client
 * certificate in the group our ClusterRoleBinding names, with exactly our generated RBAC), over
 * a scripted mesh whose pods were made by the real controllers and run by kwok. Every exec goes
 * client → kube-apiserver (WebSocket) → kwok (the node's kubelet endpoint) → `pilot-agent`.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { PodReport, SweepReport } from '../../src/core/model/types.js';
import { createMeshPki, warmingOnlySecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { admin, applyRbac, awaitExecRouting, clusterEnv, createNamespace, ensureNode, mintIdentity, answersFromResponses, type Admin, type Identity } from './support/kit.js';
import { Workloads } from './support/workloads.js';
import { runCli, type CliRun } from '../support/cli.js';

const HOUR = 3600;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);
const SHOP = 'mcw-shop';
const DATA = 'mcw-data';


const cli = runCli;

describe('sweep against a real kube-apiserver (kwok cluster)', () => {
  const env = clusterEnv();
  let adminApi: Admin;
  let sampler: Identity;
  let run: CliRun;
  let report: SweepReport;
  const byName = (prefix: string): PodReport => {
    const pod = report.pods.find((p) => p.name.startsWith(prefix));
    if (!pod) throw new Error(`no pod ${prefix}* in the report (${report.pods.map((p) => p.name).join(', ')})`);
    return pod;
  };

  beforeAll(async () => {
    adminApi = admin(env);
    await ensureNode(adminApi);
    await applyRbac(adminApi);
    sampler = await mintIdentity(env, 'sampler');
    await createNamespace(adminApi, SHOP);
    await createNamespace(adminApi, DATA);
    const pki = await createMeshPki('example.org');
    const otherPki = await createMeshPki('other.org');
    const w = new Workloads(adminApi, env, pki);
    const tbot = (issuedMinutesAgo: number, extra: object = {}) => ({ cert: { servedBy: 'tbot' as const, issuedAt: minutesAgo(issuedMinutesAgo), lifetimeSeconds: HOUR, ...extra } });

    const built = await Promise.all([
      w.deployment({ namespace: SHOP, name: 'carts', replicas: 2, envoy: tbot(10) }),
      w.deployment({ namespace: SHOP, name: 'orders', envoy: tbot(40, { pushedAt: minutesAgo(2) }) }),
      w.deployment({ namespace: SHOP, name: 'payment', shape: { workloadCertsVolume: true }, envoy: { cert: { servedBy: 'istio-agent', issuedAt: minutesAgo(50), lifetimeSeconds: HOUR } } }),
      w.deployment({ namespace: SHOP, name: 'catalogue', shape: { nativeSidecar: true }, envoy: tbot(5) }),
      w.deployment({ namespace: SHOP, name: 'user', envoy: { answers: answersFromResponses(warmingOnlySecrets(pki).responses) } }),
      w.deployment({ namespace: SHOP, name: 'queue', envoy: { answers: { active: { stderr: 'Error: dial tcp 127.0.0.1:15000: connect: connection refused\n', exitCode: 1 } } } }),
      w.deployment({ namespace: SHOP, name: 'front-end', envoy: { answers: { active: { stdout: 'failed to get config_dump: 503 Service Unavailable\n' } } } }),
      w.deployment({ namespace: SHOP, name: 'recommend', envoy: tbot(3, { spiffeId: 'spiffe://example.org/ns/mcw-shop/sa/default' }) }),
      w.deployment({ namespace: SHOP, name: 'no-mesh', shape: { injected: false } }),
      w.deployment({ namespace: SHOP, name: 'starting', shape: { nodeName: 'mcw-node-that-does-not-exist' } }),
      w.statefulSet({ namespace: DATA, name: 'db', envoy: tbot(70) }),
      w.cronJob({ namespace: DATA, name: 'reports', envoy: tbot(1) }),
      w.daemonSet({ namespace: DATA, name: 'log-shipper', envoy: tbot(3, { bundleFrom: otherPki }) }),
      w.barePod({ namespace: DATA, name: 'legacy', envoy: tbot(20) }),
    ]);
    await awaitExecRouting(env, built.flatMap((b) => b.pods.map((p) => ({ namespace: p.metadata!.namespace!, name: p.metadata!.name! }))));

    run = await cli(['sweep', '--kubeconfig', sampler.kubeconfigPath, '-n', SHOP, '-n', DATA, '--output', 'json', '--now', NOW.toISOString(), '--timeout', '5s', '--fail-on', 'expired']);
    report = JSON.parse(run.stdout) as SweepReport;
  });

  it('runs as the sampler identity and exits 1 because --fail-on expired is met', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(report.now).toBe(NOW.toISOString());
    expect(report.cluster).toBe(env.name);
    expect(report.partial).toBe(false);
  });

  it('samples every Running injected pod, skips the Pending one and ignores the pod without a sidecar', () => {
    const workloads = report.pods.map((p) => p.workload?.name ?? p.name);
    expect(workloads).not.toContain('no-mesh');
    expect(workloads).not.toContain('starting');
    expect(report.summary).toEqual({ sampled: 13, skipped: 1, healthy: 7, stale: 1, expiring: 1, expired: 1, missing: 1, unreachable: 2 });
  });

  it('reads healthy tbot certificates through exec, with the facts of the leaf', () => {
    const carts = report.pods.filter((p) => p.workload?.name === 'carts');
    expect(carts).toHaveLength(2);
    for (const pod of carts) {
      expect(pod).toMatchObject({ state: 'healthy', findings: [], source: 'tbot', serviceAccount: 'carts', node: 'mcw-kwok-node-0' });
      expect(pod.certificate).toMatchObject({ spiffeId: 'spiffe://example.org/ns/mcw-shop/sa/carts', ageSeconds: 600, remainingSeconds: 3000, lifetimeSeconds: HOUR });
      expect(pod.secrets.map((s) => s.name)).toEqual(['default', 'ROOTCA']);
    }
  });

  it('resolves owners through the objects the real controllers made: ReplicaSet → Deployment, StatefulSet, Job → CronJob, DaemonSet, bare pod', () => {
    // The ReplicaSet in the pod's ownerReferences was created by kube-controller-manager.
    expect(byName('carts-').name).toMatch(/^carts-[a-z0-9]{8,10}-[a-z0-9]{5}$/);
    expect(byName('carts-').workload).toEqual({ kind: 'Deployment', name: 'carts' });
    expect(byName('db-0').workload).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(byName('reports-').workload).toEqual({ kind: 'CronJob', name: 'reports' });
    expect(byName('log-shipper-').workload).toEqual({ kind: 'DaemonSet', name: 'log-shipper' });
    expect(byName('legacy').workload).toBeNull();
  });

  it('classifies stale, expiring and expired with their findings', () => {
    expect(byName('orders-')).toMatchObject({ state: 'stale', findings: ['sds-push-without-rotation'] });
    expect(byName('orders-').secrets[0]).toMatchObject({ name: 'default', pushAgeSeconds: 120 });
    expect(byName('payment-')).toMatchObject({ state: 'expiring', source: 'istio-agent', findings: ['sds-pushes-stopped', 'workload-certs-volume'] });
    expect(byName('db-0')).toMatchObject({ state: 'expired' });
    expect(byName('db-0').certificate?.remainingSeconds).toBe(-600);
  });

  it('samples a native sidecar (istio-proxy in initContainers) and reads warming secrets when default is missing', () => {
    expect(byName('catalogue-').state).toBe('healthy');
    const user = byName('user-');
    expect(user).toMatchObject({ state: 'missing', certificate: null });
    expect(user.secrets.some((s) => s.name === 'default' && s.versionInfo === 'uninitialized')).toBe(true);
  });

  it('makes a failing pilot-agent and non-JSON output unreachable with the reason', () => {
    expect(byName('queue-')).toMatchObject({ state: 'unreachable', certificate: null });
    expect(byName('queue-').error).toMatch(/exit status 1|exit code 1/);
    expect(byName('queue-').error).toMatch(/connection refused/);
    expect(byName('front-end-')).toMatchObject({ state: 'unreachable' });
    expect(byName('front-end-').error).toMatch(/JSON/i);
  });

  it('flags an identity mismatch and a bundle mismatch', () => {
    expect(byName('recommend-').findings).toEqual(['identity-mismatch']);
    expect(byName('log-shipper-').findings).toEqual(['bundle-mismatch']);
  });

  it('prints the table worst first, as the sampler too', async () => {
    const table = await cli(['sweep', '--kubeconfig', sampler.kubeconfigPath, '-n', DATA, '--now', NOW.toISOString(), '--timeout', '5s']);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+WORKLOAD\s+STATE/);
    expect(lines[1]).toMatch(/^mcw-data\s+db-0\s+StatefulSet\/db\s+expired/);
    expect(table.stdout).toMatch(/sampled 4, skipped 0: healthy 3, .*expired 1/);
  });
});
