import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { apiError, statusBody } from './helpers.js';

const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

describe('Kubernetes API emulator over HTTPS with client-node', () => {
  let emulator: KubeApiEmulator;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
    const mesh = new Mesh(emulator, { startTime: new Date('2025-03-01T10:00:00Z') });
    mesh.addNamespace('shop');
    mesh.addNamespace('payments');
    mesh.addDeployment('shop', 'carts', { replicas: 3 });
    mesh.addDeployment('shop', 'orders', { replicas: 1, podPhase: 'Pending' });
    mesh.addStatefulSet('payments', 'ledger', { replicas: 2 });
    mesh.addBarePod('payments', 'debug', { injected: false });
    mesh.addRollout('shop', 'web', { replicas: 1 });
    kc = emulator.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    await emulator.close();
  });

  beforeEach(() => {
    emulator.clearFaults();
    emulator.requests.clear();
  });

  it('pages a cross-namespace pod list with limit/continue over a consistent snapshot', async () => {
    const all = emulator.list('Pod').map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(all).toHaveLength(8);

    const page1 = await core.listPodForAllNamespaces({ limit: 3 });
    expect(page1.items).toHaveLength(3);
    expect(page1.metadata?.remainingItemCount).toBe(5);
    expect(page1.metadata?._continue).toEqual(expect.any(String));

    // A pod created between pages is not part of the snapshot the continue token refers to.
    emulator.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'aaa-late', namespace: 'payments' }, spec: {}, status: { phase: 'Running' } });

    const page2 = await core.listPodForAllNamespaces({ limit: 3, _continue: page1.metadata!._continue! });
    expect(page2.metadata?.remainingItemCount).toBe(2);
    const page3 = await core.listPodForAllNamespaces({ limit: 3, _continue: page2.metadata!._continue! });
    expect(page3.items).toHaveLength(2);
    expect(page3.metadata?._continue).toBeUndefined();
    expect(page3.metadata?.remainingItemCount).toBeUndefined();
    expect(new Set([page1, page2, page3].map((p) => p.metadata?.resourceVersion)).size).toBe(1);

    const listed = [page1, page2, page3].flatMap((p) => p.items).map((p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    expect(listed).toEqual(all); // key order: namespace, then name
    expect(emulator.requests.map((r) => r.query.limit)).toEqual(['3', '3', '3']);
    expect(emulator.requests.map((r) => r.httpVersion)).toEqual(['2.0', '2.0', '2.0']); // client-node 2.x negotiates HTTP/2

    emulator.remove('Pod', 'payments', 'aaa-late');
  });

  it('answers 410 Expired for a continue token after compaction', async () => {
    const page1 = await core.listNamespacedPod({ namespace: 'shop', limit: 2 });
    emulator.expireContinueTokens();
    const error = await apiError(core.listNamespacedPod({ namespace: 'shop', limit: 2, _continue: page1.metadata!._continue! }));
    expect(error.code).toBe(410);
    expect(statusBody(error)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    // A fresh list (no token) works again.
    expect((await core.listNamespacedPod({ namespace: 'shop', limit: 2 })).items).toHaveLength(2);
  });

  it('filters lists by label and field selectors and rejects unknown field labels', async () => {
    const carts = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=carts' });
    expect(carts.items.map((p) => p.metadata?.labels?.app)).toEqual(['carts', 'carts', 'carts']);
    const running = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running' });
    expect(running.items.some((p) => p.metadata?.name?.startsWith('orders-'))).toBe(false);
    expect(running.items).toHaveLength(7);
    const paged = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running', limit: 5 });
    expect(paged.metadata?.remainingItemCount).toBeUndefined(); // the real server cannot count filtered lists

    const error = await apiError(core.listPodForAllNamespaces({ fieldSelector: 'spec.color=blue' }));
    expect(error.code).toBe(400);
    expect(statusBody(error).message).toBe('field label not supported: spec.color');
  });

  it('serves every workload kind on its real path, with controller owner references', async () => {
    const [pod] = emulator.list('Pod', 'shop').filter((p) => p.metadata.labels?.app === 'carts');
    const read = await core.readNamespacedPod({ namespace: 'shop', name: pod!.metadata.name });
    const rsRef = read.metadata?.ownerReferences?.[0];
    expect(rsRef).toMatchObject({ kind: 'ReplicaSet', controller: true });
    const rs = await apps.readNamespacedReplicaSet({ namespace: 'shop', name: rsRef!.name });
    expect(rs.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'carts', controller: true });
    expect((await apps.readNamespacedStatefulSet({ namespace: 'payments', name: 'ledger' })).spec?.replicas).toBe(2);
    expect((await core.readNamespace({ name: 'shop' })).status?.phase).toBe('Active');

    const rollout = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...ROLLOUTS, namespace: 'shop', name: 'web' })) as {
      kind: string;
      metadata: { uid: string };
    };
    expect(rollout.kind).toBe('Rollout');
    const webPod = emulator.list('Pod', 'shop').find((p) => p.metadata.labels?.app === 'web')!;
    const webRs = emulator.get('ReplicaSet', 'shop', webPod.metadata.ownerReferences![0]!.name)!;
    expect(webRs.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Rollout', uid: rollout.metadata.uid });

    expect((await kc.makeApiClient(VersionApi).getCode()).major).toBe('1');
    expect(emulator.requests.map((r) => r.path)).toContain('/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web');
  });

  it('answers NotFound with the real Status body', async () => {
    const error = await apiError(core.readNamespacedPod({ namespace: 'shop', name: 'ghost' }));
    expect(error.code).toBe(404);
    expect(statusBody(error)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "ghost" not found',
      reason: 'NotFound',
      details: { name: 'ghost', kind: 'pods' },
      code: 404,
    });
    const deployment = await apiError(apps.readNamespacedDeployment({ namespace: 'shop', name: 'ghost' }));
    expect(statusBody(deployment)).toMatchObject({ message: 'deployments.apps "ghost" not found', details: { group: 'apps', kind: 'deployments' } });
  });

  it('injects 403, 429 (with Retry-After) and 500 faults as Status bodies', async () => {
    emulator.injectFault({ method: 'GET', path: '/api/v1/pods', status: 403 });
    const forbidden = await apiError(core.listPodForAllNamespaces());
    expect(forbidden.code).toBe(403);
    expect(statusBody(forbidden)).toMatchObject({
      reason: 'Forbidden',
      message: 'pods is forbidden: User "kubernetes-admin" cannot list resource "pods" in API group "" at the cluster scope',
    });
    emulator.clearFaults();

    const throttle = emulator.injectFault({ path: /\/namespaces\/shop\/pods$/, status: 429, retryAfterSeconds: 2, times: 1 });
    const throttled = await apiError(core.listNamespacedPod({ namespace: 'shop' }));
    expect(throttled.code).toBe(429);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(statusBody(throttled)).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 }, code: 429 });
    expect((await core.listNamespacedPod({ namespace: 'shop' })).items.length).toBeGreaterThan(0); // times: 1
    expect(throttle.hits).toBe(1);

    emulator.injectFault({ path: '/api/v1/namespaces/shop/pods', status: 500, times: 1 });
    const internal = await apiError(core.listNamespacedPod({ namespace: 'shop' }));
    expect(internal.code).toBe(500);
    expect(statusBody(internal)).toMatchObject({ reason: 'InternalError', code: 500 });
    expect(emulator.requests.map((r) => r.status)).toEqual([403, 429, 200, 500]);
  });

  it('rejects a wrong or missing bearer token with 401', async () => {
    const wrong = new KubeConfig();
    const cluster = kc.getCurrentCluster()!;
    wrong.loadFromClusterAndUser(cluster, { name: 'intruder', token: 'not-the-token' });
    const error = await apiError(wrong.makeApiClient(CoreV1Api).listNamespace());
    expect(error.code).toBe(401);

    const anonymous = new KubeConfig();
    anonymous.loadFromClusterAndUser(cluster, { name: 'anonymous' });
    expect((await apiError(anonymous.makeApiClient(CoreV1Api).listNamespace())).code).toBe(401);
    expect(emulator.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it('writes a kubeconfig file the client can load', async () => {
    const fromFile = new KubeConfig();
    fromFile.loadFromString(emulator.kubeconfigYaml('kind-mesh'));
    expect(fromFile.getCurrentContext()).toBe('kind-mesh');
    const namespaces = await fromFile.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['payments', 'shop']);
  });
});

describe('PATCH through client-node', () => {
  let emulator: KubeApiEmulator;
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator({ http2: false });
    const mesh = new Mesh(emulator);
    mesh.addDeployment('shop', 'carts', { replicas: 2 });
    mesh.addRollout('shop', 'web');
    mesh.addCronJob('batch', 'report');
    kc = emulator.kubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });

  afterAll(async () => {
    await emulator.close();
  });

  beforeEach(() => emulator.requests.clear());

  const restartPatch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-03-01T10:00:00Z' } } } } };

  it('applies a strategic merge patch to a Deployment and logs it exactly', async () => {
    const before = emulator.get('Deployment', 'shop', 'carts')!;
    const patched = await apps.patchNamespacedDeployment(
      { namespace: 'shop', name: 'carts', body: restartPatch },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe('2025-03-01T10:00:00Z');
    expect(patched.spec?.template?.spec?.containers?.[0]?.name).toBe('carts'); // merged, not replaced
    expect(patched.metadata?.generation).toBe(before.metadata.generation! + 1);
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));

    const [request] = emulator.requests;
    expect(request).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/shop/deployments/carts',
      contentType: 'application/strategic-merge-patch+json',
      httpVersion: '1.1', // this suite runs the emulator with http2: false
      status: 200,
    });
    expect(JSON.parse(request!.body!)).toEqual(restartPatch);
  });

  it('shows what happens without the content type: client-node sends json-patch and the server rejects an object', async () => {
    const error = await apiError(apps.patchNamespacedDeployment({ namespace: 'shop', name: 'carts', body: restartPatch }));
    expect(error.code).toBe(400);
    expect(emulator.requests[0]?.contentType).toBe('application/json-patch+json');
  });

  it('answers 415 UnsupportedMediaType for a content type the API server does not take', async () => {
    const error = await apiError(
      apps.patchNamespacedDeployment({ namespace: 'shop', name: 'carts', body: restartPatch }, setHeaderOptions('Content-Type', 'application/json')),
    );
    expect(error.code).toBe(415);
    expect(statusBody(error)).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
    expect(String(statusBody(error).message)).toContain('application/strategic-merge-patch+json');
  });

  it('refuses strategic merge on the Rollout CRD (415) but takes a merge patch', async () => {
    const rejected = await apiError(
      custom.patchNamespacedCustomObject(
        { ...ROLLOUTS, namespace: 'shop', name: 'web', body: restartPatch },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(rejected.code).toBe(415);
    expect(statusBody(rejected).message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );

    const generation = emulator.get('Rollout', 'shop', 'web')!.metadata.generation!;
    const merged = (await custom.patchNamespacedCustomObject(
      { ...ROLLOUTS, namespace: 'shop', name: 'web', body: restartPatch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: { generation: number }; spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(merged.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe('2025-03-01T10:00:00Z');
    expect(merged.metadata.generation).toBe(generation + 1);
  });

  it('applies RFC 6902 JSON patches and answers 422 when a test operation fails', async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    const patched = await batch.patchNamespacedCronJob({
      namespace: 'batch',
      name: 'report',
      body: [
        { op: 'test', path: '/spec/suspend', value: false },
        { op: 'replace', path: '/spec/suspend', value: true },
      ],
    });
    expect(patched.spec?.suspend).toBe(true);

    const failed = await apiError(
      batch.patchNamespacedCronJob({ namespace: 'batch', name: 'report', body: [{ op: 'test', path: '/spec/suspend', value: false }] }),
    );
    expect(failed.code).toBe(422);
    expect(statusBody(failed)).toMatchObject({ reason: 'Invalid', code: 422 });
  });

  it('answers 409 Conflict when the patch carries a stale resourceVersion precondition', async () => {
    const current = emulator.get('Deployment', 'shop', 'carts')!;
    const fresh = await apps.patchNamespacedDeployment(
      { namespace: 'shop', name: 'carts', body: { metadata: { resourceVersion: current.metadata.resourceVersion, labels: { tier: 'web' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(fresh.metadata?.labels?.tier).toBe('web');
    expect(fresh.metadata?.generation).toBe(current.metadata.generation); // metadata only: generation unchanged

    const stale = await apiError(
      apps.patchNamespacedDeployment(
        { namespace: 'shop', name: 'carts', body: { metadata: { resourceVersion: current.metadata.resourceVersion, labels: { tier: 'api' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(stale.code).toBe(409);
    expect(statusBody(stale)).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on deployments.apps "carts": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('deletes a pod and then answers 404 for it', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const [pod] = emulator.list('Pod', 'shop');
    const deleted = await core.deleteNamespacedPod({ namespace: 'shop', name: pod!.metadata.name });
    expect(deleted.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect((await apiError(core.readNamespacedPod({ namespace: 'shop', name: pod!.metadata.name }))).code).toBe(404);
  });
});

describe('authentication and authorization hooks', () => {
  it('maps tokens to identities and answers RBAC-style 403s', async () => {
    const emulator = await startKubeApiEmulator({
      validateToken: (token) =>
        token === 'sampler-token'
          ? { username: 'mesh-cert-watch-sampler', groups: ['mesh-cert-watch:sampler'] }
          : token === 'remediator-token'
            ? { username: 'mesh-cert-watch-remediator', groups: ['mesh-cert-watch:remediator'] }
            : false,
      authorize: ({ user, verb }) => verb !== 'patch' || user.groups.includes('mesh-cert-watch:remediator'),
    });
    try {
      new Mesh(emulator).addDeployment('shop', 'carts');
      const clientFor = (token: string): AppsV1Api => {
        const kc = new KubeConfig();
        kc.loadFromClusterAndUser(emulator.kubeConfig().getCurrentCluster()!, { name: token, token });
        return kc.makeApiClient(AppsV1Api);
      };
      const body = { metadata: { annotations: { touched: 'yes' } } };
      const options = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

      const denied = await apiError(clientFor('sampler-token').patchNamespacedDeployment({ namespace: 'shop', name: 'carts', body }, options));
      expect(denied.code).toBe(403);
      expect(statusBody(denied).message).toBe(
        'deployments.apps "carts" is forbidden: User "mesh-cert-watch-sampler" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
      );
      const allowed = await clientFor('remediator-token').patchNamespacedDeployment({ namespace: 'shop', name: 'carts', body }, options);
      expect(allowed.metadata?.annotations?.touched).toBe('yes');
      expect((await apiError(clientFor(emulator.token).readNamespacedDeployment({ namespace: 'shop', name: 'carts' }))).code).toBe(401);
      expect(emulator.requests.map((r) => r.username)).toEqual(['mesh-cert-watch-sampler', 'mesh-cert-watch-remediator', undefined]);
    } finally {
      await emulator.close();
    }
  });
});
