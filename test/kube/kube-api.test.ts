/**
 * src/kube/kube-api.ts replaces client-node's generated API classes for the 15 operations the
 * watcher uses. Each operation must send exactly the request the generated method sends (method,
 * URL with query, headers, body, credentials, per-call middleware such as the patch content
 * type) and turn answers into the same results and ApiExceptions. Both run here on one
 * client-node Configuration whose HttpLibrary records the request and replays an answer.
 * (The emulator and cluster tiers run the same operations over HTTPS end to end.)
 */
import { describe, expect, it } from '@jest/globals';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RequiredError,
  ResponseContext,
  SelfDecodingBody,
  ServerConfiguration,
  createConfiguration,
  setHeaderOptions,
  wrapHttpLibrary,
  type ConfigurationOptions,
  type RequestContext,
} from '@kubernetes/client-node';
import { appsApi, batchApi, coreApi, customObjectApi, podListApi } from '../../src/kube/kube-api.js';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly signal: boolean;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly contentType?: string;
}

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://k8s.example:6443', skipTLSVerify: false }],
    users: [{ name: 'u', token: 'sekret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** One client-node Configuration as KubeClient builds it, answering every request with `answer`. */
function configuration(answer: Answer, requests: Recorded[]) {
  const signal = new AbortController().signal;
  return createConfiguration({
    baseServer: new ServerConfiguration('https://k8s.example:6443', {}),
    authMethods: { default: kubeConfig() },
    promiseMiddleware: [{ pre: async (context: RequestContext) => (context.setSignal(signal), context), post: async (context: ResponseContext) => context }],
    httpApi: wrapHttpLibrary({
      send: async (request: RequestContext) => {
        requests.push({
          method: request.getHttpMethod(),
          url: request.getUrl(),
          headers: { ...request.getHeaders() },
          body: request.getBody(),
          signal: request.getSignal() === signal,
        });
        const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        return new ResponseContext(answer.status, { 'content-type': answer.contentType ?? 'application/json' }, new SelfDecodingBody(Promise.resolve(Buffer.from(text))));
      },
    }),
  });
}

type Call = (apis: Record<'core' | 'apps' | 'batch' | 'custom', Record<string, (param: object, options?: ConfigurationOptions) => Promise<unknown>>>) => Promise<unknown>;

const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const restart = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-01T00:00:00Z' } } } } };
const rollouts = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };
const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', creationTimestamp: '2026-12-01T10:00:00Z', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d', uid: 'rs', controller: true }] },
  spec: { nodeName: 'node-a', containers: [{ name: 'istio-proxy', image: 'istio/proxyv2:1.24' }] },
  status: { phase: 'Running', startTime: '2026-12-01T10:00:05Z', containerStatuses: [{ name: 'istio-proxy', ready: true, restartCount: 0, image: 'x', imageID: 'y', state: { running: { startedAt: '2026-12-01T10:00:06Z' } } }] },
};
const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', generation: 3 }, spec: { selector: { matchLabels: { app: 'web' } }, template: {} } };

const CASES: Record<string, { call: Call; answer: unknown }> = {
  'list pods in a namespace (paging, selector)': {
    call: ({ core }) => core.listNamespacedPod!({ namespace: 'shop', limit: 500, _continue: 'tok en', labelSelector: 'app in (web)' }),
    answer: { apiVersion: 'v1', kind: 'PodList', metadata: { continue: 'next', remainingItemCount: 3 }, items: [POD] },
  },
  'list pods in all namespaces': {
    call: ({ core }) => core.listPodForAllNamespaces!({ limit: 2, fieldSelector: 'spec.nodeName=node-a', timeoutSeconds: 5, watch: false }),
    answer: { apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [POD, POD] },
  },
  'read a namespace': { call: ({ core }) => core.readNamespace!({ name: 'shop' }), answer: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } } },
  'read a pod': { call: ({ core }) => core.readNamespacedPod!({ namespace: 'shop', name: 'web/1?x', pretty: 'true' }), answer: POD },
  'delete a pod with a uid precondition': {
    call: ({ core }) => core.deleteNamespacedPod!({ namespace: 'shop', name: 'web-1', body: { preconditions: { uid: 'u-1' } }, gracePeriodSeconds: 0 }),
    answer: POD,
  },
  'delete a pod without a body': { call: ({ core }) => core.deleteNamespacedPod!({ namespace: 'shop', name: 'web-1' }), answer: POD },
  'read a deployment': { call: ({ apps }) => apps.readNamespacedDeployment!({ namespace: 'shop', name: 'web' }), answer: DEPLOYMENT },
  'read a statefulset': { call: ({ apps }) => apps.readNamespacedStatefulSet!({ namespace: 'shop', name: 'db' }), answer: { ...DEPLOYMENT, kind: 'StatefulSet' } },
  'read a daemonset': { call: ({ apps }) => apps.readNamespacedDaemonSet!({ namespace: 'tbot', name: 'tbot' }), answer: { ...DEPLOYMENT, kind: 'DaemonSet' } },
  'read a replicaset': { call: ({ apps }) => apps.readNamespacedReplicaSet!({ namespace: 'shop', name: 'web-5d' }), answer: { ...DEPLOYMENT, kind: 'ReplicaSet' } },
  'patch a deployment (strategic merge)': { call: ({ apps }) => apps.patchNamespacedDeployment!({ namespace: 'shop', name: 'web', body: restart }, strategic), answer: DEPLOYMENT },
  'patch a deployment (JSON patch by default, dry run)': {
    call: ({ apps }) => apps.patchNamespacedDeployment!({ namespace: 'shop', name: 'web', body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }], dryRun: 'All', fieldManager: 'mcw' }),
    answer: DEPLOYMENT,
  },
  'patch a statefulset': { call: ({ apps }) => apps.patchNamespacedStatefulSet!({ namespace: 'shop', name: 'db', body: restart, force: true }, merge), answer: { ...DEPLOYMENT, kind: 'StatefulSet' } },
  'patch a daemonset': { call: ({ apps }) => apps.patchNamespacedDaemonSet!({ namespace: 'tbot', name: 'tbot', body: restart }, strategic), answer: { ...DEPLOYMENT, kind: 'DaemonSet' } },
  'read a job': { call: ({ batch }) => batch.readNamespacedJob!({ namespace: 'jobs', name: 'nightly' }), answer: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'nightly', creationTimestamp: '2026-12-01T00:00:00Z' } } },
  'get an Argo rollout': { call: ({ custom }) => custom.getNamespacedCustomObject!({ ...rollouts, namespace: 'shop', name: 'web' }), answer: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'web' } } },
  'patch an Argo rollout': {
    call: ({ custom }) => custom.patchNamespacedCustomObject!({ ...rollouts, namespace: 'shop', name: 'web', body: { spec: { restartAt: '2026-12-01T00:00:00Z' } } }, merge),
    answer: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'web' } },
  },
};

async function run(call: Call, answer: Answer, generated: boolean): Promise<{ requests: Recorded[]; outcome: unknown }> {
  const requests: Recorded[] = [];
  const config = configuration(answer, requests);
  const apis = generated
    ? { core: new CoreV1Api(config), apps: new AppsV1Api(config), batch: new BatchV1Api(config), custom: new CustomObjectsApi(config) }
    : { core: coreApi(config), apps: appsApi(config), batch: batchApi(config), custom: customObjectApi(config) };
  try {
    return { requests, outcome: { result: await call(apis as unknown as Parameters<Call>[0]) } };
  } catch (error) {
    if (error instanceof ApiException) return { requests, outcome: { apiException: { code: error.code, message: error.message, body: error.body, headers: error.headers } } };
    if (error instanceof RequiredError) return { requests, outcome: { required: { name: error.name, message: error.message } } };
    throw error;
  }
}

describe('kube-api: the narrow operations send and read exactly what client-node’s generated classes do', () => {
  for (const [name, { call, answer }] of Object.entries(CASES)) {
    it(name, async () => {
      for (const reply of [
        { status: 200, body: answer },
        { status: 201, body: answer },
        { status: 401 },
        { status: 404, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' } },
        { status: 429, body: 'slow down', contentType: 'text/plain' },
      ]) {
        const ours = await run(call, reply, false);
        const generated = await run(call, reply, true);
        expect(ours.requests).toEqual(generated.requests);
        expect(ours.outcome).toEqual(generated.outcome);
        expect(ours.requests).toHaveLength(1);
        expect(ours.requests[0]!.headers.Authorization).toBe('Bearer sekret-token');
        expect(ours.requests[0]!.signal).toBe(true);
      }
    });
  }

  it('keeps the typed models: timestamps become Dates, as with the generated classes', async () => {
    const { outcome } = await run(CASES['read a pod']!.call, { status: 200, body: POD }, false);
    const pod = (outcome as { result: { metadata: { creationTimestamp: unknown }; status: { containerStatuses: { state: { running: { startedAt: unknown } } }[] } } }).result;
    expect(pod.metadata.creationTimestamp).toEqual(new Date('2026-12-01T10:00:00Z'));
    expect(pod.status.containerStatuses[0]!.state.running.startedAt).toBeInstanceOf(Date);
  });

  it('sends the strategic-merge content type only when asked, JSON patch otherwise (the client-node trap)', async () => {
    const asked = await run(CASES['patch a deployment (strategic merge)']!.call, { status: 200, body: DEPLOYMENT }, false);
    const unasked = await run(CASES['patch a deployment (JSON patch by default, dry run)']!.call, { status: 200, body: DEPLOYMENT }, false);
    expect(asked.requests[0]!.headers['Content-Type']).toBe('application/strategic-merge-patch+json');
    expect(unasked.requests[0]!.headers['Content-Type']).toBe('application/json-patch+json');
    expect(unasked.requests[0]!.url).toBe('https://k8s.example:6443/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All&fieldManager=mcw');
  });

  it('refuses a missing path parameter or patch body before sending, as the generated code does', async () => {
    for (const call of [
      ((apis) => apis.core.readNamespacedPod!({ namespace: 'shop' })) as Call,
      ((apis) => apis.apps.patchNamespacedDeployment!({ namespace: 'shop', name: 'web' })) as Call,
    ]) {
      const ours = await run(call, { status: 200, body: {} }, false);
      expect(ours.requests).toEqual([]);
      expect(ours.outcome).toEqual((await run(call, { status: 200, body: {} }, true)).outcome);
      expect(ours.outcome).toMatchObject({ required: { name: 'RequiredError' } });
    }
  });
});

describe('kube-api: the sweep’s pod lists', () => {
  const POD_LIST = { apiVersion: 'v1', kind: 'PodList', metadata: { continue: 'next', remainingItemCount: 3 }, items: [POD] };
  const calls: Record<string, { ours: (api: ReturnType<typeof podListApi>) => Promise<unknown>; generated: (api: CoreV1Api) => Promise<unknown> }> = {
    'in a namespace': {
      ours: (api) => api.listNamespacedPod({ namespace: 'shop', limit: 500, _continue: 'tok en', labelSelector: 'app in (web)' }),
      generated: (api) => api.listNamespacedPod({ namespace: 'shop', limit: 500, _continue: 'tok en', labelSelector: 'app in (web)' }),
    },
    'in all namespaces': {
      ours: (api) => api.listPodForAllNamespaces({ limit: 2, _continue: 'c', labelSelector: 'tier=web' }),
      generated: (api) => api.listPodForAllNamespaces({ limit: 2, _continue: 'c', labelSelector: 'tier=web' }),
    },
  };

  async function outcome(call: () => Promise<unknown>): Promise<unknown> {
    try {
      return { result: await call() };
    } catch (error) {
      if (error instanceof ApiException) return { apiException: { code: error.code, message: error.message, body: error.body, headers: error.headers } };
      throw error;
    }
  }

  for (const [name, { ours, generated }] of Object.entries(calls)) {
    it(`${name}: the generated method’s request and errors, the answer as the API server’s JSON`, async () => {
      for (const reply of [
        { status: 200, body: POD_LIST },
        { status: 401 },
        { status: 410, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'continue token expired' } },
        { status: 429, body: 'slow down', contentType: 'text/plain' },
      ]) {
        const ourRequests: Recorded[] = [];
        const generatedRequests: Recorded[] = [];
        const ourOutcome = await outcome(() => ours(podListApi(configuration(reply, ourRequests))));
        const generatedOutcome = await outcome(() => generated(new CoreV1Api(configuration(reply, generatedRequests))));
        expect(ourRequests).toEqual(generatedRequests);
        expect(ourRequests).toHaveLength(1);
        expect(ourRequests[0]!.headers.Authorization).toBe('Bearer sekret-token');
        expect(ourRequests[0]!.signal).toBe(true);
        if (reply.status === 200) {
          // Parsed, not deserialized: the wire's `continue` and string timestamps, every field as sent.
          expect(ourOutcome).toEqual({ result: POD_LIST });
          expect((generatedOutcome as { result: { metadata: { _continue: string } } }).result.metadata._continue).toBe('next');
        } else {
          expect(ourOutcome).toEqual(generatedOutcome);
        }
      }
    });
  }
});
