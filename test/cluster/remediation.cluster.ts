/**
 * Remediation against a real kube-apiserver and kube-controller-manager: the sampler identity
 * sweeps, the remediator identity runs the engine on the resulting `Pod Certificate Unhealthy`
 * details, and our strategic-merge restart patch makes the real Deployment controller roll a
 * new ReplicaSet. Each identity is refused what belongs to the other.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { computeChanges } from '../../src/core/events/changes.js';
import { KubeApiError } from '../../src/core/model/errors.js';
import { DEFAULT_REMEDIATION_POLICY, RESTARTED_AT_ANNOTATION, type RemediationTrigger } from '../../src/core/remediation/remediation.js';
import { InMemoryRestartGuard } from '../../src/cli/memory-restart-guard.js';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { SweepReport } from '../../src/core/model/types.js';
import { createMeshPki, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { ACTIVE_SECRETS_COMMAND } from '../../src/kube/envoy-sampler.js';
import { ExecRejectedError, execCommand } from '../../src/kube/exec.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';
import { executeRestart } from '../../src/kube/remediation.js';
import { remediate } from '../../src/remediator/remediate.js';
import { admin, applyRbac, awaitExecRouting, canI, clusterEnv, createNamespace, ensureNode, mintIdentity, runningPods, waitFor, type Admin, type Identity } from './support/kit.js';
import { Workloads } from './support/workloads.js';
import { runCli } from '../support/cli.js';

const NS = 'mcw-remediate';
const HOUR = 3600;
const minutesAgo = (m: number): Date => new Date(Date.now() - m * 60_000);

const cli = runCli;

const templateHash = (rs: V1ReplicaSet): string => rs.metadata?.labels?.['pod-template-hash'] ?? '';

describe('remediation against a real kube-apiserver and kube-controller-manager', () => {
  const env = clusterEnv();
  let adminApi: Admin;
  let sampler: Identity;
  let remediator: Identity;
  let pki: MeshPki;
  let workloads: Workloads;
  let report: SweepReport;
  let triggers: readonly RemediationTrigger[];
  let before: V1ReplicaSet;

  const sweep = (identity: Identity): Promise<SweepReport> =>
    runSweep(kubeSweepSource(identity.client(), { namespaces: [NS], sampler: { timeoutMs: 5_000, maxOutputBytes: 4 << 20 } }), {
      cluster: env.name,
      sweepId: `sweep-${Date.now()}`,
      thresholds: DEFAULT_THRESHOLDS,
      concurrency: 8,
    });
  const webReplicaSets = async (): Promise<V1ReplicaSet[]> => (await adminApi.apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: 'app=web' })).items;

  beforeAll(async () => {
    adminApi = admin(env);
    await ensureNode(adminApi);
    await applyRbac(adminApi);
    [sampler, remediator] = await Promise.all([mintIdentity(env, 'sampler'), mintIdentity(env, 'remediator')]);
    await createNamespace(adminApi, NS);
    pki = await createMeshPki('example.org');
    workloads = new Workloads(adminApi, env, pki);
    const [web, steady] = await Promise.all([
      // Expired: the issuer stopped 70 minutes ago, the leaf lived an hour.
      workloads.deployment({ namespace: NS, name: 'web', replicas: 2, envoy: { cert: { servedBy: 'tbot', issuedAt: minutesAgo(70), lifetimeSeconds: HOUR } } }),
      workloads.deployment({ namespace: NS, name: 'steady', replicas: 3, envoy: { cert: { servedBy: 'tbot', issuedAt: minutesAgo(5), lifetimeSeconds: HOUR } } }),
    ]);
    await awaitExecRouting(env, [...web.pods, ...steady.pods].map((p) => ({ namespace: NS, name: p.metadata!.name! })));
    await waitFor('deployment web is available', async () => {
      const d = await adminApi.apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
      return d.status?.observedGeneration === d.metadata?.generation && d.status?.availableReplicas === 2 && d.status?.updatedReplicas === 2;
    });
    const sets = await webReplicaSets();
    expect(sets).toHaveLength(1);
    before = sets[0]!;
    report = await sweep(sampler);
    triggers = computeChanges({ previous: [], report, scope: 'all' }).unhealthy;
  });

  it('the sampler sweep finds both web pods expired and the rest healthy (the breaker stays closed)', () => {
    expect(report.summary).toMatchObject({ sampled: 5, healthy: 3, expired: 2 });
    expect(triggers.map((t) => [t.workload, t.state])).toEqual([
      [{ kind: 'Deployment', name: 'web' }, 'expired'],
      [{ kind: 'Deployment', name: 'web' }, 'expired'],
    ]);
  });

  it('the sampler cannot patch a workload: the API server refuses our restart patch with 403 and nothing changes', async () => {
    expect(await canI(sampler, { verb: 'patch', group: 'apps', resource: 'deployments', namespace: NS })).toBe(false);
    const deployment = await adminApi.apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
    const attempt = executeRestart(sampler.client(), { kind: 'Deployment', namespace: NS, name: 'web', resourceVersion: deployment.metadata!.resourceVersion }, new Date().toISOString());
    await expect(attempt).rejects.toBeInstanceOf(KubeApiError);
    await expect(attempt).rejects.toMatchObject({ statusCode: 403 });
    // The CLI's --remediate, run with the sampler's kubeconfig, fails every outcome with 403.
    const run = await cli(['sweep', '--kubeconfig', sampler.kubeconfigPath, '-n', NS, '--remediate', '-o', 'json', '--timeout', '5s']);
    expect(run.code).toBe(0);
    const outcomes = (JSON.parse(run.stdout) as { remediation: { outcomes: { outcome: string; statusCode?: number }[] } }).remediation.outcomes;
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.outcome === 'failed' && o.statusCode === 403)).toBe(true);
    const after = await adminApi.apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
    expect(after.metadata?.generation).toBe(deployment.metadata?.generation);
    expect(await webReplicaSets()).toHaveLength(1);
  });

  it('the remediator cannot exec into a sidecar, nor list pods', async () => {
    const pod = triggers[0]!;
    expect(await canI(remediator, { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: NS })).toBe(false);
    const exec = execCommand(remediator.client(), { namespace: NS, name: pod.name, container: 'istio-proxy' }, ACTIVE_SECRETS_COMMAND, { timeoutMs: 5_000, maxOutputBytes: 1 << 20 });
    await expect(exec).rejects.toBeInstanceOf(ExecRejectedError);
    await expect(exec).rejects.toMatchObject({ statusCode: 403 });
    await expect(sweep(remediator)).rejects.toMatchObject({ statusCode: 403 });
  });

  it('the remediator restarts the Deployment and the real controller-manager rolls a new ReplicaSet', async () => {
    const guard = new InMemoryRestartGuard();
    const options = { kube: remediator.client(), guard, policy: DEFAULT_REMEDIATION_POLICY };
    const first = await remediate(triggers[0]!, options);
    expect(first).toMatchObject({ outcome: 'restarted', action: 'rollout-restart', workload: { kind: 'Deployment', name: 'web' } });
    const restartedAt = first.restartedAt;
    expect(restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // The other pod's event of the same sweep, and the same event delivered again: no second restart.
    const second = await remediate(triggers[1]!, options);
    expect(second.outcome).toBe('skipped');
    const duplicate = await remediate(triggers[0]!, { ...options, guard: new InMemoryRestartGuard() });
    expect(duplicate.outcome).toBe('skipped');

    const deployment = await adminApi.apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
    expect(deployment.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe(restartedAt);

    // kube-controller-manager: a new ReplicaSet with a new pod-template-hash takes over, the old one drains.
    const rolled = await waitFor('web rolled to a new ReplicaSet', async () => {
      const sets = await webReplicaSets();
      const fresh = sets.find((rs) => templateHash(rs) !== templateHash(before));
      const old = sets.find((rs) => rs.metadata?.uid === before.metadata?.uid);
      return fresh && fresh.status?.readyReplicas === 2 && old?.spec?.replicas === 0 ? { fresh, sets } : false;
    });
    expect(rolled.sets).toHaveLength(2);
    expect(templateHash(rolled.fresh)).not.toBe(templateHash(before));
    expect(rolled.fresh.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    expect(rolled.fresh.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe(restartedAt);

    // The replacement pods (kwok runs them) get fresh certificates: the next sweep is all healthy.
    const fresh = await runningPods(adminApi, NS, 'web', 2);
    expect(fresh.every((p) => p.metadata?.labels?.['pod-template-hash'] === templateHash(rolled.fresh))).toBe(true);
    for (const pod of fresh) await workloads.script({ namespace: NS, name: 'web', envoy: { cert: { servedBy: 'tbot', issuedAt: minutesAgo(0), lifetimeSeconds: HOUR } } }, pod);
    await awaitExecRouting(env, fresh.map((p) => ({ namespace: NS, name: p.metadata!.name! })));
    const next = await sweep(sampler);
    expect(next.summary).toMatchObject({ sampled: 5, healthy: 5 });
    expect(next.pods.filter((p) => p.workload?.name === 'web').map((p) => p.certificate?.serialNumber)).not.toContain(triggers[0]!.certificate!.serialNumber);
    expect(await webReplicaSets()).toHaveLength(2);
  });
});
