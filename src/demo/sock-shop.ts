/**
 * The demo's cluster: a sock-shop-like mesh in the Kubernetes API emulator whose sidecars'
 * certificates follow the demo's clock. Every exec into istio-proxy computes what that Envoy
 * holds at that instant from the workload's certificate behaviour:
 *
 * - `tbot-rotating`: healthy tbot; a new 1 h leaf every 30 minutes (half its lifetime);
 * - `tbot-resending`: tbot older than 18.6.4 re-sends its cached SVID on every renewal tick
 *   (a push every 10 minutes once the leaf is half-way, each with the same leaf): new pods get
 *   the same old leaf too, so a restart does not help;
 * - `agent-files`: the Istio agent serves certificate files from a `workload-certs` emptyDir;
 *   the leaf is written when the pod starts and never pushed again;
 * - `admin-unreachable`: `pilot-agent request` cannot reach Envoy's admin port (exit code 1).
 *
 * The emulator runs no controllers, so this module plays the Deployment controller: when a
 * Deployment's `restartedAt` template annotation changes (the remediator's rollout restart), its
 * pods are replaced by new ones (new names and uids, started now) from a new ReplicaSet.
 * `upgradeTbot` plays the operator who follows the Slack advice.
 */
import { MeshCertWatchError } from '../core/errors.js';
import { RESTARTED_AT_ANNOTATION } from '../core/workload-facts.js';
import type { ExecRequest, KubeApiEmulator, KubeObject, ProxyResponse } from '../emulator/kube-api.js';
import { Mesh, type WorkloadOptions } from '../emulator/mesh.js';
import type { IssuedLeaf } from '../emulator/pki.js';
import { ACTIVE_SECRETS_PATH, sidecarSecrets, type MeshPki } from '../emulator/sidecar-secrets.js';

export const DEMO_NAMESPACE = 'sock-shop';
export const CERTIFICATE_LIFETIME_SECONDS = 3600;
const MINUTE = 60_000;
const ROTATE_EVERY_MS = (CERTIFICATE_LIFETIME_SECONDS * 1000) / 2;
/** Broken tbot retries its renewal (and re-sends the cached SVID) this often. */
const RESEND_EVERY_MS = 10 * MINUTE;

export type CertificateBehaviour = 'tbot-rotating' | 'tbot-resending' | 'agent-files' | 'admin-unreachable';

export const BEHAVIOUR_DESCRIPTIONS: Readonly<Record<CertificateBehaviour, string>> = {
  'tbot-rotating': 'tbot rotates the 1 h certificate every 30 minutes',
  'tbot-resending': 'tbot older than 18.6.4 re-sends its cached certificate: new pods get it too',
  'agent-files': 'the Istio agent serves files from a workload-certs emptyDir: no push after the pod starts',
  'admin-unreachable': "pilot-agent cannot reach Envoy's admin port: the pod cannot be sampled",
};

interface WorkloadSpec {
  readonly name: string;
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly replicas: number;
  readonly behaviour: CertificateBehaviour;
  readonly options?: WorkloadOptions;
  /** Minutes before the demo's start that each pod started (one per replica). */
  readonly startedMinutesAgo: readonly number[];
}

/** The mesh: mostly healthy, one pod per failure mode the watcher must tell apart. */
const SOCK_SHOP: readonly WorkloadSpec[] = [
  { name: 'front-end', kind: 'Deployment', replicas: 2, behaviour: 'tbot-rotating', startedMinutesAgo: [185, 172] },
  { name: 'catalogue', kind: 'Deployment', replicas: 1, behaviour: 'tbot-rotating', options: { nativeSidecar: true }, startedMinutesAgo: [203] },
  { name: 'carts', kind: 'Deployment', replicas: 2, behaviour: 'tbot-rotating', startedMinutesAgo: [191, 177] },
  { name: 'user', kind: 'Deployment', replicas: 1, behaviour: 'tbot-rotating', startedMinutesAgo: [166] },
  { name: 'queue-master', kind: 'Deployment', replicas: 1, behaviour: 'tbot-rotating', startedMinutesAgo: [214] },
  { name: 'orders', kind: 'Deployment', replicas: 1, behaviour: 'tbot-resending', startedMinutesAgo: [180] },
  { name: 'payment', kind: 'Deployment', replicas: 2, behaviour: 'agent-files', options: { workloadCertsVolume: true }, startedMinutesAgo: [30, 22] },
  { name: 'shipping', kind: 'Deployment', replicas: 1, behaviour: 'admin-unreachable', startedMinutesAgo: [150] },
  { name: 'carts-db', kind: 'StatefulSet', replicas: 1, behaviour: 'tbot-rotating', startedMinutesAgo: [221] },
  { name: 'orders-db', kind: 'StatefulSet', replicas: 1, behaviour: 'tbot-rotating', startedMinutesAgo: [198] },
  { name: 'rabbitmq', kind: 'StatefulSet', replicas: 1, behaviour: 'tbot-rotating', startedMinutesAgo: [207] },
];

/** The cached SVID of a re-sending tbot was issued this long before the demo starts. */
const CACHED_LEAF_AGE_MINUTES = 20;

interface PodState {
  readonly name: string;
  readonly workload: DemoWorkload;
  readonly startedAt: Date;
  /** Rotation counts from here: the pod's start, or the tbot upgrade. */
  rotationBase: Date;
}

interface DemoWorkload {
  readonly spec: WorkloadSpec;
  behaviour: CertificateBehaviour;
  /** The `restartedAt` template annotation the current pods were made from. */
  restartedAt: string | undefined;
  replicaSet: string | undefined;
  pods: PodState[];
  /** tbot-resending: the leaf it keeps sending. */
  readonly cachedLeafIssuedAt: Date;
}

/** One Deployment whose pods the demo's controller replaced. */
export interface PodReplacement {
  readonly namespace: string;
  readonly workload: string;
  readonly restartedAt: string;
  readonly removed: readonly string[];
  readonly created: readonly string[];
  /** New pods get the old certificate again (tbot re-sends its cache). */
  readonly sameCertificate: boolean;
}

export interface ScriptedProblem {
  readonly workload: string;
  readonly behaviour: CertificateBehaviour;
  readonly description: string;
}

export class SockShopCluster {
  private readonly workloads = new Map<string, DemoWorkload>();
  private readonly pods = new Map<string, PodState>();
  /** Issued leaves by key, so a re-sent certificate is the same bytes. */
  private readonly leaves = new Map<string, Promise<IssuedLeaf>>();

  private constructor(
    private readonly emulator: KubeApiEmulator,
    private readonly pki: MeshPki,
    private readonly clock: () => Date,
  ) {}

  /** Scripts the mesh into `emulator` as of `clock()` and takes over its exec handler. */
  static create(emulator: KubeApiEmulator, pki: MeshPki, clock: () => Date): SockShopCluster {
    const cluster = new SockShopCluster(emulator, pki, clock);
    const start = clock();
    const mesh = new Mesh(emulator, { startTime: new Date(start.getTime() - 240 * MINUTE) });
    mesh.addNamespace(DEMO_NAMESPACE);
    for (const spec of SOCK_SHOP) {
      const options = { replicas: spec.replicas, ...spec.options };
      const scripted = spec.kind === 'Deployment' ? mesh.addDeployment(DEMO_NAMESPACE, spec.name, options) : mesh.addStatefulSet(DEMO_NAMESPACE, spec.name, options);
      const workload: DemoWorkload = {
        spec,
        behaviour: spec.behaviour,
        restartedAt: undefined,
        replicaSet: scripted.intermediate?.metadata.name,
        pods: [],
        cachedLeafIssuedAt: new Date(start.getTime() - CACHED_LEAF_AGE_MINUTES * MINUTE),
      };
      cluster.workloads.set(spec.name, workload);
      scripted.pods.forEach((pod, index) => {
        const startedAt = new Date(start.getTime() - (spec.startedMinutesAgo[index] ?? 60) * MINUTE);
        cluster.track(workload, pod, startedAt);
      });
    }
    emulator.setExecHandler((request) => cluster.exec(request));
    return cluster;
  }

  get podCount(): number {
    return this.pods.size;
  }

  /** What is broken on purpose, for the demo's introduction. */
  problems(): ScriptedProblem[] {
    return [...this.workloads.values()]
      .filter((w) => w.spec.behaviour !== 'tbot-rotating')
      .map((w) => ({ workload: w.spec.name, behaviour: w.spec.behaviour, description: BEHAVIOUR_DESCRIPTIONS[w.spec.behaviour] }));
  }

  /**
   * The Deployment controller's part: every Deployment whose `restartedAt` annotation changed
   * gets a new ReplicaSet and new pods; the old ones are deleted.
   */
  reconcile(): PodReplacement[] {
    const now = this.clock();
    const replaced: PodReplacement[] = [];
    for (const workload of this.workloads.values()) {
      if (workload.spec.kind !== 'Deployment') continue;
      const deployment = this.emulator.get('Deployment', DEMO_NAMESPACE, workload.spec.name);
      const annotations = (deployment?.spec?.template as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations;
      const restartedAt = annotations?.[RESTARTED_AT_ANNOTATION];
      if (deployment === undefined || restartedAt === undefined || restartedAt === workload.restartedAt) continue;

      const scripted = new Mesh(this.emulator, { startTime: now }).addDeployment(DEMO_NAMESPACE, workload.spec.name, {
        replicas: workload.spec.replicas,
        ...workload.spec.options,
        restartedAt,
      });
      // The controller has acted on the patched spec: the Deployment is no longer mid-rollout.
      const updated = this.emulator.get('Deployment', DEMO_NAMESPACE, workload.spec.name)!;
      this.emulator.apply({ ...updated, status: { ...updated.status, observedGeneration: updated.metadata.generation } });

      const removed = workload.pods.map((pod) => pod.name);
      for (const name of removed) {
        this.emulator.remove('Pod', DEMO_NAMESPACE, name);
        this.emulator.clearProxyResponses(DEMO_NAMESPACE, name);
        this.pods.delete(name);
      }
      if (workload.replicaSet !== undefined) this.emulator.remove('ReplicaSet', DEMO_NAMESPACE, workload.replicaSet);
      workload.pods = [];
      workload.replicaSet = scripted.intermediate?.metadata.name;
      workload.restartedAt = restartedAt;
      for (const pod of scripted.pods) this.track(workload, pod, now);
      replaced.push({
        namespace: DEMO_NAMESPACE,
        workload: workload.spec.name,
        restartedAt,
        removed,
        created: scripted.pods.map((pod) => pod.metadata.name),
        sameCertificate: workload.behaviour === 'tbot-resending',
      });
    }
    return replaced;
  }

  /** The operator upgrades the tbot serving `workloadName`: it issues a new leaf now and rotates from then on. */
  upgradeTbot(workloadName: string): void {
    const workload = this.workloads.get(workloadName);
    if (workload === undefined) throw new MeshCertWatchError('CONFIG', `the demo mesh has no workload ${workloadName}`);
    const now = this.clock();
    workload.behaviour = 'tbot-rotating';
    for (const pod of workload.pods) pod.rotationBase = now;
  }

  private track(workload: DemoWorkload, pod: KubeObject, startedAt: Date): void {
    const state: PodState = { name: pod.metadata.name, workload, startedAt, rotationBase: startedAt };
    workload.pods.push(state);
    this.pods.set(state.name, state);
  }

  /** istio-proxy's answer at the demo's current instant. */
  private async exec(request: ExecRequest) {
    const pod = this.pods.get(request.pod);
    if (request.namespace !== DEMO_NAMESPACE || pod === undefined) return this.emulator.defaultExecHandler(request);
    const now = this.clock();
    const { workload } = pod;
    const serviceAccount = workload.spec.name;
    const base = { namespace: DEMO_NAMESPACE, serviceAccount, lifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS };
    let responses: Readonly<Record<string, ProxyResponse>>;
    switch (workload.behaviour) {
      case 'admin-unreachable':
        responses = { [ACTIVE_SECRETS_PATH]: { stderr: 'Error: dial tcp 127.0.0.1:15000: connect: connection refused\n', exitCode: 1 } };
        break;
      case 'tbot-rotating': {
        const issuedAt = new Date(pod.rotationBase.getTime() + Math.floor((now.getTime() - pod.rotationBase.getTime()) / ROTATE_EVERY_MS) * ROTATE_EVERY_MS);
        responses = await this.secrets(`${pod.name}/${issuedAt.toISOString()}`, { ...base, servedBy: 'tbot', issuedAt, pushedAt: issuedAt });
        break;
      }
      case 'tbot-resending': {
        const issuedAt = workload.cachedLeafIssuedAt;
        const firstResend = issuedAt.getTime() + ROTATE_EVERY_MS;
        const lastTick = now.getTime() < firstResend ? issuedAt.getTime() : firstResend + Math.floor((now.getTime() - firstResend) / RESEND_EVERY_MS) * RESEND_EVERY_MS;
        // A pod that starts later is sent the cached leaf when its Envoy connects.
        const pushedAt = new Date(Math.max(lastTick, pod.startedAt.getTime()));
        responses = await this.secrets(`${workload.spec.name}/cached`, { ...base, servedBy: 'tbot', issuedAt, pushedAt });
        break;
      }
      case 'agent-files':
        responses = await this.secrets(`${pod.name}/files`, { ...base, servedBy: 'istio-agent', issuedAt: pod.startedAt, pushedAt: pod.startedAt });
        break;
    }
    this.emulator.setProxyResponses(DEMO_NAMESPACE, pod.name, responses);
    return this.emulator.defaultExecHandler(request);
  }

  /** The dump for a leaf; the leaf of a key is issued once and served again byte for byte. */
  private async secrets(key: string, cert: Parameters<typeof sidecarSecrets>[1]): Promise<Readonly<Record<string, string>>> {
    let leaf = this.leaves.get(key);
    if (leaf === undefined) {
      leaf = sidecarSecrets(this.pki, cert).then((issued) => issued.leaf!);
      this.leaves.set(key, leaf);
    }
    return (await sidecarSecrets(this.pki, { ...cert, leaf: await leaf })).responses;
  }
}
