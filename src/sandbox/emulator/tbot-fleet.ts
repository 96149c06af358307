/**
 * The tbot agents of an emulated cluster and the sidecars they serve, on a clock:
 *
 * - a DaemonSet (`app=tbot` in `teleport-system`) with one agent pod per node (Mesh.addTbotAgents);
 * - a stand-in DaemonSet controller (`reconcile`): an agent pod that was deleted (the remediator's
 *   agent restart) is recreated on its node with a new name; it is Ready at once unless the test
 *   holds that node (`holdNotReady`), and `upgrade` rolls the agents to a new image;
 * - each served sidecar's Envoy holds what its node's agent sent over its SDS stream. The stream
 *   opens when the pod starts and again whenever its node's agent (re)starts, and the first
 *   response on a stream carries a freshly issued SVID (shared research §4.4, §6, §8.7). Then:
 *   - a fixed tbot (>= 18.6.4 / 17.7.14) pushes a renewed SVID every renewal interval;
 *   - an affected tbot renews every interval but re-sends the SVID cached at stream open (new
 *     `version_info`, same serial): the pod stops rotating and expires one lifetime after its
 *     stream opened, unless the stream is reopened.
 *
 * `stuck` pods model the case an agent restart does not fix (their Envoy never reconnects).
 */
import { judgeTbotVersion } from '../../core/judgement/agents.js';
import type { ExecRequest, KubeApiEmulator, KubeObject } from './kube-api.js';
import { Mesh, tbotAgentPod, tbotContainer } from './mesh.js';
import type { IssuedLeaf } from './pki.js';
import { sidecarSecrets, type MeshPki } from './sidecar-secrets.js';

export const TBOT_NAMESPACE = 'teleport-system';
export const TBOT_DAEMONSET = 'tbot';

interface NodeAgent {
  name: string;
  version: string;
  /** When it started serving (Ready): streams on the node reopen at this instant. */
  servingSince: Date | null;
  generation: number;
}

interface ServedPod {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly serviceAccount: string;
  readonly startedAt: Date;
  /** The Envoy never reconnects after its first stream (what an agent restart cannot fix). */
  readonly stuck: boolean;
}

export interface AgentReplacement {
  readonly node: string;
  readonly removed: string | null;
  readonly created: string;
  readonly version: string;
  readonly ready: boolean;
}

export interface TbotFleetOptions {
  readonly emulator: KubeApiEmulator;
  readonly mesh: Mesh;
  readonly pki: MeshPki;
  readonly clock: () => Date;
  /** Version per node name; others get `defaultVersion`. */
  readonly versions?: Readonly<Record<string, string>>;
  /** @default 18.6.4 */
  readonly defaultVersion?: string;
  /** tbot `renewal_interval`. @default 1200 (20 min) */
  readonly renewalIntervalSeconds?: number;
  /** tbot `credential_ttl`. @default 3600 */
  readonly lifetimeSeconds?: number;
  /** When the agents started serving. @default the clock's now */
  readonly agentsSince?: Date;
  /** Per node name, when its agent started serving (overrides `agentsSince`). */
  readonly agentSinceByNode?: Readonly<Record<string, Date>>;
}

export class TbotFleet {
  private readonly agents = new Map<string, NodeAgent>();
  private readonly served = new Map<string, ServedPod>();
  private readonly held = new Set<string>();
  private readonly leaves = new Map<string, Promise<IssuedLeaf>>();
  private readonly renewalMs: number;
  private readonly lifetimeSeconds: number;
  private readonly daemonSet: KubeObject;
  /** The template image version the agents were last rolled to (a new one rolls them all). */
  private templateVersion: string | null;

  constructor(private readonly options: TbotFleetOptions) {
    this.renewalMs = (options.renewalIntervalSeconds ?? 1200) * 1000;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
    const scripted = options.mesh.addTbotAgents({ defaultVersion: options.defaultVersion ?? '18.6.4', versions: options.versions ?? {} });
    this.daemonSet = scripted.workload;
    this.templateVersion = versionOfContainers((scripted.workload.spec?.template as { spec?: { containers?: unknown[] } }).spec?.containers);
    const since = options.agentsSince ?? options.clock();
    for (const pod of scripted.pods) {
      const node = String(pod.spec?.nodeName);
      this.agents.set(node, { name: pod.metadata.name, version: versionOf(pod), servingSince: options.agentSinceByNode?.[node] ?? since, generation: 0 });
    }
  }

  /** Registers a pod's sidecar as served by its node's agent (the pod must exist in the emulator). */
  serve(pod: KubeObject, options: { readonly startedAt?: Date; readonly stuck?: boolean } = {}): void {
    const namespace = pod.metadata.namespace!;
    this.served.set(`${namespace}/${pod.metadata.name}`, {
      namespace,
      name: pod.metadata.name,
      node: String(pod.spec?.nodeName),
      serviceAccount: String(pod.spec?.serviceAccountName ?? 'default'),
      startedAt: options.startedAt ?? this.options.clock(),
      stuck: options.stuck ?? false,
    });
  }

  forget(namespace: string, name: string): void {
    this.served.delete(`${namespace}/${name}`);
  }

  isServed(namespace: string, name: string): boolean {
    return this.served.has(`${namespace}/${name}`);
  }

  agentOn(node: string): { readonly name: string; readonly version: string; readonly ready: boolean } | undefined {
    const agent = this.agents.get(node);
    return agent ? { name: agent.name, version: agent.version, ready: agent.servingSince !== null } : undefined;
  }

  /** Replacement agents on this node stay not Ready until `releaseReady`. */
  holdNotReady(node: string): void {
    this.held.add(node);
  }

  releaseReady(node: string): void {
    this.held.delete(node);
  }

  /** The node names that have an agent. */
  get nodes(): readonly string[] {
    return [...this.agents.keys()];
  }

  /** The operator upgrades tbot: the DaemonSet's image changes; `reconcile` rolls every agent. */
  upgrade(version: string): void {
    // An upgrade rolls every agent not on `version`, whatever the template said before.
    this.templateVersion = null;
    const current = this.options.emulator.get('DaemonSet', TBOT_NAMESPACE, TBOT_DAEMONSET)!;
    const template = current.spec?.template as { metadata?: unknown; spec?: Record<string, unknown> };
    this.options.emulator.apply({
      ...current,
      spec: { ...current.spec, template: { ...template, spec: { ...template.spec, containers: [tbotContainer(version)] } } },
    });
  }

  /**
   * The DaemonSet controller's part: recreate deleted agents, roll agents whose image differs
   * from the template, and mark held-back replacements Ready once released.
   */
  reconcile(): AgentReplacement[] {
    const { emulator, clock } = this.options;
    const now = clock();
    const daemonSet = emulator.get('DaemonSet', TBOT_NAMESPACE, TBOT_DAEMONSET)!;
    const template = versionOfContainers((daemonSet.spec?.template as { spec?: { containers?: unknown[] } }).spec?.containers);
    const rollout = template !== null && template !== this.templateVersion;
    const wanted = rollout ? template : null;
    const changes: AgentReplacement[] = [];
    for (const [node, agent] of this.agents) {
      const pod = emulator.get('Pod', TBOT_NAMESPACE, agent.name);
      const outdatedImage = wanted !== null && agent.version !== wanted;
      if (pod !== undefined && !outdatedImage) {
        if (agent.servingSince === null && !this.held.has(node)) {
          this.applyAgentPod(node, agent, true);
          agent.servingSince = now;
          changes.push({ node, removed: null, created: agent.name, version: agent.version, ready: true });
        }
        continue;
      }
      if (pod !== undefined) emulator.remove('Pod', TBOT_NAMESPACE, agent.name);
      const removed = agent.name;
      agent.generation += 1;
      agent.version = wanted ?? agent.version;
      agent.name = `${TBOT_DAEMONSET}-${suffix(`${node}/${agent.generation}`)}`;
      const ready = !this.held.has(node);
      agent.servingSince = ready ? now : null;
      this.applyAgentPod(node, agent, ready);
      changes.push({ node, removed, created: agent.name, version: agent.version, ready });
    }
    if (rollout) this.templateVersion = template;
    this.refreshDaemonSetStatus();
    return changes;
  }

  /** The exec handler: Envoy's secrets for served pods, the emulator's default for the rest. */
  async exec(request: ExecRequest) {
    const pod = this.served.get(`${request.namespace}/${request.pod}`);
    if (pod === undefined) return this.options.emulator.defaultExecHandler(request);
    const responses = await this.secretsOf(pod);
    this.options.emulator.setProxyResponses(pod.namespace, pod.name, responses);
    return this.options.emulator.defaultExecHandler(request);
  }

  /** When the pod's current SDS stream opened. */
  streamOpenedAt(pod: ServedPod): Date {
    const agent = this.agents.get(pod.node);
    const since = agent?.servingSince ?? null;
    if (pod.stuck || since === null || since.getTime() <= pod.startedAt.getTime()) return pod.startedAt;
    return since;
  }

  private async secretsOf(pod: ServedPod): Promise<Readonly<Record<string, string>>> {
    const now = this.options.clock().getTime();
    const agent = this.agents.get(pod.node);
    const opened = this.streamOpenedAt(pod).getTime();
    const ticks = Math.max(0, Math.floor((now - opened) / this.renewalMs));
    const lastTick = opened + ticks * this.renewalMs;
    const affected = agent === undefined || judgeTbotVersion(agent.version).bugs.length > 0;
    // Affected: the SVID issued when the stream opened, re-sent on every tick. Fixed: the renewed one.
    const issuedAt = new Date(affected ? opened : lastTick);
    const pushedAt = new Date(agent?.servingSince === null ? Math.min(lastTick, now) : lastTick);
    const key = `${pod.namespace}/${pod.name}/${issuedAt.toISOString()}`;
    const cert = {
      servedBy: 'tbot' as const,
      namespace: pod.namespace,
      serviceAccount: pod.serviceAccount,
      issuedAt,
      pushedAt,
      lifetimeSeconds: this.lifetimeSeconds,
    };
    let leaf = this.leaves.get(key);
    if (leaf === undefined) {
      leaf = sidecarSecrets(this.options.pki, cert).then((issued) => issued.leaf!);
      this.leaves.set(key, leaf);
    }
    return (await sidecarSecrets(this.options.pki, { ...cert, leaf: await leaf })).responses;
  }

  /** The current leaf serial a served pod's Envoy holds (what the next exec will show). */
  async serialOf(namespace: string, name: string): Promise<string> {
    const pod = this.served.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`pod ${namespace}/${name} is not served by the fleet`);
    await this.secretsOf(pod);
    const opened = this.streamOpenedAt(pod).getTime();
    const agent = this.agents.get(pod.node);
    const affected = agent === undefined || judgeTbotVersion(agent.version).bugs.length > 0;
    const ticks = Math.max(0, Math.floor((this.options.clock().getTime() - opened) / this.renewalMs));
    const issuedAt = new Date(affected ? opened : opened + ticks * this.renewalMs);
    return (await this.leaves.get(`${namespace}/${name}/${issuedAt.toISOString()}`)!).serialNumber;
  }

  private applyAgentPod(node: string, agent: NodeAgent, ready: boolean): void {
    const now = this.options.clock();
    const index = [...this.agents.keys()].indexOf(node);
    this.options.emulator.apply(
      tbotAgentPod({
        daemonSet: this.daemonSet,
        namespace: TBOT_NAMESPACE,
        name: agent.name,
        node,
        version: agent.version,
        labels: { app: TBOT_DAEMONSET },
        startTime: now,
        index: index + agent.generation * 100,
        ready,
      }),
    );
  }

  private refreshDaemonSetStatus(): void {
    const { emulator } = this.options;
    const daemonSet = emulator.get('DaemonSet', TBOT_NAMESPACE, TBOT_DAEMONSET)!;
    const desired = this.agents.size;
    const ready = [...this.agents.values()].filter((a) => a.servingSince !== null).length;
    emulator.apply({
      ...daemonSet,
      status: {
        ...daemonSet.status,
        observedGeneration: daemonSet.metadata.generation ?? 1,
        desiredNumberScheduled: desired,
        currentNumberScheduled: desired,
        updatedNumberScheduled: desired,
        numberReady: ready,
        numberAvailable: ready,
        numberUnavailable: desired - ready,
      },
    });
  }
}

function versionOfContainers(containers: readonly unknown[] | undefined): string | null {
  const tbot = (containers ?? []).find((c) => (c as { name?: string }).name === 'tbot') as { image?: string } | undefined;
  const tag = tbot?.image?.split(':').at(-1);
  return tag ?? null;
}

function versionOf(pod: KubeObject): string {
  return versionOfContainers(pod.spec?.containers as unknown[] | undefined) ?? 'unknown';
}

function suffix(seed: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let hash = 2166136261;
  for (const ch of seed) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += alphabet[hash % alphabet.length];
    hash = Math.floor(hash / alphabet.length) + i * 7919;
  }
  return out;
}
