import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { deterministicUid, Mesh } from '../../src/sandbox/emulator/mesh.js';

const START = new Date('2025-03-01T10:00:00Z');

function containerNames(pod: V1Pod): { containers: string[]; init: string[] } {
  return {
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
    init: (pod.spec?.initContainers ?? []).map((c) => c.name),
  };
}

describe('Mesh cluster scripting', () => {
  let emulator: KubeApiEmulator;
  let kc: KubeConfig;
  let core: CoreV1Api;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    kc = emulator.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('builds the same names and uids for the same script', () => {
    const recorded: KubeObject[][] = [[], []];
    for (const objects of recorded) {
      const mesh = new Mesh({ apply: (o) => (objects.push(o), o) }, { startTime: START });
      mesh.addDeployment('shop', 'carts', { replicas: 2 });
    }
    expect(recorded[0]!.map((o) => o.metadata.name)).toEqual(recorded[1]!.map((o) => o.metadata.name));
    expect(recorded[0]!.map((o) => o.metadata.uid)).toEqual(recorded[1]!.map((o) => o.metadata.uid));
    expect(recorded[0]![0]!.metadata.uid).toBe(deterministicUid('Deployment', 'shop', 'carts'));
    const [, rs, pod] = recorded[0]!;
    expect(rs!.metadata.name).toMatch(/^carts-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(pod!.metadata.name).toMatch(new RegExp(`^${rs!.metadata.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
  });

  it('places istio-proxy as a container, as a native sidecar, or not at all', async () => {
    const mesh = new Mesh(emulator, { startTime: START });
    mesh.addNamespace('sidecars');
    const classic = mesh.addDeployment('sidecars', 'classic', { serviceAccount: 'classic-sa' }).pods[0]!;
    const native = mesh.addDeployment('sidecars', 'native', { nativeSidecar: true }).pods[0]!;
    const plain = mesh.addDeployment('sidecars', 'plain', { injected: false }).pods[0]!;

    const read = async (pod: KubeObject): Promise<V1Pod> => core.readNamespacedPod({ namespace: 'sidecars', name: pod.metadata.name });
    const classicPod = await read(classic);
    expect(containerNames(classicPod)).toEqual({ containers: ['classic', 'istio-proxy'], init: ['istio-init'] });
    expect(classicPod.spec?.serviceAccountName).toBe('classic-sa');
    expect(classicPod.spec?.nodeName).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
    expect(classicPod.status?.phase).toBe('Running');
    expect(classicPod.spec?.volumes?.find((v) => v.name === 'workload-socket')?.csi?.driver).toBe('csi.spiffe.io');

    const nativePod = await read(native);
    expect(containerNames(nativePod)).toEqual({ containers: ['native'], init: ['istio-init', 'istio-proxy'] });
    expect(nativePod.spec?.initContainers?.[1]?.restartPolicy).toBe('Always');

    const plainPod = await read(plain);
    expect(containerNames(plainPod)).toEqual({ containers: ['plain'], init: [] });
    expect(plainPod.metadata?.labels?.['security.istio.io/tlsMode']).toBeUndefined();
  });

  it('adds the workload-certs emptyDir only when asked, plus any extra volumes', () => {
    const mesh = new Mesh(emulator);
    const pod = mesh.addBarePod('sidecars', 'files', { workloadCertsVolume: true, volumes: [{ name: 'cache', emptyDir: {} }] }).pods[0]!;
    const volumes = (pod.spec!.volumes as { name: string; emptyDir?: unknown }[]).map((v) => v.name);
    expect(volumes).toContain('workload-certs');
    expect(volumes[volumes.length - 1]).toBe('cache');
    expect(pod.metadata.ownerReferences).toBeUndefined();
  });

  it('creates the controller chains of StatefulSets, DaemonSets, CronJobs and Rollouts', async () => {
    const mesh = new Mesh(emulator, { nodeCount: 4, startTime: START });
    const ledger = mesh.addStatefulSet('chains', 'ledger', { replicas: 2 });
    expect(ledger.pods.map((p) => p.metadata.name)).toEqual(['ledger-0', 'ledger-1']);
    expect(ledger.pods[0]!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'StatefulSet', name: 'ledger', uid: ledger.workload.metadata.uid, controller: true }),
    ]);

    const agent = mesh.addDaemonSet('chains', 'node-agent');
    expect(new Set(agent.pods.map((p) => p.spec!.nodeName))).toEqual(new Set(mesh.nodeNames));

    const report = mesh.addCronJob('chains', 'report', { nativeSidecar: true });
    const pod = await core.readNamespacedPod({ namespace: 'chains', name: report.pods[0]!.metadata.name });
    const jobRef = pod.metadata!.ownerReferences![0]!;
    const job = await kc.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: 'chains', name: jobRef.name });
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'report', controller: true });
    expect(pod.spec?.restartPolicy).toBe('Never');

    const web = mesh.addRollout('chains', 'web', { replicas: 2, podPhase: 'Pending' });
    const rs = await kc.makeApiClient(AppsV1Api).readNamespacedReplicaSet({ namespace: 'chains', name: web.intermediate!.metadata.name });
    expect(rs.metadata?.ownerReferences?.[0]).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web' });
    expect(web.pods.map((p) => p.status!.phase)).toEqual(['Pending', 'Pending']);
    expect(emulator.get('Namespace', undefined, 'chains')?.status?.phase).toBe('Active'); // namespaces come into existence
  });
});
