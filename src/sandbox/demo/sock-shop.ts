/**
 * The demo's cluster: a sock-shop-like mesh in the Kubernetes API emulator whose sidecars'
 * certificates follow the demo's clock. Every exec into istio-proxy computes what that Envoy
 * holds at that instant from the workload's certificate behaviour:
 *
 * - `tbot`: served by the tbot agent on the pod's node (src/sandbox/emulator/tbot-fleet.ts). Every node
 *   runs tbot 18.6.4, which renews the 1 h SVID every 20 minutes (`renewal_interval`), except
 *   the affected node, whose agent runs 18.5.0: it renews but re-sends the SVID it sent when each
 *   SDS stream opened (gravitational/teleport#62813), so every tbot pod on that node stops
 *   rotating and expires one lifetime after its stream opened. A new stream (a restarted agent,
 *   or a new pod) gets a fresh SVID; upgrading the agent makes rotation work again;
 * - `agent-files`: the Istio agent serves certificate files from a `workload-certs` emptyDir;
 *   the leaf is written when the pod starts and never pushed again;
 * - `admin-unreachable`: `pilot-agent request` cannot reach Envoy's admin port (exit code 1).
 *
 * The emulator runs no controllers, so this module plays the Deployment controller: when a
 * Deployment's `restartedAt` template annotation changes (the remediator's rollout restart), its
 * pods are replaced by new ones (new names and uids, started now) from a new ReplicaSet; and the
 * fleet plays the tbot DaemonSet controller (a deleted agent pod is recreated on its node).
 * `upgradeTbot` plays the operator who follows the Slack advice.
 */
import { MeshCertWatchError } from '../../core/model/errors.js';
import { RESTARTED_AT_ANNOTATION } from '../../core/remediation/workload-facts.js';
import type { ExecRequest, KubeApiEmulator, KubeObject, ProxyResponse } from '../emulator/kube-api.js';
import { Mesh, type WorkloadOptions } from '../emulator/mesh.js';
import { TbotFleet, type AgentReplacement } from '../emulator/tbot-fleet.js';
import type { IssuedLeaf } from '../emulator/pki.js';
import { ACTIVE_SECRETS_PATH, sidecarSecrets, type MeshPki } from '../emulator/sidecar-secrets.js';

export const DEMO_NAMESPACE = 'sock-shop';
export const CERTIFICATE_LIFETIME_SECONDS = 3600;
const MINUTE = 60_000;
/** The tbot release on every node but the affected one, and the one the operator upgrades to. */
export const FIXED_TBOT = '18.6.4';
/** The affected node's tbot: renewed SVIDs are not sent to Envoy (fixed in 18.6.4). */
export const AFFECTED_TBOT = '18.5.0';
/**
 * The affected node's agent (re)started this long before the demo: its pods' SVIDs are this old
 * at the first sweep. Its renewal (20 min after) re-sends the old SVID at 09:13, between two
 * sweeps, so the watcher sees three healthy sweeps, then the missed renewal at the 09:15 sweep.
 */
const AFFECTED_AGENT_AGE_MINUTES = 7;

export type CertificateBehaviour = 'tbot' | 'agent-files' | 'admin-unreachable';

export const BEHAVIOUR_DESCRIPTIONS: Readonly<Record<CertificateBehaviour, string>> = {
  tbot: `tbot ${FIXED_TBOT} renews the 1 h certificate every 20 minutes`,
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
  { name: 'front-end', kind: 'Deployment', replicas: 2, behaviour: 'tbot', startedMinutesAgo: [185, 172] },
  { name: 'catalogue', kind: 'Deployment', replicas: 1, behaviour: 'tbot', options: { nativeSidecar: true }, startedMinutesAgo: [203] },
  { name: 'carts', kind: 'Deployment', replicas: 2, behaviour: 'tbot', startedMinutesAgo: [191, 177] },
  { name: 'user', kind: 'Deployment', replicas: 1, behaviour: 'tbot', startedMinutesAgo: [166] },
  { name: 'queue-master', kind: 'Deployment', replicas: 1, behaviour: 'tbot', startedMinutesAgo: [214] },
  { name: 'orders', kind: 'Deployment', replicas: 1, behaviour: 'tbot', startedMinutesAgo: [180] },
  { name: 'payment', kind: 'Deployment', replicas: 2, behaviour: 'agent-files', options: { workloadCertsVolume: true }, startedMinutesAgo: [30, 22] },
  { name: 'shipping', kind: 'Deployment', replicas: 1, behaviour: 'admin-unreachable', startedMinutesAgo: [150] },
  { name: 'carts-db', kind: 'StatefulSet', replicas: 1, behaviour: 'tbot', startedMinutesAgo: [221] },
  { name: 'orders-db', kind: 'StatefulSet', replicas: 1, behaviour: 'tbot', startedMinutesAgo: [198] },
  { name: 'rabbitmq', kind: 'StatefulSet', replicas: 1, behaviour: 'tbot', startedMinutesAgo: [207] },
];

interface PodState {
  readonly name: string;
  readonly workload: DemoWorkload;
  readonly startedAt: Date;
}

interface DemoWorkload {
  readonly spec: WorkloadSpec;
  behaviour: CertificateBehaviour;
  /** The `restartedAt` template annotation the current pods were made from. */
  restartedAt: string | undefined;
  replicaSet: string | undefined;
  pods: PodState[];
}

/** One Deployment whose pods the demo's controller replaced. */
export interface PodReplacement {
  readonly namespace: string;
  readonly workload: string;
  readonly restartedAt: string;
  readonly removed: readonly string[];
  readonly created: readonly string[];
}

export interface ScriptedProblem {
  /** `sock-shop/payment`, or `node ip-…` for the affected tbot agent. */
  readonly where: string;
  readonly description: string;
}

export class SockShopCluster {
  private readonly workloads = new Map<string, DemoWorkload>();
  private readonly pods = new Map<string, PodState>();
  /** Issued leaves by key, so a re-sent certificate is the same bytes. */
  private readonly leaves = new Map<string, Promise<IssuedLeaf>>();

  private fleet!: TbotFleet;
  /** The node whose tbot agent runs the affected release. */
  affectedNode = '';

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
    const affected = mesh.nodeNames[0]!;
    cluster.affectedNode = affected;
    cluster.fleet = new TbotFleet({
      emulator,
      mesh,
      pki,
      clock,
      defaultVersion: FIXED_TBOT,
      versions: { [affected]: AFFECTED_TBOT },
      agentsSince: new Date(start.getTime() - 24 * 60 * MINUTE),
      agentSinceByNode: { [affected]: new Date(start.getTime() - AFFECTED_AGENT_AGE_MINUTES * MINUTE) },
      lifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS,
    });
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
    const onNode = [...this.pods.values()].filter((p) => p.workload.behaviour === 'tbot' && this.nodeOf(p.name) === this.affectedNode).map((p) => p.name);
    return [
      {
        where: `node ${this.affectedNode}`,
        description: `its tbot agent runs ${AFFECTED_TBOT}: renewed SVIDs are not sent to Envoy, so its ${onNode.length} tbot pods stop rotating at their first renewal (20 min after their SDS stream opened) and expire one lifetime after it opened`,
      },
      ...[...this.workloads.values()]
        .filter((w) => w.spec.behaviour !== 'tbot')
        .map((w) => ({ where: `${DEMO_NAMESPACE}/${w.spec.name}`, description: BEHAVIOUR_DESCRIPTIONS[w.spec.behaviour] })),
    ];
  }

  /** The tbot version on each node, now. */
  agentVersion(node: string): string | undefined {
    return this.fleet.agentOn(node)?.version;
  }

  private nodeOf(pod: string): string | undefined {
    return this.emulator.get('Pod', DEMO_NAMESPACE, pod)?.spec?.nodeName as string | undefined;
  }

  /**
   * The Deployment controller's part: every Deployment whose `restartedAt` annotation changed
   * gets a new ReplicaSet and new pods; the old ones are deleted.
   */
  reconcile(): { pods: PodReplacement[]; agents: AgentReplacement[] } {
    const now = this.clock();
    const replaced: PodReplacement[] = [];
    // The tbot DaemonSet controller: recreate deleted agents (the remediator's agent restart).
    const agents = this.fleet.reconcile();
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
        this.fleet.forget(DEMO_NAMESPACE, name);
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
      });
    }
    return { pods: replaced, agents };
  }

  /**
   * The operator follows the Slack advice: the tbot DaemonSet's image becomes `version`, and its
   * controller replaces every agent that runs another one; their Envoys reconnect.
   */
  upgradeTbot(version: string): AgentReplacement[] {
    if (!/^\d+\.\d+\.\d+$/.test(version)) throw new MeshCertWatchError('CONFIG', `not a tbot version: ${version}`);
    this.fleet.upgrade(version);
    return this.fleet.reconcile();
  }

  private track(workload: DemoWorkload, pod: KubeObject, startedAt: Date): void {
    const state: PodState = { name: pod.metadata.name, workload, startedAt };
    workload.pods.push(state);
    this.pods.set(state.name, state);
    if (workload.behaviour === 'tbot') this.fleet.serve(pod, { startedAt });
  }

  /** istio-proxy's answer at the demo's current instant. */
  private async exec(request: ExecRequest) {
    const pod = this.pods.get(request.pod);
    if (request.namespace !== DEMO_NAMESPACE || pod === undefined) return this.emulator.defaultExecHandler(request);
    if (this.fleet.isServed(DEMO_NAMESPACE, pod.name)) return this.fleet.exec(request);
    const { workload } = pod;
    const base = { namespace: DEMO_NAMESPACE, serviceAccount: workload.spec.name, lifetimeSeconds: CERTIFICATE_LIFETIME_SECONDS };
    let responses: Readonly<Record<string, ProxyResponse>>;
    switch (workload.behaviour) {
      case 'admin-unreachable':
      case 'tbot':
        responses = { [ACTIVE_SECRETS_PATH]: { stderr: 'Error: dial tcp 127.0.0.1:15000: connect: connection refused\n', exitCode: 1 } };
        break;
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
