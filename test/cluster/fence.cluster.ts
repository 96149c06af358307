/**
 * The exec and patch fence (ValidatingAdmissionPolicies from `mesh-cert-watch rbac`) enforced by a
 * real kube-apiserver (1.36): the sampler's own read command in istio-proxy goes through; any
 * other command, container, stdin or tty is refused by admission with 403. The remediator's
 * restart patch goes through; image, replica, label and annotation patches get 403. Only our two
 * groups are fenced: the admin's exec and patch are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdmissionregistrationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { createMeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { ACTIVE_SECRETS_COMMAND, WARMING_SECRETS_COMMAND } from '../../src/kube/envoy-sampler.js';
import { execCommand } from '../../src/kube/exec.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import { fenceObjects, type AdmissionPolicyBindingObject, type AdmissionPolicyObject } from '../../src/rbac/rbac.js';
import { admin, applyRbac, awaitExecRouting, clusterEnv, createNamespace, ensureNode, isStatus, mintIdentity, waitFor, type Admin, type Identity } from './support/kit.js';
import { ROLLOUTS, Workloads } from './support/workloads.js';

const NS = 'mcw-fence';
const HOUR = 3600;

/** Exec as `client`; the answer is 'ran' (the command ran, whatever it printed) or the refusal's HTTP status. */
async function tryExec(client: KubeClient, pod: string, container: string, command: readonly string[], options: { stdin?: boolean; tty?: boolean } = {}): Promise<'ran' | number> {
  return new Promise((resolve) => {
    const sink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const stdin = options.stdin ? new PassThrough() : null;
    let settled = false;
    const done = (value: 'ran' | number): void => {
      if (settled) return;
      settled = true;
      stdin?.end();
      resolve(value);
    };
    client.exec
      .exec(NS, pod, container, [...command], sink(), options.tty ? null : sink(), stdin, options.tty === true, (_status: V1Status) => done('ran'))
      .then((socket) => {
        (socket as unknown as { on(event: 'close', listener: () => void): void }).on('close', () => done('ran'));
        stdin?.end();
      })
      .catch((error: unknown) => {
        const inner = (error as { error?: { statusCode?: number; message?: string } }).error ?? (error as { statusCode?: number; message?: string });
        const code = inner.statusCode ?? Number(/Unexpected server response: (\d{3})/.exec(String(inner.message))?.[1]);
        done(Number.isFinite(code) ? code : -1);
      });
  });
}

async function applyFence(adminApi: Admin): Promise<void> {
  const api = adminApi.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  for (const object of fenceObjects()) {
    const body = JSON.parse(JSON.stringify(object)) as never;
    if (object.kind === 'ValidatingAdmissionPolicy') {
      await api.createValidatingAdmissionPolicy({ body }).catch(async (error: unknown) => {
        if (!isStatus(error, 409)) throw error;
        await api.deleteValidatingAdmissionPolicy({ name: object.metadata.name });
        await api.createValidatingAdmissionPolicy({ body });
      });
    } else {
      await api.createValidatingAdmissionPolicyBinding({ body }).catch((error: unknown) => {
        if (!isStatus(error, 409)) throw error;
      });
    }
  }
}

async function removeFence(adminApi: Admin): Promise<void> {
  const api = adminApi.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  for (const object of fenceObjects() as (AdmissionPolicyObject | AdmissionPolicyBindingObject)[]) {
    const name = object.metadata.name;
    await (object.kind === 'ValidatingAdmissionPolicy' ? api.deleteValidatingAdmissionPolicy({ name }) : api.deleteValidatingAdmissionPolicyBinding({ name })).catch(() => undefined);
  }
}

describe('the exec and patch fence on a real kube-apiserver', () => {
  const env = clusterEnv();
  let adminApi: Admin;
  let sampler: Identity;
  let remediator: Identity;
  let pod: string;

  beforeAll(async () => {
    adminApi = admin(env);
    await ensureNode(adminApi);
    await applyRbac(adminApi);
    sampler = await mintIdentity(env, 'sampler');
    remediator = await mintIdentity(env, 'remediator');
    await createNamespace(adminApi, NS);
    const w = new Workloads(adminApi, env, await createMeshPki('example.org'));
    const envoy = { cert: { servedBy: 'tbot' as const, issuedAt: new Date(Date.now() - 10 * 60_000), lifetimeSeconds: HOUR } };
    const built = await Promise.all([
      w.deployment({ namespace: NS, name: 'web', envoy }),
      w.statefulSet({ namespace: NS, name: 'db', envoy }),
      w.daemonSet({ namespace: NS, name: 'agent', envoy }),
      w.rollout({ namespace: NS, name: 'shop', envoy }),
    ]);
    pod = built[0]!.pods[0]!.metadata!.name!;
    await awaitExecRouting(env, [{ namespace: NS, name: pod }]);
    await applyFence(adminApi);
    // Policies reach admission through an informer: wait until a foreign command is refused.
    const client = sampler.client();
    await waitFor('the exec fence is enforced', async () => (await tryExec(client, pod, 'app', ACTIVE_SECRETS_COMMAND)) === 403);
    // Each patch policy too, probed with server-side dry-run patches (admission runs, nothing is stored).
    const fixer = remediator.client();
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const refused = async (request: () => Promise<unknown>): Promise<boolean> => request().then(() => false, (error: unknown) => isStatus(error, 403));
    const replicas = { spec: { replicas: 9 } };
    await waitFor('the patch fence is enforced for every kind', async () =>
      (await refused(() => fixer.apps.patchNamespacedDeployment({ namespace: NS, name: 'web', body: replicas, dryRun: 'All' }, merge))) &&
      (await refused(() => fixer.apps.patchNamespacedStatefulSet({ namespace: NS, name: 'db', body: replicas, dryRun: 'All' }, merge))) &&
      (await refused(() => fixer.apps.patchNamespacedDaemonSet({ namespace: NS, name: 'agent', body: { spec: { minReadySeconds: 9 } }, dryRun: 'All' }, merge))) &&
      (await refused(() => fixer.customObjects.patchNamespacedCustomObject({ ...ROLLOUTS, namespace: NS, name: 'shop', body: replicas, dryRun: 'All' }, merge))),
    );
  });

  afterAll(async () => {
    // Other cluster suites share this API server.
    if (adminApi) await removeFence(adminApi);
  });

  it("lets the sampler run its own read commands in istio-proxy", async () => {
    const client = sampler.client();
    const active = await execCommand(client, { namespace: NS, name: pod, container: 'istio-proxy' }, ACTIVE_SECRETS_COMMAND, { timeoutMs: 10_000, maxOutputBytes: 1 << 20 });
    expect(active.toString('utf8')).toContain('SecretsConfigDump');
    expect(await tryExec(client, pod, 'istio-proxy', WARMING_SECRETS_COMMAND)).toBe('ran');
  });

  it('refuses every other command, container, stdin and tty with 403 from admission', async () => {
    const client = sampler.client();
    const variants: [string, string, readonly string[], { stdin?: boolean; tty?: boolean }?][] = [
      ['its command in another container', 'app', ACTIVE_SECRETS_COMMAND],
      ['a shell in another container', 'app', ['sh', '-c', 'id']],
      ['a shell in istio-proxy', 'istio-proxy', ['sh', '-c', 'id']],
      ['reading a key file', 'istio-proxy', ['cat', '/etc/certs/key.pem']],
      ['the full config dump', 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump']],
      ['Envoy admin POST', 'istio-proxy', ['pilot-agent', 'request', 'POST', 'quitquitquit']],
      ['another admin path', 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs']],
      ['its command plus an argument', 'istio-proxy', [...ACTIVE_SECRETS_COMMAND, 'extra']],
      ['its command with a changed query', 'istio-proxy', ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_active_secrets&include_eds']],
      ['pilot-agent alone', 'istio-proxy', ['pilot-agent']],
      ['its command with stdin', 'istio-proxy', ACTIVE_SECRETS_COMMAND, { stdin: true }],
      ['its command with a tty', 'istio-proxy', ACTIVE_SECRETS_COMMAND, { tty: true }],
    ];
    const answers: [string, 'ran' | number][] = [];
    for (const [what, container, command, options] of variants) answers.push([what, await tryExec(client, pod, container, command, options)]);
    expect(answers).toEqual(variants.map(([what]) => [what, 403]));
  });

  it('leaves other identities alone: the admin may still exec anything', async () => {
    const { KubeClient } = await import('../../src/kube/kube-client.js');
    const adminClient = new KubeClient(adminApi.kubeConfig);
    expect(await tryExec(adminClient, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'certs'])).toBe('ran');
  });

  it("lets the remediator restart each kind, and refuses image, replica, label and annotation patches with 403", async () => {
    const client = remediator.client();
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const restart = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } } } } };
    const outcome = async (request: () => Promise<unknown>): Promise<'ok' | number> => {
      try {
        await request();
        return 'ok';
      } catch (error) {
        return (error as { code?: number }).code ?? -1;
      }
    };
    const deployment = (body: object) => outcome(() => client.apps.patchNamespacedDeployment({ namespace: NS, name: 'web', body }, strategic));
    const results: Record<string, 'ok' | number> = {
      'deployment restart': await deployment(restart),
      'statefulset restart': await outcome(() => client.apps.patchNamespacedStatefulSet({ namespace: NS, name: 'db', body: restart }, strategic)),
      'daemonset restart': await outcome(() => client.apps.patchNamespacedDaemonSet({ namespace: NS, name: 'agent', body: restart }, strategic)),
      'rollout restart': await outcome(() =>
        client.customObjects.patchNamespacedCustomObject({ ...ROLLOUTS, namespace: NS, name: 'shop', body: { spec: { restartAt: new Date().toISOString() } } }, merge),
      ),
      'deployment image': await deployment({ spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/evil:1' }] } } } }),
      'deployment replicas': await deployment({ spec: { replicas: 5 } }),
      'deployment label': await deployment({ metadata: { labels: { owned: 'yes' } } }),
      'deployment annotation': await deployment({ metadata: { annotations: { note: 'x' } } }),
      'pod template label': await deployment({ spec: { template: { metadata: { labels: { extra: 'x' } } } } }),
      'other template annotation': await deployment({ spec: { template: { metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } } } } }),
      'statefulset image': await outcome(() =>
        client.apps.patchNamespacedStatefulSet({ namespace: NS, name: 'db', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/evil:1' }] } } } } }, strategic),
      ),
      'daemonset image': await outcome(() =>
        client.apps.patchNamespacedDaemonSet({ namespace: NS, name: 'agent', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/evil:1' }] } } } } }, strategic),
      ),
      'rollout replicas': await outcome(() => client.customObjects.patchNamespacedCustomObject({ ...ROLLOUTS, namespace: NS, name: 'shop', body: { spec: { replicas: 7 } } }, merge)),
    };
    expect(results).toEqual({
      'deployment restart': 'ok',
      'statefulset restart': 'ok',
      'daemonset restart': 'ok',
      'rollout restart': 'ok',
      'deployment image': 403,
      'deployment replicas': 403,
      'deployment label': 403,
      'deployment annotation': 403,
      'pod template label': 403,
      'other template annotation': 403,
      'statefulset image': 403,
      'daemonset image': 403,
      'rollout replicas': 403,
    });
  });
});
