/**
 * Scripts an Istio-on-EKS cluster into the Kubernetes API emulator: namespaces and workloads
 * with the objects the real controllers would have created (Deployment -> ReplicaSet -> Pods,
 * CronJob -> Job -> Pods, Argo Rollout -> ReplicaSet -> Pods, ...), owner references with
 * `controller: true`, and pods as the Istio injector leaves them (the `spire` template: the
 * SPIFFE CSI workload socket; `istio-proxy` as a container or as a native sidecar).
 *
 * Everything is deterministic (names, uids, nodes, IPs) so tests and the demo are reproducible.
 */
import { createHash } from 'node:crypto';
import type { KubeObject, OwnerReference } from './kube-resources.js';
import { kubeTimestamp, namespaceObject } from './kube-store.js';

/** Anything that stores objects: the emulator, or a recorder in unit tests. */
export interface MeshTarget {
  apply(obj: KubeObject): KubeObject;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodOptions {
  /** Default: the workload's name. */
  readonly serviceAccount?: string;
  /** Default `Running`. */
  readonly podPhase?: PodPhase;
  /** `istio-proxy` in `spec.initContainers` with `restartPolicy: Always` (Kubernetes native sidecar). */
  readonly nativeSidecar?: boolean;
  /** Default true; false = no sidecar at all (the watcher must not sample it). */
  readonly injected?: boolean;
  /** Add the `workload-certs` emptyDir next to the SPIFFE socket (the file-serving failure mode). */
  readonly workloadCertsVolume?: boolean;
  /** Extra pod volumes, appended after the injected ones. */
  readonly volumes?: readonly Record<string, unknown>[];
  readonly podLabels?: Readonly<Record<string, string>>;
  readonly podAnnotations?: Readonly<Record<string, string>>;
}

export interface WorkloadOptions extends PodOptions {
  /** Pods to create (DaemonSet: nodes to run on). Default 1 (DaemonSet: every node). */
  readonly replicas?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]`, as `kubectl rollout restart` sets it. */
  readonly restartedAt?: string;
  /** Deployment/Rollout `spec.paused`. */
  readonly paused?: boolean;
}

export interface ScriptedWorkload {
  /** The top-level object (Deployment, StatefulSet, DaemonSet, CronJob, Job, Rollout), or the pod for bare pods. */
  readonly workload: KubeObject;
  /** ReplicaSet or Job between the workload and its pods, when the real controller makes one. */
  readonly intermediate?: KubeObject;
  readonly pods: readonly KubeObject[];
}

export interface TbotAgentsOptions {
  /** @default teleport-system */
  readonly namespace?: string;
  /** DaemonSet name and `app` label. @default tbot */
  readonly name?: string;
  /** Version on nodes not in `versions`. @default 18.6.4 */
  readonly defaultVersion?: string;
  /** Version per node name. */
  readonly versions?: Readonly<Record<string, string>>;
  /** Create the namespace too. @default true */
  readonly createNamespace?: boolean;
  /** Seeds the pod names (a recreated agent gets a new name). @default 0 */
  readonly generation?: number;
}

export interface MeshOptions {
  /** Worker nodes pods are spread over, round robin. Default 3. */
  readonly nodeCount?: number;
  /** `status.startTime` and container start times. Default: now. */
  readonly startTime?: Date;
  readonly proxyImage?: string;
}

/** Kubernetes' `rand.SafeEncodeString` alphabet: no vowels, no look-alike characters. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function safeSuffix(seed: string, length: number): string {
  const bytes = digest(seed);
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[bytes[i]! % SAFE_ALPHABET.length];
  return out;
}

/** A stable UUID-shaped uid per object identity. */
export function deterministicUid(kind: string, namespace: string, name: string): string {
  const hex = digest(`${kind}/${namespace}/${name}`).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function ownerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export class Mesh {
  private readonly nodes: string[];
  private readonly startTime: Date;
  private readonly proxyImage: string;
  private podCount = 0;

  constructor(
    private readonly target: MeshTarget,
    options: MeshOptions = {},
  ) {
    const nodeCount = options.nodeCount ?? 3;
    this.nodes = Array.from({ length: nodeCount }, (_, i) => `ip-10-0-${Math.floor(i / 200) + 1}-${(i % 200) + 10}.ec2.internal`);
    this.startTime = options.startTime ?? new Date();
    this.proxyImage = options.proxyImage ?? 'docker.io/istio/proxyv2:1.24.2';
  }

  get nodeNames(): readonly string[] {
    return this.nodes;
  }

  addNamespace(
    name: string,
    options: { labels?: Readonly<Record<string, string>>; annotations?: Readonly<Record<string, string>>; istioInjection?: boolean } = {},
  ): KubeObject {
    const labels: Record<string, string> = { ...options.labels };
    if (options.istioInjection !== false) labels['istio-injection'] = 'enabled';
    return this.target.apply(
      namespaceObject(name, labels, options.annotations === undefined ? undefined : { ...options.annotations }),
    );
  }

  addDeployment(namespace: string, name: string, options: WorkloadOptions = {}): ScriptedWorkload {
    const replicas = options.replicas ?? 1;
    const hash = safeSuffix(`template/${namespace}/${name}/${options.restartedAt ?? ''}`, 10);
    const selector = { app: name };
    const deployment = this.target.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: this.meta('Deployment', namespace, name, options, { 'deployment.kubernetes.io/revision': '1' }),
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: this.template(selector, options),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        ...(options.paused === undefined ? {} : { paused: options.paused }),
      },
      status: {
        observedGeneration: 1,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      },
    });
    const replicaSet = this.addReplicaSet(deployment, hash, 'pod-template-hash', options);
    const pods = this.addPods(replicaSet, options, replicas, (i) => `${replicaSet.metadata.name}-${safeSuffix(`${replicaSet.metadata.name}/${i}`, 5)}`, {
      'pod-template-hash': hash,
    });
    return { workload: deployment, intermediate: replicaSet, pods };
  }

  addRollout(namespace: string, name: string, options: WorkloadOptions = {}): ScriptedWorkload {
    const replicas = options.replicas ?? 1;
    const hash = safeSuffix(`rollout/${namespace}/${name}/${options.restartedAt ?? ''}`, 10);
    const selector = { app: name };
    const rollout = this.target.apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: this.meta('Rollout', namespace, name, options),
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: this.template(selector, options),
        strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '1m' } }] } },
        ...(options.paused === undefined ? {} : { paused: options.paused }),
        ...(options.restartedAt === undefined ? {} : { restartAt: options.restartedAt }),
      },
      status: {
        observedGeneration: '1',
        phase: 'Healthy',
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        currentPodHash: hash,
        stableRS: hash,
      },
    });
    const replicaSet = this.addReplicaSet(rollout, hash, 'rollouts-pod-template-hash', options);
    const pods = this.addPods(replicaSet, options, replicas, (i) => `${replicaSet.metadata.name}-${safeSuffix(`${replicaSet.metadata.name}/${i}`, 5)}`, {
      'rollouts-pod-template-hash': hash,
    });
    return { workload: rollout, intermediate: replicaSet, pods };
  }

  addStatefulSet(namespace: string, name: string, options: WorkloadOptions = {}): ScriptedWorkload {
    const replicas = options.replicas ?? 1;
    const revision = `${name}-${safeSuffix(`sts/${namespace}/${name}`, 10)}`;
    const selector = { app: name };
    const statefulSet = this.target.apply({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: this.meta('StatefulSet', namespace, name, options),
      spec: {
        replicas,
        serviceName: name,
        selector: { matchLabels: selector },
        template: this.template(selector, options),
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      },
      status: {
        observedGeneration: 1,
        replicas,
        readyReplicas: replicas,
        currentReplicas: replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
        currentRevision: revision,
        updateRevision: revision,
      },
    });
    const pods = this.addPods(statefulSet, options, replicas, (i) => `${name}-${i}`, { 'controller-revision-hash': revision }, (i, podName) => ({
      'statefulset.kubernetes.io/pod-name': podName,
      'apps.kubernetes.io/pod-index': String(i),
    }));
    return { workload: statefulSet, pods };
  }

  addDaemonSet(namespace: string, name: string, options: WorkloadOptions = {}): ScriptedWorkload {
    const replicas = options.replicas ?? this.nodes.length;
    const selector = { app: name };
    const daemonSet = this.target.apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: this.meta('DaemonSet', namespace, name, options, { 'deprecated.daemonset.template.generation': '1' }),
      spec: {
        selector: { matchLabels: selector },
        template: this.template(selector, options),
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      },
      status: {
        observedGeneration: 1,
        currentNumberScheduled: replicas,
        desiredNumberScheduled: replicas,
        numberReady: replicas,
        numberAvailable: replicas,
        updatedNumberScheduled: replicas,
        numberMisscheduled: 0,
      },
    });
    const revision = safeSuffix(`ds/${namespace}/${name}`, 10);
    const pods = this.addPods(
      daemonSet,
      options,
      replicas,
      (i) => `${name}-${safeSuffix(`${name}/${i}`, 5)}`,
      { 'controller-revision-hash': revision, 'pod-template-generation': '1' },
      undefined,
      (i) => this.nodes[i % this.nodes.length]!,
    );
    return { workload: daemonSet, pods };
  }

  /**
   * The tbot agents: a DaemonSet (labels `app=tbot`) with one pod per node, its container `tbot`
   * running `public.ecr.aws/gravitational/tbot-distroless:<version>`. `versions` gives one
   * version for every node, or per node name (nodes not named get `defaultVersion`).
   */
  addTbotAgents(options: TbotAgentsOptions = {}): ScriptedWorkload {
    const namespace = options.namespace ?? 'teleport-system';
    const name = options.name ?? 'tbot';
    if (options.createNamespace !== false) this.addNamespace(namespace, { istioInjection: false });
    const selector = { app: name };
    const revision = safeSuffix(`ds/${namespace}/${name}`, 10);
    const defaultVersion = options.defaultVersion ?? '18.6.4';
    const versionOf = (node: string): string => options.versions?.[node] ?? defaultVersion;
    const daemonSet = this.target.apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace, uid: deterministicUid('DaemonSet', namespace, name), labels: { ...selector }, annotations: { 'deprecated.daemonset.template.generation': '1' } },
      spec: {
        selector: { matchLabels: selector },
        template: { metadata: { labels: { ...selector } }, spec: { serviceAccountName: name, containers: [tbotContainer(defaultVersion)] } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      },
      status: {
        observedGeneration: 1,
        currentNumberScheduled: this.nodes.length,
        desiredNumberScheduled: this.nodes.length,
        numberReady: this.nodes.length,
        numberAvailable: this.nodes.length,
        updatedNumberScheduled: this.nodes.length,
        numberMisscheduled: 0,
        numberUnavailable: 0,
      },
    });
    const pods = this.nodes.map((node, index) =>
      this.target.apply(
        tbotAgentPod({
          daemonSet,
          namespace,
          name: `${name}-${safeSuffix(`${name}/${node}/${options.generation ?? 0}`, 5)}`,
          node,
          version: versionOf(node),
          labels: { ...selector, 'controller-revision-hash': revision, 'pod-template-generation': '1' },
          startTime: this.startTime,
          index,
          ready: true,
        }),
      ),
    );
    return { workload: daemonSet, pods };
  }

  /** A CronJob with one active Job whose pods run `replicas` in parallel. */
  addCronJob(namespace: string, name: string, options: WorkloadOptions & { schedule?: string } = {}): ScriptedWorkload {
    const selector = { app: name };
    const cronJob = this.target.apply({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: this.meta('CronJob', namespace, name, options),
      spec: {
        schedule: options.schedule ?? '*/45 * * * *',
        concurrencyPolicy: 'Forbid',
        suspend: false,
        jobTemplate: { spec: { template: this.template(selector, options, 'Never') } },
      },
      status: { lastScheduleTime: kubeTimestamp(this.startTime) },
    });
    const jobName = `${name}-${Math.floor(this.startTime.getTime() / 60_000)}`;
    const { workload: job, pods } = this.job(namespace, jobName, options, cronJob);
    return { workload: cronJob, intermediate: job, pods };
  }

  addJob(namespace: string, name: string, options: WorkloadOptions = {}): ScriptedWorkload {
    return this.job(namespace, name, options, undefined);
  }

  addBarePod(namespace: string, name: string, options: PodOptions = {}): ScriptedWorkload {
    const pod = this.target.apply(this.pod(namespace, name, options, {}, undefined, this.nextNode(), 'Always', name));
    return { workload: pod, pods: [pod] };
  }

  private job(namespace: string, name: string, options: WorkloadOptions, owner: KubeObject | undefined): ScriptedWorkload {
    const replicas = options.replicas ?? 1;
    const uid = deterministicUid('Job', namespace, name);
    const jobLabels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
    const job = this.target.apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...this.meta('Job', namespace, name, options),
        uid,
        ...(owner === undefined ? {} : { ownerReferences: [ownerRef(owner)] }),
      },
      spec: {
        parallelism: replicas,
        completions: replicas,
        backoffLimit: 6,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: this.template(jobLabels, options, 'Never'),
      },
      status: { active: replicas, startTime: kubeTimestamp(this.startTime) },
    });
    const pods = this.addPods(job, options, replicas, (i) => `${name}-${safeSuffix(`${name}/${i}`, 5)}`, jobLabels, undefined, undefined, 'Never');
    return { workload: job, pods };
  }

  private addReplicaSet(owner: KubeObject, hash: string, hashLabel: string, options: WorkloadOptions): KubeObject {
    const { namespace, name: ownerName } = owner.metadata;
    const name = `${ownerName}-${hash}`;
    const replicas = options.replicas ?? 1;
    const selector = { app: ownerName, [hashLabel]: hash };
    return this.target.apply({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace,
        uid: deterministicUid('ReplicaSet', namespace!, name),
        labels: selector,
        annotations: { 'deployment.kubernetes.io/revision': '1' },
        ownerReferences: [ownerRef(owner)],
      },
      spec: { replicas, selector: { matchLabels: selector }, template: this.template(selector, options) },
      status: { replicas, readyReplicas: replicas, availableReplicas: replicas, fullyLabeledReplicas: replicas, observedGeneration: 1 },
    });
  }

  private addPods(
    owner: KubeObject,
    options: PodOptions,
    count: number,
    nameOf: (index: number) => string,
    extraLabels: Record<string, string>,
    perPodLabels?: (index: number, podName: string) => Record<string, string>,
    nodeOf?: (index: number) => string,
    restartPolicy: 'Always' | 'Never' = 'Always',
  ): KubeObject[] {
    const pods: KubeObject[] = [];
    const app = owner.metadata.labels?.app ?? owner.metadata.name;
    for (let i = 0; i < count; i++) {
      const name = nameOf(i);
      const labels = { app, ...extraLabels, ...perPodLabels?.(i, name) };
      const node = nodeOf?.(i) ?? this.nextNode();
      pods.push(this.target.apply(this.pod(owner.metadata.namespace!, name, options, labels, owner, node, restartPolicy, app)));
    }
    return pods;
  }

  private nextNode(): string {
    return this.nodes[this.podCount % this.nodes.length]!;
  }

  private meta(
    kind: string,
    namespace: string,
    name: string,
    options: WorkloadOptions,
    annotations: Record<string, string> = {},
  ): KubeObject['metadata'] {
    const merged = { ...annotations, ...options.annotations };
    return {
      name,
      namespace,
      uid: deterministicUid(kind, namespace, name),
      labels: { app: name, ...options.labels },
      ...(Object.keys(merged).length === 0 ? {} : { annotations: merged }),
    };
  }

  /** The pod template as stored in the workload: before injection, so without istio-proxy. */
  private template(labels: Record<string, string>, options: WorkloadOptions, restartPolicy: 'Always' | 'Never' = 'Always'): Record<string, unknown> {
    const annotations: Record<string, string> = { ...options.podAnnotations };
    if (options.restartedAt !== undefined) annotations['kubectl.kubernetes.io/restartedAt'] = options.restartedAt;
    const app = labels.app ?? labels['job-name'] ?? 'app';
    return {
      metadata: { labels: { ...labels, ...options.podLabels }, ...(Object.keys(annotations).length === 0 ? {} : { annotations }) },
      spec: {
        serviceAccountName: options.serviceAccount ?? app,
        containers: [appContainer(app)],
        restartPolicy,
        ...(options.volumes === undefined ? {} : { volumes: [...options.volumes] }),
      },
    };
  }

  private pod(
    namespace: string,
    name: string,
    options: PodOptions,
    labels: Record<string, string>,
    owner: KubeObject | undefined,
    nodeName: string,
    restartPolicy: 'Always' | 'Never',
    app: string,
  ): KubeObject {
    const index = this.podCount++;
    const injected = options.injected !== false;
    const phase = options.podPhase ?? 'Running';
    const started = kubeTimestamp(this.startTime);
    const podLabels: Record<string, string> = { ...labels, ...options.podLabels };
    const annotations: Record<string, string> = { ...options.podAnnotations };
    const containers: Record<string, unknown>[] = [appContainer(app)];
    const initContainers: Record<string, unknown>[] = [];
    const volumes: Record<string, unknown>[] = [];
    if (injected) {
      podLabels['security.istio.io/tlsMode'] = 'istio';
      podLabels['service.istio.io/canonical-name'] = app;
      podLabels['service.istio.io/canonical-revision'] = 'latest';
      podLabels['spiffe.io/spire-managed-identity'] = 'true';
      initContainers.push({ name: 'istio-init', image: this.proxyImage, args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337'] });
      const proxy = this.proxyContainer(options);
      if (options.nativeSidecar) initContainers.push({ ...proxy, restartPolicy: 'Always' });
      else containers.push(proxy);
      volumes.push(...this.injectedVolumes(options));
      annotations['sidecar.istio.io/status'] = JSON.stringify({
        initContainers: options.nativeSidecar ? ['istio-init', 'istio-proxy'] : ['istio-init'],
        containers: options.nativeSidecar ? null : ['istio-proxy'],
        volumes: volumes.map((v) => v.name),
        imagePullSecrets: null,
        revision: 'default',
      });
      annotations['inject.istio.io/templates'] = 'sidecar,spire';
    }
    volumes.push(...(options.volumes ?? []));
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        uid: deterministicUid('Pod', namespace, name),
        labels: podLabels,
        ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        ...(owner === undefined ? {} : { ownerReferences: [ownerRef(owner)] }),
      },
      spec: {
        serviceAccountName: options.serviceAccount ?? app,
        nodeName,
        restartPolicy,
        ...(initContainers.length === 0 ? {} : { initContainers }),
        containers,
        volumes,
      },
      status: podStatus(phase, containers, initContainers, started, index, nodeName),
    };
  }

  private proxyContainer(options: PodOptions): Record<string, unknown> {
    const mounts: Record<string, unknown>[] = [
      { name: 'workload-socket', mountPath: '/run/secrets/workload-spiffe-uds', readOnly: true },
      { name: 'istio-envoy', mountPath: '/etc/istio/proxy' },
      { name: 'istio-data', mountPath: '/var/lib/istio/data' },
      { name: 'istio-podinfo', mountPath: '/etc/istio/pod' },
    ];
    if (options.workloadCertsVolume) mounts.push({ name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' });
    return {
      name: 'istio-proxy',
      image: this.proxyImage,
      args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning'],
      ports: [{ name: 'http-envoy-prom', containerPort: 15090, protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
      volumeMounts: mounts,
    };
  }

  private injectedVolumes(options: PodOptions): Record<string, unknown>[] {
    const volumes: Record<string, unknown>[] = [
      { name: 'workload-socket', csi: { driver: 'csi.spiffe.io', readOnly: true } },
      { name: 'credential-socket', emptyDir: {} },
      { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
      { name: 'istio-data', emptyDir: {} },
      { name: 'istio-podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
    ];
    if (options.workloadCertsVolume) volumes.push({ name: 'workload-certs', emptyDir: {} });
    return volumes;
  }
}

function appContainer(app: string): Record<string, unknown> {
  return {
    name: app,
    image: `registry.example.com/${app}:1.0.0`,
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
  };
}

function containerStatus(container: Record<string, unknown>, phase: PodPhase, started: string, index: number): Record<string, unknown> {
  const name = String(container.name);
  const running = phase === 'Running';
  const state = running
    ? { running: { startedAt: started } }
    : phase === 'Pending'
      ? { waiting: { reason: 'ContainerCreating' } }
      : { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: started, finishedAt: started } };
  return {
    name,
    image: container.image,
    imageID: '',
    ...(running ? { containerID: `containerd://${digest(`${name}/${index}`).toString('hex')}` } : {}),
    ready: running,
    started: running,
    restartCount: 0,
    state,
  };
}

function podStatus(
  phase: PodPhase,
  containers: readonly Record<string, unknown>[],
  initContainers: readonly Record<string, unknown>[],
  started: string,
  index: number,
  nodeName: string,
): Record<string, unknown> {
  const running = phase === 'Running';
  const condition = (type: string, status: boolean): Record<string, unknown> => ({ type, status: status ? 'True' : 'False', lastTransitionTime: started });
  const initStatuses = initContainers.map((c) =>
    c.restartPolicy === 'Always'
      ? containerStatus(c, phase, started, index)
      : { ...containerStatus(c, 'Succeeded', started, index), ready: true, started: false },
  );
  return {
    phase,
    hostIP: nodeName.replace(/^ip-(\d+)-(\d+)-(\d+)-(\d+)\..*$/, '$1.$2.$3.$4'),
    podIP: `10.1.${Math.floor(index / 250) % 256}.${(index % 250) + 2}`,
    startTime: started,
    qosClass: 'BestEffort',
    conditions: [
      condition('PodScheduled', true),
      condition('Initialized', phase !== 'Pending'),
      condition('ContainersReady', running),
      condition('Ready', running),
    ],
    ...(initStatuses.length === 0 ? {} : { initContainerStatuses: initStatuses }),
    containerStatuses: containers.map((c) => containerStatus(c, phase, started, index)),
  };
}

export function tbotContainer(version: string): Record<string, unknown> {
  return {
    name: 'tbot',
    image: `public.ecr.aws/gravitational/tbot-distroless:${version}`,
    args: ['start', '-c', '/config/tbot.yaml'],
    volumeMounts: [{ name: 'spiffe-workload-api', mountPath: '/run/tbot/sockets' }],
  };
}

/** One tbot agent pod of `daemonSet` on `node` (also what the stand-in DaemonSet controller creates). */
export function tbotAgentPod(input: {
  readonly daemonSet: KubeObject;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startTime: Date;
  readonly index: number;
  readonly ready: boolean;
}): KubeObject {
  const started = kubeTimestamp(input.startTime);
  const container = tbotContainer(input.version);
  const status = podStatus(input.ready ? 'Running' : 'Pending', [container], [], started, 10_000 + input.index, input.node);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      uid: deterministicUid('Pod', input.namespace, input.name),
      creationTimestamp: started,
      labels: { ...input.labels },
      ownerReferences: [ownerRef(input.daemonSet)],
    },
    spec: {
      serviceAccountName: input.daemonSet.metadata.name,
      nodeName: input.node,
      restartPolicy: 'Always',
      containers: [container],
      volumes: [{ name: 'spiffe-workload-api', hostPath: { path: '/run/tbot/sockets', type: 'DirectoryOrCreate' } }],
    },
    status,
  };
}
