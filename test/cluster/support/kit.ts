/**
 * The real-cluster tier's toolkit (not a test file): the kwokctl cluster `test/cluster/run.sh`
 * started, the two identities our ClusterRoleBindings name (client certificates with
 * `O=<group>`, signed by the cluster CA kwokctl generated), the RBAC we ship, kwok nodes, and
 * per-pod Envoy answers served through kwok's `Exec` objects.
 *
 * Objects are created with the admin identity (system:masters); everything under test runs as
 * the sampler or the remediator identity, through our own client (src/kube).
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs it loaded first
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  ApiextensionsV1Api,
  type V1Pod,
} from '@kubernetes/client-node';
import { KUBERNETES_GROUPS } from '../../../src/config/kubernetes.js';
import { ACTIVE_SECRETS_COMMAND } from '../../../src/kube/envoy-sampler.js';
import { execCommand } from '../../../src/kube/exec.js';
import { KubeClient, type RetryPolicy } from '../../../src/kube/kube-client.js';
import { CLUSTER_ROLE_NAMES, rbacObjects, type Component, type PolicyRule, type RbacOptions } from '../../../src/rbac/rbac.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Where run.sh put the cluster. A missing variable is a broken harness: fail, never skip. */
export interface ClusterEnv {
  readonly name: string;
  /** kwokctl's directory of this cluster: kubeconfig.yaml, pki/. */
  readonly dir: string;
  /** Scratch space of this run: identities, scripted Envoy answers. */
  readonly state: string;
}

export class ClusterHarnessError extends Error {
  override readonly name = 'ClusterHarnessError';
}

export function clusterEnv(): ClusterEnv {
  const name = process.env.MCW_CLUSTER_NAME;
  const dir = process.env.MCW_CLUSTER_DIR;
  const state = process.env.MCW_CLUSTER_STATE;
  if (!name || !dir || !state || !existsSync(join(dir, 'kubeconfig.yaml'))) {
    throw new ClusterHarnessError('no cluster: run this tier with `npm run test:cluster` (test/cluster/run.sh), which starts one and sets MCW_CLUSTER_*');
  }
  return { name, dir, state };
}

/** Retries tuned for a local API server: a few quick attempts, never minutes of back-off. */
export const FAST_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

export function adminKubeConfig(env: ClusterEnv): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(join(env.dir, 'kubeconfig.yaml'));
  return kubeConfig;
}

export interface Admin {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly custom: CustomObjectsApi;
  readonly crds: ApiextensionsV1Api;
}

export function admin(env: ClusterEnv): Admin {
  const kubeConfig = adminKubeConfig(env);
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    batch: kubeConfig.makeApiClient(BatchV1Api),
    rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    crds: kubeConfig.makeApiClient(ApiextensionsV1Api),
  };
}

// ---------------------------------------------------------------------------------------------
// Identities

export interface Identity {
  readonly component: Component;
  readonly user: string;
  readonly group: string;
  /** A kubeconfig file (mode 0600) holding the client certificate and key. Never printed. */
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  client(): KubeClient;
}

const CA_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CLIENT_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer | Buffer): string {
  const base64 = Buffer.from(der as ArrayBuffer).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/**
 * A client certificate `CN=mcw-<component>, O=<the group our ClusterRoleBinding names>`, signed
 * by the cluster CA: the API server's x509 authenticator maps O to the group, exactly as the EKS
 * access entry maps the Lambda's IAM role to it in production. Proves the binding we ship.
 */
export async function mintIdentity(env: ClusterEnv, component: Component): Promise<Identity> {
  const user = `mcw-${component}`;
  const group = KUBERNETES_GROUPS[component];
  const caPem = readFileSync(join(env.dir, 'pki', 'ca.crt'), 'utf8');
  const caCert = new x509.X509Certificate(caPem);
  const caKeyDer = createPrivateKey(readFileSync(join(env.dir, 'pki', 'ca.key'))).export({ type: 'pkcs8', format: 'der' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, CA_ALGORITHM, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(CLIENT_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: [{ CN: [user] }, { O: [group] }],
    issuer: caCert.subjectName, // the CA's own encoding: Go matches issuer and subject byte for byte
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 3600_000),
    signingAlgorithm: CA_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const keyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const admin = adminKubeConfig(env);
  const server = admin.getCurrentCluster()!.server;
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const kubeconfigYaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${env.name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(certificate.toString('pem'))}`,
    `    client-key-data: ${b64(keyPem)}`,
    'contexts:',
    `- name: ${user}@${env.name}`,
    '  context:',
    `    cluster: ${env.name}`,
    `    user: ${user}`,
    `current-context: ${user}@${env.name}`,
    '',
  ].join('\n');
  const dir = join(env.state, 'identities');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kubeconfigPath = join(dir, `${component}.kubeconfig`);
  writeFileSync(kubeconfigPath, kubeconfigYaml, { mode: 0o600 });
  chmodSync(kubeconfigPath, 0o600);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return { component, user, group, kubeconfigPath, kubeConfig, client: () => new KubeClient(kubeConfig, { retry: FAST_RETRY }) };
}

// ---------------------------------------------------------------------------------------------
// RBAC

export function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

/** Create, or replace when it exists (admin). */
async function upsert<T>(create: () => Promise<T>, replace: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
    return replace();
  }
}

/**
 * Applies our generated ClusterRoles and ClusterRoleBindings (`rbacObjects`, the source of
 * `mesh-cert-watch rbac`), optionally with one component's rules replaced (the removal tests).
 */
export async function applyRbac(adminApi: Admin, options: RbacOptions = {}, rulesOverride: Partial<Record<Component, readonly PolicyRule[]>> = {}): Promise<void> {
  for (const object of rbacObjects(options)) {
    const body = JSON.parse(JSON.stringify(object)) as typeof object & { rules?: PolicyRule[] };
    const name = object.metadata.name;
    if (object.kind === 'ClusterRole') {
      const component = (Object.keys(CLUSTER_ROLE_NAMES) as Component[]).find((c) => CLUSTER_ROLE_NAMES[c] === name)!;
      const rules = rulesOverride[component];
      if (rules) body.rules = JSON.parse(JSON.stringify(rules)) as PolicyRule[];
      await upsert(
        () => adminApi.rbac.createClusterRole({ body: body as never }),
        () => adminApi.rbac.replaceClusterRole({ name, body: body as never }),
      );
    } else if (object.kind === 'ClusterRoleBinding') {
      await upsert(
        () => adminApi.rbac.createClusterRoleBinding({ body: body as never }),
        () => adminApi.rbac.replaceClusterRoleBinding({ name, body: body as never }),
      );
    } else {
      // The remediator's Role in a tbot namespace: the namespace must exist first.
      const namespace = object.metadata.namespace;
      await createNamespace(adminApi, namespace);
      if (object.kind === 'Role') {
        await upsert(
          () => adminApi.rbac.createNamespacedRole({ namespace, body: body as never }),
          () => adminApi.rbac.replaceNamespacedRole({ namespace, name, body: body as never }),
        );
      } else {
        await upsert(
          () => adminApi.rbac.createNamespacedRoleBinding({ namespace, body: body as never }),
          () => adminApi.rbac.replaceNamespacedRoleBinding({ namespace, name, body: body as never }),
        );
      }
    }
  }
}

export interface AccessCheck {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
}

/** Asks the API server, as `identity`, whether it may do `check` (SelfSubjectAccessReview). */
export async function canI(identity: Identity, check: AccessCheck): Promise<boolean> {
  const api = identity.kubeConfig.makeApiClient(AuthorizationV1Api);
  const review = await api.createSelfSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: check.verb, group: check.group, resource: check.resource, subresource: check.subresource, namespace: check.namespace } },
    },
  });
  return review.status?.allowed === true;
}

/** RBAC changes reach the authorizer through an informer: wait until it answers `allowed`. */
export async function waitForAccess(identity: Identity, check: AccessCheck, allowed: boolean): Promise<void> {
  await waitFor(`${identity.user} ${allowed ? 'may' : 'may not'} ${check.verb} ${check.group || 'core'}/${check.resource}${check.subresource ? `/${check.subresource}` : ''}`, async () => (await canI(identity, check)) === allowed);
}

// ---------------------------------------------------------------------------------------------
// Waiting

export async function waitFor<T>(what: string, probe: () => Promise<T | false | undefined | null>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== false && value !== undefined && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new ClusterHarnessError(`timed out after ${timeoutMs} ms waiting until ${what}${lastError ? ` (last error: ${String((lastError as Error).message ?? lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes, namespaces, pods

export const NODE_NAME = 'mcw-kwok-node-0';

/** A node kwok manages (kwokctl's binary runtime manages every node): it keeps it Ready and runs its pods. */
export async function ensureNode(adminApi: Admin, name = NODE_NAME): Promise<void> {
  try {
    await adminApi.core.createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { type: 'kwok', 'kubernetes.io/hostname': name } },
        spec: {},
      },
    });
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
  }
  await waitFor(`node ${name} is Ready`, async () => {
    const node = await adminApi.core.readNode({ name });
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  });
}

export async function createNamespace(adminApi: Admin, name: string, annotations: Record<string, string> = {}): Promise<void> {
  try {
    await adminApi.core.createNamespace({ body: { metadata: { name, annotations } } });
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
  }
  // The controller-manager's service account controller must create `default` before pods may be.
  await waitFor(`namespace ${name} has its default service account`, async () => (await adminApi.core.readNamespacedServiceAccount({ namespace: name, name: 'default' })) !== undefined);
}

export async function createServiceAccount(adminApi: Admin, namespace: string, name: string): Promise<void> {
  try {
    await adminApi.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
  }
}

export interface PodShape {
  readonly serviceAccount: string;
  /** istio-proxy as a native sidecar (restartPolicy Always init container). */
  readonly nativeSidecar?: boolean;
  /** No istio-proxy at all. */
  readonly injected?: boolean;
  /** A `workload-certs` emptyDir beside the SPIFFE CSI socket volume. */
  readonly workloadCertsVolume?: boolean;
  /** Pin to a node kwok does not manage: the pod stays Pending. */
  readonly nodeName?: string;
  readonly annotations?: Record<string, string>;
}

/** A pod template like Istio's `spire` injection makes, pinned to a kwok node (no scheduler). */
export function podTemplate(app: string, shape: PodShape): { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: NonNullable<V1Pod['spec']> } {
  const proxy = { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.28.0', args: ['proxy', 'sidecar'] };
  const injected = shape.injected !== false;
  const volumes = [
    { name: 'workload-socket', csi: { driver: 'csi.spiffe.io', readOnly: true } },
    ...(shape.workloadCertsVolume ? [{ name: 'workload-certs', emptyDir: {} }] : []),
  ];
  return {
    metadata: { labels: { app }, annotations: { ...(injected ? { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } : {}), ...shape.annotations } },
    spec: {
      nodeName: shape.nodeName ?? NODE_NAME,
      serviceAccountName: shape.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', image: 'registry.example/app:1' }, ...(injected && !shape.nativeSidecar ? [proxy] : [])],
      ...(injected && shape.nativeSidecar ? { initContainers: [{ ...proxy, restartPolicy: 'Always' }] } : {}),
      ...(injected ? { volumes } : {}),
    },
  };
}

/** Pods selected by `app` in `namespace` that kwok reports Running, once there are `count`. */
export async function runningPods(adminApi: Admin, namespace: string, app: string, count: number, timeoutMs = 60_000): Promise<V1Pod[]> {
  return waitFor(`${count} Running pod(s) app=${app} in ${namespace}`, async () => {
    const list = await adminApi.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
    const running = list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    return running.length === count && list.items.length === count ? running : false;
  }, timeoutMs);
}

// ---------------------------------------------------------------------------------------------
// Envoy answers through kwok `Exec`

/** What `pilot-agent request GET <path>` prints and exits with in one pod. */
export interface ScriptedAnswer {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode?: number;
}

export type ScriptedAnswers = Partial<Record<'active' | 'warming', ScriptedAnswer>>;

const PATH_NAMES: Readonly<Record<string, 'active' | 'warming'>> = {
  'config_dump?resource=dynamic_active_secrets': 'active',
  'config_dump?resource=dynamic_warming_secrets': 'warming',
};

/** `sidecarSecrets(...).responses` (keyed by request path) as scripted answers. */
export function answersFromResponses(responses: Readonly<Record<string, string>>): ScriptedAnswers {
  const answers: Partial<Record<'active' | 'warming', ScriptedAnswer>> = {};
  for (const [path, stdout] of Object.entries(responses)) {
    const name = PATH_NAMES[path];
    if (!name) throw new ClusterHarnessError(`no pilot-agent stand-in file for path ${path}`);
    answers[name] = { stdout };
  }
  return answers;
}

const EXEC_API = { group: 'kwok.x-k8s.io', version: 'v1alpha1', plural: 'execs' } as const;

/**
 * Writes the pod's answers where test/cluster/bin/pilot-agent reads them and creates the kwok
 * `Exec` object that routes `istio-proxy` execs of this pod to it, with MCW_POD_DUMP naming the
 * pod's own directory.
 */
export async function scriptPod(adminApi: Admin, env: ClusterEnv, namespace: string, pod: string, answers: ScriptedAnswers): Promise<void> {
  const dir = join(env.state, 'dumps', namespace, pod);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, answer] of Object.entries(answers)) {
    if (answer.stdout !== undefined) writeFileSync(join(dir, `${name}.out`), answer.stdout);
    if (answer.stderr !== undefined) writeFileSync(join(dir, `${name}.err`), answer.stderr);
    if (answer.exitCode !== undefined) writeFileSync(join(dir, `${name}.exit`), String(answer.exitCode));
  }
  const body = {
    apiVersion: `${EXEC_API.group}/${EXEC_API.version}`,
    kind: 'Exec',
    metadata: { name: pod, namespace },
    spec: { execs: [{ containers: ['istio-proxy'], local: { workDir: dir, envs: [{ name: 'MCW_POD_DUMP', value: dir }] } }] },
  };
  await upsert(
    () => adminApi.custom.createNamespacedCustomObject({ ...EXEC_API, namespace, body }),
    async () => {
      const current = (await adminApi.custom.getNamespacedCustomObject({ ...EXEC_API, namespace, name: pod })) as { metadata: { resourceVersion: string } };
      return adminApi.custom.replaceNamespacedCustomObject({ ...EXEC_API, namespace, name: pod, body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } } });
    },
  );
}

/**
 * kwok learns of `Exec` objects through a watch: wait until it routes an exec of each pod to
 * the stand-in (any answer but kwok's "no exec found" will do, scripted failures included).
 */
export async function awaitExecRouting(env: ClusterEnv, pods: readonly { namespace: string; name: string }[]): Promise<void> {
  const client = new KubeClient(adminKubeConfig(env), { retry: FAST_RETRY });
  for (const pod of pods) {
    await waitFor(`kwok routes exec into ${pod.namespace}/${pod.name}`, async () => {
      try {
        await execCommand(client, { ...pod, container: 'istio-proxy' }, ACTIVE_SECRETS_COMMAND, { timeoutMs: 5_000, maxOutputBytes: 1 << 20 });
        return true;
      } catch (error) {
        return !/no exec found|exec target not found|not set local exec/.test(String((error as Error).message));
      }
    });
  }
}
