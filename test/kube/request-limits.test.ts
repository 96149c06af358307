/**
 * Retry-After and timeouts for every request kind, through the real client-node against the
 * emulator: list/get/patch (HTTP) and the exec upgrade (WebSocket). Waits go through an injected
 * sleep, so a server's 7 s Retry-After is observed, not slept.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { KubeApiError, TimeoutError } from '../../src/core/model/errors.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { ExecRejectedError, execCommand } from '../../src/kube/exec.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { ACTIVE_SECRETS_COMMAND } from '../../src/kube/envoy-sampler.js';

let emulator: KubeApiEmulator;
let pod: { namespace: string; name: string };

beforeAll(async () => {
  emulator = await startKubeApiEmulator();
  const mesh = new Mesh(emulator, { startTime: new Date(Date.now() - 3600_000) });
  const created = mesh.addDeployment('shop', 'carts').pods[0]!;
  pod = { namespace: 'shop', name: created.metadata.name };
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.clearFaults();
  emulator.requests.clear();
});

function client(options: { deadlineInMs?: number; requestTimeoutMs?: number } = {}) {
  const waits: number[] = [];
  const kube = new KubeClient(emulator.kubeConfig(), {
    retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 },
    sleep: async (ms) => void waits.push(ms),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.deadlineInMs !== undefined ? { deadline: new Date(Date.now() + options.deadlineInMs) } : {}),
  });
  return { kube, waits };
}

const listPods = (kube: KubeClient) => kube.call('list pods in namespace shop', () => kube.core.listNamespacedPod({ namespace: 'shop' }));
const exec = (kube: KubeClient) => execCommand(kube, { ...pod, container: 'istio-proxy' }, ACTIVE_SECRETS_COMMAND, { timeoutMs: 5_000, maxOutputBytes: 1 << 20 });

describe('Retry-After', () => {
  it('is honoured in full on a list (7 s, above the 50 ms backoff ceiling) when the deadline leaves time', async () => {
    emulator.injectFault({ method: 'GET', path: '/api/v1/namespaces/shop/pods', status: 429, retryAfterSeconds: 7, times: 1 });
    const { kube, waits } = client({ deadlineInMs: 60_000 });
    await listPods(kube);
    expect(waits).toEqual([7_000]);
  });

  it('is honoured on a 503 of a PATCH too', async () => {
    emulator.injectFault({ method: 'PATCH', path: '/apis/apps/v1/namespaces/shop/deployments/carts', status: 503, retryAfterSeconds: 3, times: 1 });
    const { kube, waits } = client({ deadlineInMs: 60_000 });
    await kube.call('patch deployment shop/carts', () =>
      kube.apps.patchNamespacedDeployment({ namespace: 'shop', name: 'carts', body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }] }),
    );
    expect(waits).toEqual([3_000]);
  });

  it('on the exec upgrade (429 from an overloaded server or a proxy before it) is read from the refused handshake and honoured', async () => {
    emulator.injectFault({ path: /\/pods\/[^/]+\/exec/, status: 429, retryAfterSeconds: 9, times: 2 });
    const { kube, waits } = client({ deadlineInMs: 60_000 });
    const output = await exec(kube);
    expect(output.toString('utf8')).toContain('admin commands are'); // pilot-agent answered: the exec ran
    expect(waits).toEqual([9_000, 9_000]);
  });

  it('that would end past the deadline is not waited for: the 429 is the answer', async () => {
    emulator.injectFault({ method: 'GET', path: '/api/v1/namespaces/shop/pods', status: 429, retryAfterSeconds: 7, times: 1 });
    emulator.injectFault({ path: /\/pods\/[^/]+\/exec/, status: 429, retryAfterSeconds: 7, times: 1 });
    const { kube, waits } = client({ deadlineInMs: 5_000 });
    await expect(listPods(kube)).rejects.toMatchObject({ statusCode: 429 });
    await expect(exec(kube)).rejects.toBeInstanceOf(ExecRejectedError);
    expect(waits).toEqual([]);
  });
});

describe('request timeouts', () => {
  it('abort a hung list, get and patch after the per-request timeout, without asking again', async () => {
    emulator.injectFault({ path: /\/namespaces\/shop\//, effect: 'hang' });
    const { kube } = client({ requestTimeoutMs: 150 });
    for (const request of [
      () => listPods(kube),
      () => kube.call('get deployment shop/carts', () => kube.apps.readNamespacedDeployment({ namespace: 'shop', name: 'carts' })),
      () => kube.call('patch deployment shop/carts', () => kube.apps.patchNamespacedDeployment({ namespace: 'shop', name: 'carts', body: [] })),
    ]) {
      const error = await request().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as Error).message).toMatch(/: no answer from the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ within 150 ms$/);
    }
    // Not asked again: at most one request each reached the server (a retry would make 12).
    expect(emulator.requests.filter((r) => r.path.includes('/namespaces/shop/')).length).toBeLessThanOrEqual(3);
  });

  it('shrink to the time left before the deadline, and nothing is sent after it', async () => {
    emulator.injectFault({ path: '/api/v1/namespaces/shop/pods', effect: 'hang' });
    const { kube } = client({ deadlineInMs: 300 });
    const started = Date.now();
    await expect(listPods(kube)).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1_500);
    emulator.clearFaults();
    const late = await listPods(kube).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TimeoutError);
    expect((late as Error).message).toBe('list pods in namespace shop: not sent, the deadline has passed');
  });

  it('end a hung exec upgrade at the deadline as well', async () => {
    emulator.injectFault({ path: /\/pods\/[^/]+\/exec/, effect: 'hang' });
    const { kube } = client({ deadlineInMs: 300 });
    const error = await exec(kube).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).not.toBeInstanceOf(KubeApiError);
  });
});
